import json
import shutil
from pathlib import Path

import numpy as np

from engage.cli import main
from monitor.perception.model import ModelCard, card_path_for
from tests.training.fer_fixtures import write_ferplus, write_image_folders
from training.evaluate import metrics
from training.labels import LabelMapping
from training.selection import RULES, WHOLE, Scores, judge, networks

RULE = RULES["back-row"]


def scores(accuracy: float, consensus: float | None = None) -> Scores:
    """Metrics of 1,000 faces scored right at the given accuracy."""

    def scored(share: float) -> object:
        labels = np.arange(1000) % 3
        predicted = labels.copy()
        predicted[: round((1 - share) * 1000)] += 1
        return metrics(labels, predicted % 3)

    return Scores(ferplus=scored(accuracy), consensus=scored(accuracy if consensus is None else consensus))


def by_size(whole: float, at_32: float, at_24: float, consensus: float | None = None) -> dict[int, Scores]:
    return {WHOLE: scores(whole, consensus), 32: scores(at_32), 24: scores(at_24)}


def test_a_candidate_ships_only_with_two_points_at_each_small_size_and_no_loss_on_whole_faces():
    incumbent = by_size(0.867, 0.841, 0.780)
    bias = np.array([0.0, 0.1, 0.2])

    def verdict(**candidate: float) -> tuple[bool, list[bool]]:
        result = judge(by_size(**candidate), incumbent, RULE, bias)
        return result.ships, [check.passed for check in result.checks]

    assert verdict(whole=0.863, at_32=0.861, at_24=0.800) == (True, [True] * 4)  # exactly +2 and -0.4 points
    assert verdict(whole=0.870, at_32=0.860, at_24=0.830) == (False, [False, True, True, True])  # 32 px: +1.9
    assert verdict(whole=0.870, at_32=0.870, at_24=0.799) == (False, [True, False, True, True])
    assert verdict(whole=0.861, at_32=0.870, at_24=0.830) == (False, [True, True, False, False])  # whole: -0.6
    assert verdict(whole=0.867, at_32=0.870, at_24=0.830, consensus=0.861) == (False, [True, True, True, False])
    assert judge(by_size(0.9, 0.9, 0.9), incumbent, RULE, bias).candidate_bias == (0.0, 0.1, 0.2)


def test_by_size_a_candidate_gains_a_point_at_24_px_loses_little_elsewhere_and_costs_no_more():
    incumbent = by_size(0.876, 0.862, 0.828)

    def verdict(cost: tuple[int, int] = (2, 2), **candidate: float) -> list[bool]:
        return [
            check.passed for check in judge(by_size(**candidate), incumbent, RULES["by-size"], np.zeros(3), cost).checks
        ]

    assert verdict(whole=0.871, at_32=0.857, at_24=0.838) == [True] * 5  # -0.5, -0.5, +1.0 points
    assert verdict(whole=0.876, at_32=0.856, at_24=0.850) == [False, True, True, True, True]
    assert verdict(whole=0.876, at_32=0.862, at_24=0.837) == [True, False, True, True, True]
    assert verdict(whole=0.880, at_32=0.870, at_24=0.850, cost=(3, 2)) == [True] * 4 + [False]
    assert verdict(whole=0.880, at_32=0.870, at_24=0.850, cost=(1, 2))[-1]  # cheaper passes


def test_small_face_recall_a_candidate_lifts_the_weakest_class_at_24_px_and_loses_little_accuracy():
    labels = np.arange(1000) % 3

    def scored(accuracy: float, weakest: float) -> Scores:
        """Metrics of 1,000 faces: class 2 recalled at `weakest`, the others' misses making up the accuracy."""
        predicted = labels.copy()
        negatives = np.flatnonzero(labels == 2)
        predicted[negatives[: round((1 - weakest) * len(negatives))]] = 1
        misses = round((1 - accuracy) * 1000) - round((1 - weakest) * len(negatives))
        predicted[np.flatnonzero(labels != 2)[:misses]] = 2
        return Scores(ferplus=metrics(labels, predicted), consensus=metrics(labels, predicted))

    incumbent = {WHOLE: scored(0.877, 0.85), 32: scored(0.865, 0.82), 24: scored(0.840, 0.768)}

    def verdict(at_24: float, weakest_24: float, at_32: float = 0.865) -> list[bool]:
        candidate = {WHOLE: scored(0.877, 0.85), 32: scored(at_32, 0.82), 24: scored(at_24, weakest_24)}
        rule = RULES["small-face-recall"]
        return [check.passed for check in judge(candidate, incumbent, rule, np.zeros(3), (2, 2)).checks]

    assert verdict(at_24=0.835, weakest_24=0.784) == [True] * 6  # -0.5 accuracy, +1.6 of the weakest recall
    assert verdict(at_24=0.834, weakest_24=0.800) == [True, False, True, True, True, True]
    assert verdict(at_24=0.845, weakest_24=0.780) == [True, True, False, True, True, True]
    assert verdict(at_24=0.845, weakest_24=0.800, at_32=0.859) == [False, True, True, True, True, True]


def test_a_model_weighed_by_size_costs_the_most_members_one_size_weighs(tiny_model):
    card = ModelCard.read(card_path_for(tiny_model))
    assert networks(card) == 1
    card.training = {"members": [{}, {}, {}]}
    assert networks(card) == 3  # an average runs every member
    card.member_weights = {"16": [0, 0.3, 0.7], "32": [0.5, 0.5, 0], "48": [1, 0, 0]}
    assert networks(card) == 2


def test_select_records_the_verdict_and_refuses_models_of_other_mappings(tmp_path, tiny_model, capsys):
    folders = write_image_folders(tmp_path / "fer2013")
    ferplus = write_ferplus(tmp_path / "ferplus")
    candidate, incumbent = (Path(shutil.copy(tiny_model, tmp_path / f"{name}.onnx")) for name in ("new", "old"))
    card = ModelCard.read(card_path_for(tiny_model))
    card.mapping = dict(LabelMapping().mapping)  # FER2013's and FER+'s emotions alike, so they share consensus faces
    for model in (candidate, incumbent):
        card.write(card_path_for(model))
    select = ["select", str(candidate), "--incumbent", str(incumbent), "--fer2013", str(folders)]

    assert main([*select, "--ferplus", str(ferplus)]) == 0

    printed = capsys.readouterr().out
    record = json.loads((tmp_path / "selection.json").read_text())
    assert [check["what"] for check in record["checks"]] == [
        "FER+ accuracy at 32 px",
        "FER+ accuracy at 24 px",
        "FER+ accuracy on whole faces",
        "consensus accuracy on whole faces",
        "networks run on a face, fewer counted as gain",
    ]
    assert record["ships"] == all(check["passed"] for check in record["checks"])
    assert set(record["scores"]["candidate"]) == {"48", "32", "24"}
    assert record["scores"]["incumbent"]["48"]["ferplus"]["images"] == 14  # PublicTest only
    assert ("the candidate ships" if record["ships"] else "the incumbent stays") in printed
    assert record["rule"]["name"] == "by-size" and "rule written 2026-12-07" in printed
    assert ModelCard.read(card_path_for(candidate)) == card  # judged, not changed

    card.mapping = {**card.mapping, "surprise": "neutral"}
    card.write(card_path_for(candidate))
    assert main([*select, "--ferplus", str(ferplus)]) == 2
    assert "map emotions to classes differently" in capsys.readouterr().err
