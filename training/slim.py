"""`python -m training.slim RUN`: a run folder made small enough to carry off a lent machine. Each finished stage's
best.keras is saved again without its optimizer state (about a third of its size); a stage in progress keeps all
it needs to resume. Export and the next stage read only the weights."""

from __future__ import annotations

import sys
from pathlib import Path

import keras


def slim(run: Path) -> list[Path]:
    """The best checkpoints of `run`'s finished stages (no backup left beside them), saved again without the
    optimizer; the checkpoints rewritten."""
    rewritten = []
    for best in sorted(run.glob("stage*/best.keras")) or [run / "best.keras"]:
        if not best.is_file() or (best.parent / "backup").is_dir():
            continue
        lighter = best.with_name("best.slim.keras")
        keras.models.load_model(best, compile=False).save(lighter)
        lighter.replace(best)
        rewritten.append(best)
    return rewritten


if __name__ == "__main__":
    for path in slim(Path(sys.argv[1])):
        print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB without optimizer state")
