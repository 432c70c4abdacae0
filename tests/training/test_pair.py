import shutil
from pathlib import Path

import numpy as np
import pytest

from engage.cli import main
from monitor.errors import EngageError
from monitor.perception.model import ExpressionClassifier, ModelCard, card_path_for
from tests.training.fer_fixtures import write_ferplus, write_image_folders
from training.evaluate import fit_member_weights, weight_grid
from training.export import export_onnx
from training.model import build_model


def test_exported_models_combine_into_one_graph_averaging_their_probabilities(tmp_path, tiny_model, capsys):
    network = build_model(32, 0.25)
    head = network.layers[-1]  # an untrained network says 1/3 for every class: give this one an opinion
    head.set_weights([head.get_weights()[0], np.array([1.0, 0.0, -1.0])])
    other = export_onnx(network, tmp_path / "other.onnx", ModelCard.read(card_path_for(tiny_model)))
    assert main(["combine", str(tiny_model), str(other), "--out", str(tmp_path / "pair")]) == 0
    assert "--fit-bias" in capsys.readouterr().out

    pair = ExpressionClassifier(tmp_path / "pair" / "model.onnx")
    faces = np.random.default_rng(0).uniform(0, 255, (6, 32, 32, 1)).astype(np.float32)
    first, second = (ExpressionClassifier(path).predict_inputs(faces) for path in (tiny_model, other))
    assert np.abs(first - second).max() > 0.01  # two different networks
    np.testing.assert_allclose(pair.predict_inputs(faces), (first + second) / 2, atol=1e-6)
    assert pair.card.version == "tiny-test+tiny-test" and pair.card.class_bias == [0.0, 0.0, 0.0]
    assert [member["file"] for member in pair.card.training["members"]] == ["tiny.onnx", "other.onnx"]


def test_combine_refuses_models_of_other_sizes_and_a_mix_of_runs_and_models(tmp_path, tiny_model, capsys):
    out = ["--out", str(tmp_path / "pair")]
    bundled = ExpressionClassifier().model_path
    assert main(["combine", str(tiny_model), str(bundled), *out]) == 2
    assert "different input sizes [32, 96]" in capsys.readouterr().err
    assert main(["combine", str(tiny_model), str(tmp_path), *out]) == 2
    assert "not both" in capsys.readouterr().err
    copy = Path(shutil.copy(tiny_model, tmp_path / "copy.onnx"))
    card = ModelCard.read(card_path_for(tiny_model))
    card.mapping = {"happy": "neutral"}
    card.write(card_path_for(copy))
    assert main(["combine", str(tiny_model), str(copy), *out]) == 2
    assert "map emotions to classes differently" in capsys.readouterr().err


def test_combined_by_size_the_runtime_weighs_each_member_by_the_face_size(tmp_path, tiny_model, capsys):
    network = build_model(32, 0.25)
    head = network.layers[-1]
    head.set_weights([head.get_weights()[0], np.array([1.0, 0.0, -1.0])])
    other = export_onnx(network, tmp_path / "other.onnx", ModelCard.read(card_path_for(tiny_model)))
    out = tmp_path / "by-size"
    assert main(["combine", str(tiny_model), str(other), "--out", str(out), "--by-size", "32,16"]) == 0
    capsys.readouterr()
    model = out / "model.onnx"
    card = ModelCard.read(card_path_for(model))
    assert card.member_weights == {"16": [0.5, 0.5], "32": [0.5, 0.5]}
    faces = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    first, second = (ExpressionClassifier(path).predict_inputs(faces) for path in (tiny_model, other))
    np.testing.assert_allclose(
        ExpressionClassifier(model).predict_inputs(faces), np.stack([first, second], 1), atol=1e-6
    )

    ferplus = write_ferplus(tmp_path / "ferplus")
    evaluate = ["evaluate", "--model", str(model), "--split", "val", "--fit-bias", "--out", str(tmp_path / "report")]
    assert main([*evaluate, "--fer2013", str(write_image_folders(tmp_path / "fer2013"))]) == 2
    assert "--fit-bias weighs this model's members on FER+ faces: give --ferplus" in capsys.readouterr().err
    assert main([*evaluate, "--ferplus", str(ferplus)]) == 0
    assert "member weights chosen on ferplus_publictest by face side" in capsys.readouterr().out
    fitted = ModelCard.read(card_path_for(model)).member_weights
    assert set(fitted) == {"16", "32"} and all(len(w) == 2 and abs(sum(w) - 1) < 1e-3 for w in fitted.values())
    assert main([*evaluate, "--ferplus", str(ferplus), "--networks-a-face", "1"]) == 0
    fitted = ModelCard.read(card_path_for(model)).member_weights
    assert sorted(sorted(w) for w in fitted.values()) == [[0.0, 1.0], [0.0, 1.0]]  # one network a face
    for extra, message in ((["--networks-a-face", "3"], "must be 1-2"), (["--networks-a-face", "0"], "must be 1-2")):
        assert main([*evaluate, "--ferplus", str(ferplus), *extra]) == 2
        assert message in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tiny_model), "--ferplus", str(ferplus), "--networks-a-face", "1"]) == 2
    assert "--networks-a-face limits the member weights --fit-bias fits" in capsys.readouterr().err

    card.member_weights = {"16": [1, 0], "32": [0, 1], "40": [0.25, 0.75]}  # by size: first, second, both
    card.write(card_path_for(model))
    by_size = ExpressionClassifier(model)
    members = [ExpressionClassifier(path) for path in (tiny_model, other)]
    fed = FeedSizes(by_size)
    sides = (8, 16, 23, 24, 32, 35, 36, 64)  # the nearest listed side's weights; midway (24, 36): the larger side's
    shares = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.25, 0.25)
    crops = [np.random.default_rng(side).integers(0, 255, (side, side), dtype=np.uint8) for side in sides]
    expected = [
        a * members[0].predict([c]) + (1 - a) * members[1].predict([c]) for a, c in zip(shares, crops, strict=True)
    ]
    np.testing.assert_allclose(by_size.predict(crops), np.concatenate(expected), atol=1e-5)
    views = len(by_size.card.views)
    assert fed.batches == [[5 * views, 5 * views]]  # 8 faces in one call; a member weighed 0 never sees one
    assert by_size.predict(crops[:2]).shape == (2, 3) and fed.batches[-1] == [2 * views, 0]


class FeedSizes:
    """Records how many inputs each member of a classifier's model is fed per call (the session itself runs)."""

    def __init__(self, classifier: ExpressionClassifier) -> None:
        self.session, self.batches = classifier._session, []
        classifier._session = self

    def run(self, outputs: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.batches.append([len(batch) for batch in feed.values()])
        return self.session.run(outputs, feed)


def test_member_weights_are_fitted_per_size_and_checked_on_reading(tmp_path, tiny_model, capsys):
    labels = np.array([0, 1, 2] * 20)
    right, wrong = np.eye(3)[labels], np.eye(3)[(labels + 1) % 3]
    small = np.stack([right, wrong], axis=1)  # member 0 right on small faces
    large = np.stack([wrong * 0.6 + right * 0.4, right], axis=1)  # member 1 right on large ones
    assert fit_member_weights({16: (small, labels), 48: (large, labels)}) == {"16": [1.0, 0.0], "48": [0.0, 1.0]}
    tied = np.stack([right, right], axis=1)
    assert fit_member_weights({24: (tied, labels)}) == {"24": [0.5, 0.5]}  # a tie keeps the equal weighting
    halves = np.stack([right * 0.4 + wrong * 0.6, right * 0.4 + np.roll(wrong, 1, axis=1) * 0.6, right], axis=1)
    assert fit_member_weights({24: (halves, labels)}, most=1) == {"24": [0.0, 0.0, 1.0]}
    assert all(np.count_nonzero(w) <= 2 for w in weight_grid(3, most=2)) and len(weight_grid(3, most=1)) == 3

    card = ModelCard.read(card_path_for(tiny_model))
    copy = Path(shutil.copy(tiny_model, tmp_path / "copy.onnx"))
    for weights, message in (
        ({"small": [1, 0]}, "sizes must be whole px"),
        ({"16": [1, -1]}, ">= 2 weights >= 0"),
        ({"16": [1, 0], "32": [1]}, ">= 2 weights >= 0"),
    ):
        card.member_weights = weights
        card.write(card_path_for(copy))
        with pytest.raises(EngageError, match=message):
            ExpressionClassifier(copy)
    card.member_weights = {"16": [0.5, 0.5]}  # a model of one network cannot be weighed
    card.write(card_path_for(copy))
    with pytest.raises(EngageError, match=r"has 1 member\(s\), each with its own input; its card weighs 2"):
        ExpressionClassifier(copy)
    assert main(["combine", str(tiny_model), str(copy), "--out", str(tmp_path / "x"), "--by-size", "16"]) == 2
    assert "give two or more face sides in px, 8-48" in capsys.readouterr().err
