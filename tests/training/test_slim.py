"""Carrying a run off a lent machine: finished stages lose their optimizer state, a stage in progress keeps it."""

import keras
import numpy as np

from training.slim import slim


def trained_checkpoint(path) -> None:
    """A small model after one fitted batch, saved with its Adam moments, as `engage train` saves best.keras."""
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    model.fit(np.ones((4, 8)), np.eye(3)[[0, 1, 2, 0]], verbose=0)
    path.parent.mkdir(parents=True)
    model.save(path)


def test_finished_stages_are_saved_without_optimizer_state_and_one_in_progress_is_left_whole(tmp_path):
    finished, running = tmp_path / "stage1-64px" / "best.keras", tmp_path / "stage2-96px" / "best.keras"
    for checkpoint in (finished, running):
        trained_checkpoint(checkpoint)
    (running.parent / "backup").mkdir()  # the resume of stage 2 needs its optimizer too
    before = {path: path.stat().st_size for path in (finished, running)}
    weights = keras.models.load_model(finished, compile=False).get_weights()
    assert slim(tmp_path) == [finished]
    assert finished.stat().st_size < before[finished] and running.stat().st_size == before[running]
    kept = keras.models.load_model(finished, compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(weights, kept, strict=True))
    assert not list(tmp_path.rglob("*.slim.keras"))
