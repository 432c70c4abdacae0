import shutil
from pathlib import Path

import numpy as np
import pytest

from engage.cli import main
from monitor.errors import EngageError
from monitor.perception.model import ExpressionClassifier, ModelCard, card_path_for
from tests.training.fer_fixtures import write_ferplus, write_image_folders
from training.evaluate import fit_member_weights
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

    card.member_weights = {"16": [1, 0], "32": [0, 1]}  # the first member for small faces, the second for large
    card.write(card_path_for(model))
    by_size = ExpressionClassifier(model)
    members = [ExpressionClassifier(path) for path in (tiny_model, other)]
    for side, share_of_first in ((8, 1.0), (16, 1.0), (24, 0.5), (32, 0.0), (64, 0.0)):
        crop = np.random.default_rng(side).integers(0, 255, (side, side), dtype=np.uint8)
        expected = share_of_first * members[0].predict([crop]) + (1 - share_of_first) * members[1].predict([crop])
        np.testing.assert_allclose(by_size.predict([crop]), expected, atol=1e-5)


def test_member_weights_are_fitted_per_size_and_checked_on_reading(tmp_path, tiny_model, capsys):
    labels = np.array([0, 1, 2] * 20)
    right, wrong = np.eye(3)[labels], np.eye(3)[(labels + 1) % 3]
    small = np.stack([right, wrong], axis=1)  # member 0 right on small faces
    large = np.stack([wrong * 0.6 + right * 0.4, right], axis=1)  # member 1 right on large ones
    assert fit_member_weights({16: (small, labels), 48: (large, labels)}) == {"16": [1.0, 0.0], "48": [0.0, 1.0]}
    tied = np.stack([right, right], axis=1)
    assert fit_member_weights({24: (tied, labels)}) == {"24": [0.5, 0.5]}  # a tie keeps the equal weighting

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
    card.member_weights = {"16": [0.5, 0.5]}  # a model with one output of 3 classes cannot be weighed
    card.write(card_path_for(copy))
    with pytest.raises(EngageError, match=r"does not match its card \(per face: \(2, 3\)\)"):
        ExpressionClassifier(copy)
    assert main(["combine", str(tiny_model), str(copy), "--out", str(tmp_path / "x"), "--by-size", "16"]) == 2
    assert "give two or more face sides in px, 8-48" in capsys.readouterr().err
