import shutil
from pathlib import Path

import numpy as np

from engage.cli import main
from monitor.perception.model import ExpressionClassifier, ModelCard, card_path_for
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
