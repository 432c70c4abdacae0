"""Agreement between two label sets of the same faces, and its report through `engage evaluate`."""

import json
from pathlib import Path

import numpy as np

from engage.cli import main
from monitor.core import CLASSES
from monitor.perception.model import log_probabilities
from tests.training.fer_fixtures import face, rows, write_ferplus, write_image_folders
from training.data import LabelledImages
from training.evaluate import accuracy_ceiling, compare_labels, fit_class_bias, match_faces, metrics, recall_tradeoff
from training.labels import FER2013_EMOTIONS, FERPLUS_EMOTIONS, LabelMapping


def labelled(images: np.ndarray, labels: list[int]) -> LabelledImages:
    one_hot = np.eye(3, dtype=np.float32)[labels]
    return LabelledImages("test", images, one_hot, np.array(["test"] * len(labels)), one_hot)


def test_faces_are_matched_one_to_one_through_jpeg_noise_and_order():
    faces = np.stack([face(seed) for seed in range(5)])
    faces[4] = faces[3]  # the same face twice, as FER2013 has it
    noise = np.random.default_rng(0).integers(-2, 3, faces.shape)
    order = [2, 4, 0, 3, 1]
    noisy = np.clip(faces[order] + noise, 0, 255).astype(np.uint8)
    others = np.concatenate([noisy, face(99)[None]])  # the last face is only in the second set

    first, second = match_faces(faces, others)

    assert sorted(first.tolist()) == [0, 1, 2, 3, 4] and sorted(second.tolist()) == [0, 1, 2, 3, 4]
    for i, j in zip(first, second, strict=True):
        assert np.array_equal(faces[i], faces[order[j]])


def test_agreement_and_consensus_count_the_shared_faces_only():
    faces = np.stack([face(seed) for seed in range(6)])
    first = labelled(faces[:5], [0, 1, 2, 2, 2])
    second = labelled(faces[[4, 3, 2, 1, 0, 5]], [1, 2, 2, 2, 0, 0])  # face 5 is not in the first set

    agreement, consensus = compare_labels(first, second)

    assert agreement.shared == 5
    assert agreement.agreement == 3 / 5  # faces 0, 2 and 3 agree; 1 and 4 do not
    assert agreement.confusion == [[1, 0, 0], [0, 0, 1], [0, 1, 2]]
    assert np.array_equal(consensus.images, faces[[0, 2, 3]]) and consensus.labels.tolist() == [0, 2, 2]

    strangers = labelled(np.stack([face(seed) for seed in (7, 8)]), [0, 1])
    no_overlap, no_consensus = compare_labels(first, strangers)
    assert no_overlap.shared == 0 and no_consensus is None


def test_a_recall_floor_on_one_label_set_caps_the_accuracy_any_model_has_on_the_other():
    faces = np.stack([face(seed) for seed in range(8)])
    # five faces negative (2) in the first set: one negative in the second too, two neutral, one positive, one absent
    first = labelled(faces[:7], [2, 2, 2, 2, 2, 0, 1])
    second = labelled(faces[[0, 1, 2, 3, 5, 6, 7]], [2, 1, 1, 0, 0, 1, 1])
    agreement, _ = compare_labels(first, second)

    def ceiling(floor: float) -> float:
        return accuracy_ceiling(agreement, first.labels, len(second.labels), 2, floor)

    assert ceiling(0.4) == 1.0  # two negative calls come free: the shared negative face and the absent one
    assert ceiling(0.6) == 1 - 1 / 7  # a third costs one face the second set labels otherwise
    assert ceiling(1.0) == 1 - 3 / 7


def test_the_tradeoff_bias_meets_each_floor_and_stays_under_the_labels_ceiling():
    rng = np.random.default_rng(1)
    faces = np.stack([face(seed) for seed in range(300)])
    second_labels = rng.integers(0, 3, 300)
    first_labels = np.where(rng.random(300) < 0.3, 2, second_labels)  # the first set calls more faces negative
    first_labels[0] = 2
    first, second = labelled(faces, first_labels.tolist()), labelled(faces, second_labels.tolist())
    agreement, _ = compare_labels(first, second)
    probabilities = np.eye(3)[second_labels] * 0.5 + rng.uniform(0.05, 0.3, (300, 3))  # follows the second set
    probabilities[0] = [1.0, 0.0, 0.0]  # a negative face of the first set no bias moves off positive
    probabilities /= probabilities.sum(axis=1, keepdims=True)

    points = recall_tradeoff(
        (probabilities, first_labels), (probabilities, second_labels), agreement, 2, (0.5, 0.8, 1.0)
    )

    assert [p.floor for p in points] == [0.5, 0.8, 1.0]
    for point in points[:2]:
        biased = (log_probabilities(probabilities) + point.bias).argmax(axis=1)
        assert (biased[first_labels == 2] == 2).mean() >= point.floor
        assert point.accuracy == (biased == second_labels).mean() <= point.label_ceiling
        assert point.smallest_recall == min(metrics(second_labels, biased).per_class[c]["recall"] for c in CLASSES)
    assert points[0].accuracy > points[1].accuracy and points[1].bias[2] > 0
    assert points[2].bias is None and points[2].accuracy is None and points[2].label_ceiling < 1


def test_evaluate_with_both_label_sets_reports_their_agreement_and_tradeoff(tmp_path, capsys):
    folders = write_image_folders(tmp_path / "fer2013")
    ferplus = write_ferplus(tmp_path / "ferplus")
    out = tmp_path / "report"
    evaluate = ["evaluate", "--fer2013", str(folders), "--ferplus", str(ferplus), "--out", str(out)]

    assert main([*evaluate, "--tradeoff", "negative"]) == 0

    mapping, names = LabelMapping(), list(FERPLUS_EMOTIONS.values())
    pairs = [
        (mapping.class_index(FER2013_EMOTIONS[code]), mapping.class_index(names[code % len(names)]))
        for code, usage, _ in rows()
        if usage == "PrivateTest"
    ]
    expected = sum(a == b for a, b in pairs) / len(pairs)
    report = json.loads((out / "evaluation.json").read_text())
    assert report["label_agreement_privatetest"]["shared"] == len(pairs) == 14
    assert report["label_agreement_privatetest"]["agreement"] == round(expected, 4) and 0 < expected < 1
    assert report["consensus_privatetest"]["images"] == sum(a == b for a, b in pairs)
    assert report["ferplus_clear_privatetest"]["images"] == report["ferplus_privatetest"]["images"] == 14
    assert (out / "confusion-consensus_privatetest.png").is_file()
    printed = capsys.readouterr().out
    assert f"agree on {expected:.4f} of the 14 faces" in printed
    tradeoff = report["tradeoff_negative_privatetest"]
    assert [point["floor"] for point in tradeoff] == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
    assert all(0 < point["label_ceiling"] <= 1 for point in tradeoff)
    assert "FER2013 negative recall is at least a floor" in printed and "negative recall >= 0.70: labels" in printed
    assert main([*evaluate[:3], "--tradeoff", "negative"]) == 2
    assert "--tradeoff weighs one label set against the other" in capsys.readouterr().err
    assert main([*evaluate, "--tradeoff", "negative", "--update-card"]) == 2
    assert "--tradeoff sets the card's class bias aside" in capsys.readouterr().err


def test_evaluate_views_option_overrides_the_card_and_rejects_unknown_views(tmp_path, capsys):
    folders = write_image_folders(tmp_path / "fer2013")
    evaluate = ["evaluate", "--fer2013", str(folders), "--out", str(tmp_path / "report")]
    assert main([*evaluate, "--views", "full,centre90-mirror"]) == 0
    assert "views averaged: full, centre90-mirror" in capsys.readouterr().out
    assert main([*evaluate, "--views", "full,zoom"]) == 2
    assert "unknown view 'zoom'" in capsys.readouterr().err


def test_class_bias_is_fitted_for_balanced_accuracy_over_label_sets():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 200)
    # a model that under-calls negative: negative faces get only a little more negative probability than neutral
    probabilities = np.tile([0.2, 0.5, 0.3], (600, 1))
    probabilities[labels == 0] = [0.7, 0.2, 0.1]
    probabilities[labels == 2] = [0.1, 0.48, 0.42]
    probabilities = probabilities * rng.uniform(0.9, 1.1, probabilities.shape)
    before = metrics(labels, probabilities.argmax(axis=1))
    bias = fit_class_bias({"a": (probabilities, labels), "b": (probabilities, labels)})
    after = metrics(labels, (np.log(probabilities) + bias).argmax(axis=1))
    assert bias[0] == 0 and bias[2] > bias[1]
    assert after.balanced_accuracy > before.balanced_accuracy + 0.2
    calibrated = np.eye(3)[labels] * 0.8 + 0.1
    assert np.array_equal(fit_class_bias({"a": (calibrated, labels)}), np.zeros(3))  # nothing to gain: no offset


def test_evaluate_fit_bias_writes_the_card_and_face_size_scores_small_faces(tmp_path, tiny_model, capsys):
    import shutil

    from monitor.perception.model import ModelCard, card_path_for

    model = Path(shutil.copy(tiny_model, tmp_path / "m.onnx"))
    shutil.copy(card_path_for(tiny_model), card_path_for(model))
    folders = write_image_folders(tmp_path / "fer2013")
    evaluate = ["evaluate", "--model", str(model), "--fer2013", str(folders), "--out", str(tmp_path / "report")]
    assert main([*evaluate, "--fit-bias"]) == 2
    assert "--fit-bias chooses the class bias on PublicTest only" in capsys.readouterr().err
    assert main([*evaluate, "--split", "val", "--fit-bias"]) == 0
    printed = capsys.readouterr().out
    assert "class bias chosen on fer2013_publictest" in printed and "balanced" in printed
    bias = ModelCard.read(card_path_for(model)).class_bias
    assert len(bias) == 3 and bias[0] == 0
    assert main([*evaluate, "--face-size", "24"]) == 0
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert set(report) == {"fer2013_privatetest_24px"} and "balanced_accuracy" in report["fer2013_privatetest_24px"]
    assert main([*evaluate, "--face-size", "64"]) == 2
    assert "--face-size must be 8-48 px" in capsys.readouterr().err
