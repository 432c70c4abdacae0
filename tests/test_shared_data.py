"""Checks on the real data beside the project (../shared); skipped cleanly on a fresh clone without it."""

import json
import tarfile

import pytest

from engage.cli import main
from monitor.perception.model import ExpressionClassifier
from monitor.store import open_store
from monitor.tables import interval_table
from tests.conftest import SHARED

CLIP = SHARED / "video" / "short_hamilton_clip.mp4"
FER2013 = SHARED / "data" / "fer2013_images.tar.gz"
FERPLUS = SHARED / "data" / "ferplus" / "ferplus_images.tar.gz"


@pytest.mark.skipif(not CLIP.is_file(), reason="../shared/video/short_hamilton_clip.mp4 is not here")
def test_real_clip_with_the_bundled_model(tmp_path):
    db = tmp_path / "s.db"
    assert main(["analyze", str(CLIP), "--fps", "5", "--interval", "2", "--db", str(db)]) == 0
    with open_store(db) as store:
        (session,) = store.sessions()
        table = interval_table(store.intervals(session.id))
    assert session.status == "completed" and len(table) == 5  # 9.2 s in 2 s intervals
    assert table["frames"].sum() == 46 and table["faces_max"].max() >= 1


@pytest.mark.slow
@pytest.mark.skipif(not (FER2013.is_file() and FERPLUS.is_file()), reason="../shared FER data is not here")
def test_evaluate_reproduces_the_metrics_in_the_shipped_card(tmp_path):
    for archive in (FER2013, FERPLUS):
        with tarfile.open(archive) as tar:
            tar.extractall(tmp_path, filter="data")
    out = tmp_path / "report"
    args = [
        "evaluate",
        "--fer2013",
        str(tmp_path / "fer2013"),
        "--ferplus",
        str(FERPLUS.parent / "fer2013new.csv"),
        "--images",
        str(tmp_path / "images"),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    measured = json.loads((out / "evaluation.json").read_text())
    shipped = ExpressionClassifier().card.metrics
    # Equal within what int8 rounding moves between runtimes and CPUs: LiteRT and ONNX Runtime on the same weights
    # differ by 16-20 in the cells' summed absolute differences (8-10 faces of 2,562-3,589) and 0.2 accuracy points.
    for key in ("fer2013_privatetest", "ferplus_privatetest", "ferplus_clear_privatetest", "consensus_privatetest"):
        moved = sum(
            abs(m - s)
            for row_m, row_s in zip(measured[key]["confusion"], shipped[key]["confusion"], strict=True)
            for m, s in zip(row_m, row_s, strict=True)
        )
        assert moved <= 0.01 * measured[key]["images"], (key, moved)
        assert abs(measured[key]["accuracy"] - shipped[key]["accuracy"]) <= 0.005, key
    agreement = measured["label_agreement_privatetest"]  # the README's 72.8% of 3,521 shared faces
    assert agreement["shared"] == 3521 and agreement["agreement"] == 0.7276


HEADPOSE = SHARED / "data" / "headpose"


@pytest.mark.skipif(not (HEADPOSE / "labels.csv").is_file(), reason="../shared/data/headpose is not here")
def test_stored_attention_falls_when_heads_turn_away_and_recovers():
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "bench" / "bench_attention.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--headpose", str(HEADPOSE), "--seconds", "30"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    line = next(row for row in done.stdout.splitlines() if row.startswith("mean attention by third"))
    first, middle, last = (float(x) for x in line.split(": ")[1].split(" (")[0].split(" / "))
    assert middle <= first - 0.3 and last >= middle + 0.3, line
