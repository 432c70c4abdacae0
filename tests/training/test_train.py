"""Tiny real training runs through `engage train` / `engage evaluate`, in each data layout."""

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from engage.cli import main
from monitor.errors import EngageError
from monitor.perception.model import ExpressionClassifier
from tests.training.fer_fixtures import write_fer2013_csv, write_ferplus, write_image_folders
from training.augment import augment, mixup, shrink
from training.config import TrainConfig
from training.data import load_dataset
from training.datasets import validation_arrays
from training.distil import distil, load_teachers
from training.evaluate import predict
from training.labels import LabelMapping

TINY = ["--input-size", "32", "--alpha", "0.25", "--epochs", "2", "--max-steps", "2", "--batch-size", "8"]


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["csv", "folders", "ferplus"])
def test_train_exports_a_model_the_runtime_loads_and_evaluate_reports_it(tmp_path, layout, capsys):
    writer = {"csv": write_fer2013_csv, "folders": write_image_folders, "ferplus": write_ferplus}[layout]
    data = writer(tmp_path / "fer2013.csv" if layout == "csv" else tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY]) == 0
    assert "epoch 2/2" in capsys.readouterr().out
    for name in ("model.onnx", "model.json", "model-int8.onnx", "history.png", "best.keras"):
        assert (out / name).is_file(), name

    classifier = ExpressionClassifier(out / "model.onnx")
    assert classifier.card.input_size == 32 and classifier.card.training["alpha"] == 0.25
    assert classifier.predict([np.zeros((60, 60, 3), np.uint8)]).shape == (1, 3)
    assert ExpressionClassifier(out / "model-int8.onnx").card.quantization == "int8"

    if layout == "csv":  # fine-tuning starts from the run's best weights, here at a larger input size
        tuned = tmp_path / "tuned"
        fine_tune = ["train", "--data", str(data), "--out", str(tuned), "--init-from", str(out / "best.keras"), *TINY]
        regularised = ["--mixup", "0.2", "--ema", "0.9", "--erase", "0.5", "--shrink", "0.5", "--shrink-jpeg", "40"]
        assert main([*fine_tune, "--input-size", "40", *regularised]) == 0
        tuned_card = ExpressionClassifier(tuned / "model.onnx").card
        assert tuned_card.input_size == 40 and tuned_card.training["init_from"] == str(out / "best.keras")
        assert tuned_card.training["mixup"] == 0.2 and tuned_card.training["ema"] == 0.9
        assert tuned_card.training["erase"] == 0.5 and tuned_card.training["shrink"] == 0.5
        assert tuned_card.training["shrink_jpeg"] == 40
        capsys.readouterr()
        assert main([*fine_tune, "--alpha", "0.5", "--out", str(tmp_path / "mismatch")]) == 2
        assert "pass the --alpha it was trained with" in capsys.readouterr().err

        # an auxiliary head learns a second label set beside the main head, which alone is exported
        aux = tmp_path / "aux"
        assert main([*fine_tune, "--aux-labels", str(data), "--aux-weight", "0.5", "--out", str(aux)]) == 0
        assert "auxiliary head learns" in capsys.readouterr().out
        two_heads = keras.models.load_model(aux / "best.keras", compile=False)
        exported = ExpressionClassifier(aux / "model.onnx")
        assert two_heads.output.shape[-1] == 6 and "auxiliary Dense(3) head" in exported.card.architecture
        faces = np.random.default_rng(3).uniform(0, 255, (5, 32, 32, 1)).astype(np.float32)
        expected = two_heads.predict(faces, verbose=0)[:, :3]
        np.testing.assert_allclose(exported.predict_inputs(faces), expected, atol=1e-4)

        # distillation: the teacher's mirror-averaged predictions make up --teacher-weight of the targets
        teacher = out / "model.onnx"
        train_set = load_dataset(data, LabelMapping()).subset("train")
        taught = distil(train_set, load_teachers([teacher], LabelMapping().mapping), 0.3)
        mirrored = ExpressionClassifier(teacher)
        mirrored.card = replace(mirrored.card, views=["full", "mirror"])
        expected = 0.7 * train_set.targets + 0.3 * predict(mirrored, train_set.images)
        np.testing.assert_allclose(taught.targets, expected, atol=1e-6)
        student = tmp_path / "student"
        distillation = ["train", "--data", str(data), "--teacher", str(teacher), *TINY]
        assert main([*distillation, "--out", str(student)]) == 0
        assert ExpressionClassifier(student / "model.onnx").card.training["teachers"] == [str(teacher)]
        capsys.readouterr()
        assert main([*distillation, "--out", str(tmp_path / "w0"), "--teacher-weight", "0"]) == 2
        assert "--teacher-weight 0.0: give a value in (0, 1]" in capsys.readouterr().err
        assert main([*distillation, "--out", str(tmp_path / "m"), "--mapping", "surprise=neutral"]) == 2
        assert "maps emotions to classes differently" in capsys.readouterr().err

        # runs of one input size combine into one model that averages them; other sizes are refused
        combined = tmp_path / "combined"
        assert main(["combine", str(out), str(student), "--out", str(combined)]) == 0
        faces = np.random.default_rng(2).uniform(0, 255, (6, 32, 32, 1)).astype(np.float32)
        members = [ExpressionClassifier(run / "model.onnx").predict_inputs(faces) for run in (out, student)]
        average = ExpressionClassifier(combined / "model.onnx")
        np.testing.assert_allclose(average.predict_inputs(faces), np.mean(members, axis=0), atol=1e-5)
        assert average.card.architecture.startswith("average of 2 models: MobileNet alpha=0.25 32px")
        assert ExpressionClassifier(combined / "model-int8.onnx").card.quantization == "int8"
        capsys.readouterr()
        assert main(["combine", str(out), str(tuned), "--out", str(tmp_path / "sizes")]) == 2
        assert "different input sizes [32, 40]" in capsys.readouterr().err
        assert main(["combine", str(out), str(tmp_path), "--out", str(tmp_path / "none")]) == 2
        assert "not a finished training run" in capsys.readouterr().err

        # two models of different input sizes evaluate as an ensemble: their probabilities averaged
        models = ["--model", str(out / "model.onnx"), "--model", str(tuned / "model.onnx")]
        assert main(["evaluate", *models, "--fer2013", str(data), "--out", str(tmp_path / "ensemble")]) == 0
        test = load_dataset(data, LabelMapping()).subset("test")
        averaged = np.mean([predict(ExpressionClassifier(Path(m)), test.images) for m in models[1::2]], axis=0)
        report = json.loads((tmp_path / "ensemble" / "evaluation.json").read_text())
        assert report["fer2013_privatetest"]["accuracy"] == round(float((averaged.argmax(1) == test.labels).mean()), 4)
        capsys.readouterr()
        assert main(["evaluate", *models, "--fer2013", str(data), "--update-card"]) == 2
        assert "give a single --model" in capsys.readouterr().err

    if layout == "ferplus":  # an emotion head, learnt from the votes, exported summed into the 3 classes
        emotions = tmp_path / "emotions"
        head = ["--head", "emotions", "--init-from", str(out / "best.keras")]
        assert main(["train", "--data", str(data), "--out", str(emotions), *head, *TINY]) == 0
        emotion_model = keras.models.load_model(emotions / "best.keras", compile=False)
        exported = ExpressionClassifier(emotions / "model.onnx")
        assert emotion_model.output.shape[-1] == 8 and "summed into 3 classes" in exported.card.architecture
        faces = np.random.default_rng(1).uniform(0, 255, (5, 32, 32, 1)).astype(np.float32)
        expected = emotion_model.predict(faces, verbose=0) @ LabelMapping().class_matrix()
        np.testing.assert_allclose(exported.predict_inputs(faces), expected, atol=1e-4)

    option = "--ferplus" if layout == "ferplus" else "--fer2013"
    assert main(["evaluate", "--model", str(out / "model.onnx"), option, str(data), "--update-card"]) == 0
    key = ("ferplus" if layout == "ferplus" else "fer2013") + "_privatetest"
    card = json.loads((out / "model.json").read_text())
    assert card["metrics"][key]["images"] == 14
    assert len(card["metrics"][key]["confusion"]) == 3
    assert (out / "model-evaluation" / f"confusion-{key}.png").is_file()


@pytest.mark.slow
def test_stages_chain_runs_of_growing_size_and_a_rerun_keeps_finished_stages(tmp_path, capsys):
    data = write_fer2013_csv(tmp_path / "fer2013.csv")
    out = tmp_path / "run"
    command = ["train", "--data", str(data), "--out", str(out), "--alpha", "0.25", "--max-steps", "2"]
    command += ["--batch-size", "8", "--stages", "32:2:2e-3,40:1:5e-4"]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "stage 1/2: 32 px, 2 epochs, lr 0.002, from scratch" in printed and "epoch 2/2" in printed
    assert f"stage 2/2: 40 px, 1 epochs, lr 0.0005, from {out / 'stage1-32px' / 'best.keras'}" in printed
    assert f"model written to {out / 'stage2-40px' / 'model.onnx'}" in printed
    first, second = (ExpressionClassifier(out / name / "model.onnx").card for name in ("stage1-32px", "stage2-40px"))
    assert first.input_size == 32 and first.training["epochs"] == 2 and first.training["init_from"] is None
    assert second.input_size == 40 and second.training["learning_rate"] == 5e-4
    assert second.training["init_from"] == str(out / "stage1-32px" / "best.keras")

    history = (out / "stage2-40px" / "history.csv").read_text()
    assert main(command) == 0  # finished stages are kept, not trained again
    assert capsys.readouterr().out.count("finished earlier: kept") == 2
    assert (out / "stage2-40px" / "history.csv").read_text() == history


def test_bad_stages_are_exit_2_before_any_data_is_read(tmp_path, capsys):
    for stages, message in [("64:45", "give SIZE:EPOCHS:LR"), ("64:45:2e-3,16:1:1e-3", "size >= 32")]:
        assert main(["train", "--data", "absent.csv", "--out", str(tmp_path / "run"), "--stages", stages]) == 2
        assert f"--stages {stages.split(',')[-1]!r}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def _epochs_logged(run: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in (run / "history.csv").read_text().splitlines()[1:]]


@pytest.mark.slow
def test_a_killed_staged_run_resumes_to_the_schedule_of_an_uninterrupted_one(tmp_path):
    data = write_fer2013_csv(tmp_path / "fer2013.csv")
    options = ["--data", data, *TINY[:4], "--batch-size", "8", "--ema", "0.9", "--stages", "32:12:2e-3,40:3:1e-3"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    engage = [sys.executable, "-m", "engage.cli", "train"]
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen(
        [*engage, *map(str, options), "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline, history = time.monotonic() + 120, killed / "stage1-32px" / "history.csv"
        while time.monotonic() < deadline and not (history.is_file() and len(history.read_text().splitlines()) > 1):
            time.sleep(0.1)  # killed once its first epoch is logged (and backed up before that)
    finally:
        process.kill()
        process.wait()
    done_before = len(_epochs_logged(killed / "stage1-32px"))
    assert 1 <= done_before < 12 and not (killed / "stage2-40px").exists()

    resumed = subprocess.run([*engage, "--resume", str(killed)], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout and "stage 2/2: 40 px, 3 epochs" in resumed.stdout
    first_epoch = next(line for line in resumed.stdout.splitlines() if line.startswith("epoch "))
    assert first_epoch.split()[1] in (f"{done_before}/12", f"{done_before + 1}/12")  # the epoch after the backup
    uninterrupted = subprocess.run(
        [*engage, *map(str, options), "--out", str(whole)], capture_output=True, text=True, env=env, timeout=300
    )
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    for stage, epochs in (("stage1-32px", 12), ("stage2-40px", 3)):  # the same stages and epochs, each logged once
        assert _epochs_logged(killed / stage) == _epochs_logged(whole / stage) == list(range(epochs))
    cards = [ExpressionClassifier(run / "stage2-40px" / "model.onnx").card for run in (killed, whole)]
    assert cards[0].input_size == cards[1].input_size == 40
    assert cards[0].training["init_from"] == str(killed / "stage1-32px" / "best.keras")
    faces = np.random.default_rng(1).uniform(0, 255, (16, 48, 48)).astype(np.uint8)
    predictions = [
        ExpressionClassifier(run / "stage2-40px" / "model.onnx").predict(list(faces)) for run in (killed, whole)
    ]
    assert np.abs(predictions[0] - predictions[1]).mean() < 0.25  # tiny data: within the noise of a reseeded run


def test_resume_without_a_run_record_and_train_without_data_are_exit_2(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "absent")]) == 2
    assert "no run.json, so not a run engage train started" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "run")]) == 2
    assert "give --data PATH" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path), "--data", "x.csv"]) == 2
    assert "give no --data or --stages" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_mixup_blends_each_image_its_target_and_weight_by_one_share():
    # image i is a constant 100 * i with class i and weight i + 1, so a blend's pixels and weight follow from its target
    classes = np.arange(3).repeat(20)
    images = (100.0 * classes)[:, None, None, None] * np.ones((1, 4, 4, 1))
    targets, weights = np.eye(3)[classes], classes + 1.0
    x, y, w = mixup(images, targets, weights, np.random.default_rng(0), 0.4)
    np.testing.assert_allclose(y.sum(1), 1, atol=1e-6)
    np.testing.assert_allclose(x, (y @ [0.0, 100.0, 200.0])[:, None, None, None] * np.ones((1, 4, 4, 1)), atol=1e-3)
    np.testing.assert_allclose(w, y @ [1.0, 2.0, 3.0], atol=1e-5)
    assert 0.05 < np.mean((y.max(1) > 0.001) & (y.max(1) < 0.999)) <= 1  # blends happen, not only copies


def test_random_erasing_puts_a_noise_patch_on_that_share_of_faces():
    faces = np.full((400, 32, 32, 1), 128.0, np.float32)

    def erased(share: float) -> float:
        """The share of flat faces no longer flat: the other augmentations keep them flat (reflect fill)."""
        augmented = augment(faces, np.random.default_rng(1), share)
        return float(np.mean(augmented.max((1, 2, 3)) - augmented.min((1, 2, 3)) > 1))

    assert erased(0.0) == 0.0 and 0.4 < erased(0.5) < 0.6 and erased(1.0) == 1.0


def test_augmentation_moves_a_face_within_its_ranges_and_draws_only_from_its_generator():
    faces = np.zeros((300, 48, 48, 1), np.float32)
    faces[:, 20:28, 10:18] = 255.0  # a bright square left of the centre
    augmented = augment(faces, np.random.default_rng(5))
    assert augmented.shape == faces.shape and augmented.dtype == np.float32
    assert np.array_equal(augmented, augment(faces, np.random.default_rng(5)))  # a resumed run draws the same
    assert augmented.min() >= 0 and augmented.max() <= 255
    weights = augmented[..., 0] - augmented[..., 0].min(axis=(1, 2), keepdims=True)  # above each face's background
    columns = (weights.sum(axis=1) * np.arange(48)).sum(axis=1) / weights.sum(axis=(1, 2))
    left, right = np.mean(columns < 23.5), np.mean(columns > 23.5)
    assert 0.35 < left < 0.65 and 0.35 < right < 0.65  # flipped half the time
    # the square's centre, 10 px from the face's, moves by at most the shift (4.8 px each way), zoomed in by at most
    # 1/0.85 and turned: it never reaches the centre, nor goes beyond (10 + 4.8, 4.8) / 0.85 from it
    offsets = np.abs(columns - 23.5)
    assert offsets.min() > 2 and offsets.max() < np.hypot(10 + 4.8, 4.8) / 0.85
    assert offsets.std() > 1  # and it does move


def test_shrinking_blurs_that_share_of_faces_and_keeps_the_rest():
    faces = np.random.default_rng(3).uniform(0, 255, (400, 48, 48, 1)).astype(np.float32)

    def shrunk(share: float) -> np.ndarray:
        x = shrink(faces, np.random.default_rng(4), share)
        assert x.shape == faces.shape
        changed = np.abs(x - faces).max((1, 2, 3)) > 0
        smoothness = np.abs(np.diff(x, axis=2)).mean((1, 2, 3))
        assert np.all(smoothness[changed] < 0.5 * np.abs(np.diff(faces, axis=2)).mean())  # detail lost
        return changed

    assert not shrunk(0.0).any() and shrunk(1.0).all() and 0.4 < shrunk(0.5).mean() < 0.6


def test_shrinking_draws_the_face_size_from_the_range_given():
    faces = np.random.default_rng(6).uniform(0, 255, (2, 48, 48, 1)).astype(np.float32)

    def detail(smallest: int, largest: int) -> float:
        x = shrink(faces, np.random.default_rng(7), 1.0, smallest=smallest, largest=largest)
        return float(np.abs(np.diff(x, axis=2)).mean())

    assert detail(12, 12) < detail(24, 24) < detail(40, 40)  # a smaller face keeps less detail
    assert detail(16, 32) <= detail(32, 32)


def test_validation_faces_are_shrunk_to_the_validate_size_and_keep_their_targets(tmp_path):
    faces = load_dataset(write_fer2013_csv(tmp_path / "fer2013.csv"), LabelMapping()).subset("val")
    whole, targets = validation_arrays(faces, TrainConfig(input_size=48))
    small, small_targets = validation_arrays(faces, TrainConfig(input_size=48, validate_size=12))
    assert whole.shape == small.shape == (len(faces.images), 48, 48, 1)
    assert np.array_equal(targets, small_targets)
    assert np.abs(np.diff(small, axis=2)).mean() < 0.7 * np.abs(np.diff(whole, axis=2)).mean()  # detail lost


def test_jpeg_noise_on_shrunk_faces_changes_them_by_a_compression_error():
    y = np.linspace(0, 255, 48, dtype=np.float32)
    faces = np.broadcast_to((y[:, None] + y[None, :])[None, :, :, None] / 2, (8, 48, 48, 1)).copy()

    def shrunk(jpeg: int) -> np.ndarray:
        x = shrink(faces, np.random.default_rng(5), 1.0, jpeg)  # the same face size for both
        assert x.shape == faces.shape
        return x

    error = np.abs(shrunk(95) - shrunk(0))  # quality 95: the lightest compression it gives
    assert error.max() > 1 and error.mean() < 3  # more than uint8 rounding, less than another face


def test_out_of_range_options_are_exit_2_before_any_data_is_read(tmp_path, capsys):
    data = write_fer2013_csv(tmp_path / "fer2013.csv")
    options = [("--mixup", "-1", "give a Beta parameter > 0"), ("--ema", "1", "give a momentum")]
    options += [
        (option, value, "give a probability in [0, 1]") for option, value in [("--erase", "1.5"), ("--shrink", "-0.1")]
    ]
    for option, value, message in options:
        assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), option, value]) == 2
        assert f"{option} {float(value)}: {message}" in capsys.readouterr().err
    run = ["train", "--data", str(data), "--out", str(tmp_path / "run")]
    assert main([*run, "--shrink", "0.3", "--shrink-jpeg", "99"]) == 2
    assert "--shrink-jpeg 99: give a JPEG quality in [1, 95]" in capsys.readouterr().err
    assert main([*run, "--shrink", "0.3", "--shrink-smallest", "30", "--shrink-largest", "20"]) == 2
    assert "--shrink-smallest 30 --shrink-largest 20: give 8 <= smallest <= largest <= 48" in capsys.readouterr().err
    assert main([*run, "--validate-size", "64"]) == 2
    assert "--validate-size 64: give 8-48 px" in capsys.readouterr().err
    assert main([*run, "--shrink-jpeg", "40"]) == 2
    assert "--shrink-jpeg compresses the shrunk faces; give --shrink too" in capsys.readouterr().err
    teacher = [*run, "--teacher", "absent.onnx"]
    assert main([*teacher, "--teacher-weight", "1.5"]) == 2
    assert "--teacher-weight 1.5: give a value in (0, 1]" in capsys.readouterr().err
    assert main([*teacher, "--head", "emotions"]) == 2
    assert "use it with --head classes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_training_input_is_exit_2(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "run")]) == 2
    assert "absent.csv: no such file or folder" in capsys.readouterr().err


def test_every_train_option_reaches_the_config():
    from engage.cli import build_parser
    from training.options import train_config

    args = build_parser().parse_args(
        [
            "train",
            "--data",
            "a.csv",
            "--data",
            "folder",
            "--images",
            "imgs",
            "--hard-labels",
            "--lr",
            "0.01",
            "--init-from",
            "m.keras",
            "--mapping",
            "surprise=neutral",
            "--alpha",
            "0.5",
            "--epochs",
            "3",
            "--teacher",
            "t1.onnx",
            "--teacher",
            "t2.onnx",
            "--teacher-weight",
            "0.7",
            "--dropout",
            "0.5",
            "--weight-decay",
            "0.001",
            "--mixup",
            "0.2",
            "--ema",
            "0.999",
            "--erase",
            "0.25",
            "--shrink",
            "0.3",
            "--shrink-jpeg",
            "30",
            "--aux-labels",
            "fer2013",
            "--aux-weight",
            "0.4",
            "--seed",
            "7",
        ]
    )
    config = train_config(args)
    assert [str(p) for p in config.data] == ["a.csv", "folder"] and str(config.ferplus_images) == "imgs"
    assert not config.soft_labels and config.learning_rate == 0.01 and str(config.init_from) == "m.keras"
    assert config.mapping == "surprise=neutral" and config.alpha == 0.5 and config.epochs == 3
    assert [str(p) for p in config.teachers] == ["t1.onnx", "t2.onnx"] and config.teacher_weight == 0.7
    assert config.dropout == 0.5 and config.weight_decay == 0.001 and config.mixup == 0.2 and config.ema == 0.999
    assert config.erase == 0.25 and config.shrink == 0.3 and config.shrink_jpeg == 30
    assert str(config.aux_labels) == "fer2013" and config.aux_weight == 0.4 and config.seed == 7
    default = train_config(build_parser().parse_args(["train", "--data", "a.csv"]))
    assert default.soft_labels and default.mixup == default.ema == default.erase == default.shrink == 0
    assert default.shrink_jpeg == 0 and default.aux_labels is None and default.seed == 13


def test_train_options_and_the_config_share_one_set_of_defaults():
    from dataclasses import MISSING, fields

    from engage.cli import build_parser
    from training.config import TrainConfig
    from training.options import train_config

    from_cli = train_config(build_parser().parse_args(["train", "--data", "a.csv"]))
    from_class = TrainConfig(data=[Path("a.csv")])
    for spec in fields(TrainConfig):
        assert getattr(from_cli, spec.name) == getattr(from_class, spec.name), spec.name
        if spec.name != "version":
            assert spec.metadata["help"], spec.name
        assert spec.default is not MISSING or spec.default_factory is not MISSING, spec.name
    assert from_class.alpha == 0.75 and from_class.epochs == 45 and from_class.patience == 45


def test_a_tflite_model_of_an_earlier_release_converts_to_the_same_predictions(tmp_path, capsys):
    import tensorflow as tf

    from monitor.perception.model import ModelCard
    from training.model import build_model

    model = build_model(input_size=32, alpha=0.25)
    old = tmp_path / "old.tflite"
    old.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    ModelCard(version="earlier", input_size=32).write(tmp_path / "old.json")
    with pytest.raises(EngageError, match="engage convert"):
        ExpressionClassifier(old)  # the runtime says what to do with it
    assert main(["convert", str(old), str(tmp_path / "new.onnx")]) == 0
    converted = ExpressionClassifier(tmp_path / "new.onnx")
    faces = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(converted.predict_inputs(faces), model.predict(faces, verbose=0), atol=1e-4)
    assert converted.card.version == "earlier" and "tf2onnx" in converted.card.training["exported"]
    assert main(["convert", str(tmp_path / "old.json"), str(tmp_path / "x.onnx")]) == 2  # not a model: one line
    assert "could not be converted" in capsys.readouterr().err
