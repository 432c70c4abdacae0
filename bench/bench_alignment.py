"""Does landmark alignment help? PrivateTest faces pasted into scenes, found by YuNet, classified from three crops.

Run: python bench/bench_alignment.py --fer2013 DATA/fer2013 [--ferplus ../shared/data/ferplus/fer2013new.csv
     --images DATA/images] [--sizes 40:120] [--roll 15] [--split val] [--model PATH]
Each test face is pasted once (random size in --sizes px, roll up to --roll degrees) into a 1280x720 scene of
room-like clutter (bench/scenes.py) and detected with the default YuNet detector. Every face the detector
finds (IoU >= 0.3) is classified by the bundled model from (1) the detector's box, (2) the landmark crop
without levelling and (3) the aligned crop of monitor/perception/align.py; the 48x48 original is the reference.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scenes import scene

from monitor.core import CLASSES
from monitor.perception.align import face_crop
from monitor.perception.detect import YuNetDetector
from monitor.perception.model import ExpressionClassifier
from monitor.track import match_boxes
from training.data import LabelledImages, load_dataset
from training.evaluate import metrics
from training.labels import LabelMapping

PER_SCENE = 24


def crops_of_detected_faces(test: LabelledImages, sizes: tuple[int, int], roll: float) -> dict[str, list]:
    """Crops of each test face found in its scene, by method, with the face's index."""
    detector, rng = YuNetDetector(), np.random.default_rng(0)
    crops: dict[str, list] = {"index": [], "box": [], "landmarks, not levelled": [], "aligned": []}
    for start in range(0, len(test.images), PER_SCENE):
        frame, pasted = scene(rng, list(test.images[start : start + PER_SCENE]), sizes, max_roll=roll)
        found = detector.detect(frame)
        for i, j in match_boxes([p.box for p in pasted], [f.box for f in found], min_iou=0.3).items():
            crops["index"].append(start + pasted[i].source)
            crops["box"].append(found[j].box.crop(frame))
            crops["landmarks, not levelled"].append(face_crop(frame, found[j], rotate=False))
            crops["aligned"].append(face_crop(frame, found[j]))
    return crops


def report(name: str, labels: np.ndarray, predicted: np.ndarray) -> str:
    result = metrics(labels, predicted)
    recalls = [result.per_class[c]["recall"] for c in CLASSES]
    return f"{name:26s} {result.accuracy:8.3f} {np.mean(recalls):9.3f} " + " ".join(f"{r:8.3f}" for r in recalls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fer2013", type=Path, required=True, help="FER2013 image folders (train/, test/)")
    parser.add_argument("--ferplus", type=Path, help="FER+ fer2013new.csv (its labels are scored too)")
    parser.add_argument("--images", type=Path, help="FER+ image folders")
    parser.add_argument("--sizes", default="40:120", help="face sizes in px, MIN:MAX (default 40:120)")
    parser.add_argument("--roll", type=float, default=15.0, help="largest roll in degrees (default 15)")
    parser.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="test = PrivateTest (report), val = PublicTest (choices)",
    )
    parser.add_argument("--model", type=Path, help="expression model (default: bundled)")
    args = parser.parse_args()
    sizes = tuple(int(v) for v in args.sizes.split(":"))
    mapping = LabelMapping()
    label_sets = {"FER2013": load_dataset(args.fer2013, mapping).subset(args.split)}
    if args.ferplus:
        label_sets["FER+ majority"] = load_dataset(args.ferplus, mapping, ferplus_images=args.images).subset(args.split)
    classifier = ExpressionClassifier(args.model)
    print(f"model {classifier.version}; faces pasted at {sizes[0]}-{sizes[1]} px, roll up to {args.roll:g} deg")
    for label_set, test in label_sets.items():
        crops = crops_of_detected_faces(test, sizes, args.roll)
        index = np.array(crops.pop("index"))
        labels = test.labels[index]
        found = f"{len(index)} of {len(test.images)} faces detected ({len(index) / len(test.images):.1%})"
        print(f"\n{label_set} {'PrivateTest' if args.split == 'test' else 'PublicTest'}: {found}")
        print(f"{'crop':26s} {'accuracy':>8s} {'balanced':>9s} " + " ".join(f"{c:>8s}" for c in CLASSES))
        print(report("48x48 original (reference)", labels, classifier.predict(list(test.images[index])).argmax(1)))
        for method, faces in crops.items():
            print(report(method, labels, classifier.predict(faces).argmax(1)))


if __name__ == "__main__":
    main()
