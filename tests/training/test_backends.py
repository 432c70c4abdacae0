"""The same training recipe on Keras's TensorFlow and JAX backends: the JAX run (as on a lent GPU machine, which has
no TensorFlow) trains without importing TensorFlow, and `engage train --export` turns it into the runtime's model."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from monitor.perception.model import ExpressionClassifier
from tests.training.fer_fixtures import write_fer2013_csv

RECIPE = ["--alpha", "0.25", "--batch-size", "8", "--max-steps", "3", "--shrink", "0.5", "--shrink-jpeg", "40"]
RECIPE += ["--mixup", "0.2", "--stages", "32:2:2e-3,40:1:1e-3"]


def backend_env(backend: str, tmp_path) -> dict[str, str]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu"}
    if backend == "jax":  # as on the device: any TensorFlow import fails
        blocked = tmp_path / "no-tensorflow" / "tensorflow"
        blocked.mkdir(parents=True, exist_ok=True)
        (blocked / "__init__.py").write_text("raise ImportError('no TensorFlow on this machine')\n")
        env["PYTHONPATH"] = os.pathsep.join([str(blocked.parent), env.get("PYTHONPATH", "")])
    return env


def train(backend: str, data, out, tmp_path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "engage", "train", "--data", str(data), *RECIPE, "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, env=backend_env(backend, tmp_path), timeout=600)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs JAX's CPU wheel (the train extra)")
def test_the_recipe_trains_on_jax_without_tensorflow_and_exports_like_a_tensorflow_run(tmp_path):
    data = write_fer2013_csv(tmp_path / "fer2013.csv")
    on_jax = train("jax", data, tmp_path / "jax", tmp_path)
    assert on_jax.returncode == 0, on_jax.stderr
    assert "export it where TensorFlow is: engage train --export" in on_jax.stdout
    for stage, epochs in (("stage1-32px", 2), ("stage2-40px", 1)):
        assert (tmp_path / "jax" / stage / "best.keras").is_file() and not (
            tmp_path / "jax" / stage / "model.onnx"
        ).exists()
        assert len((tmp_path / "jax" / stage / "history.csv").read_text().splitlines()) == epochs + 1
        assert json.loads((tmp_path / "jax" / stage / "trained-on.json").read_text())["backend"] == "jax"

    # carried off the device as training/gpu.sh does: finished stages without optimizer state, still exportable
    sizes = {
        stage: (tmp_path / "jax" / stage / "best.keras").stat().st_size for stage in ("stage1-32px", "stage2-40px")
    }
    slim = [sys.executable, "-m", "training.slim", str(tmp_path / "jax")]
    slimmed = subprocess.run(slim, capture_output=True, text=True, env=backend_env("jax", tmp_path), timeout=300)
    assert slimmed.returncode == 0, slimmed.stderr
    for stage, size in sizes.items():
        assert (tmp_path / "jax" / stage / "best.keras").stat().st_size < size / 2
    exported = subprocess.run(
        [sys.executable, "-m", "engage", "train", "--export", str(tmp_path / "jax")],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert exported.returncode == 0, exported.stderr
    on_tensorflow = train("tensorflow", data, tmp_path / "tf", tmp_path)
    assert on_tensorflow.returncode == 0, on_tensorflow.stderr
    faces = list(np.random.default_rng(1).uniform(0, 255, (8, 48, 48)).astype(np.uint8))
    for run, backend in (("jax", "jax"), ("tf", "tensorflow")):
        model = ExpressionClassifier(tmp_path / run / "stage2-40px" / "model-int8.onnx")
        assert model.card.training["trained_on"]["backend"] == backend and model.card.input_size == 40
        assert model.card.training["init_from"] == str(tmp_path / run / "stage1-32px" / "best.keras")
        assert model.predict(faces).shape == (8, 3)
