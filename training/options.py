"""Options and entry points of `engage train`, `engage evaluate` and `engage combine` (TensorFlow loads lazily)."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.core import CLASSES
from monitor.errors import EngageError

if TYPE_CHECKING:
    from monitor.perception.model import ExpressionClassifier
    from training.config import TrainConfig
    from training.data import LabelledImages
    from training.evaluate import Metrics, TradeoffPoint

TRADEOFF_FLOORS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def face_sides(text: str) -> list[int]:
    """`--by-size`: two or more distinct face sides in px, 8-48 (FER faces are 48 px), comma-separated."""
    try:
        sides = sorted({int(part) for part in text.split(",")})
    except ValueError:
        sides = []
    if len(sides) < 2 or not all(8 <= side <= 48 for side in sides):
        raise EngageError(f"--by-size {text}: give two or more face sides in px, 8-48, e.g. 16,24,32,48")
    return sides


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "train":
        from training.config import add_train_options

        add_train_options(parser)
        parser.add_argument(
            "--stages",
            help="progressive resizing, SIZE:EPOCHS:LR,... e.g. 64:45:2e-3,96:24:1e-3,96:30:5e-4 "
            "(replaces --input-size, --epochs and --lr; one run folder per stage under --out)",
        )
        parser.add_argument(
            "--resume",
            type=Path,
            metavar="RUN",
            help="continue a stopped run from its last epoch's checkpoint, with the settings and stages it started "
            "with (its run.json)",
        )
        parser.add_argument(
            "--export",
            type=Path,
            metavar="RUN",
            help="export a run trained on another Keras backend (KERAS_BACKEND=jax, e.g. on a GPU machine without "
            "TensorFlow): its best checkpoints as int8 ONNX and cards",
        )
    elif command == "combine":
        parser.add_argument(
            "runs",
            nargs="+",
            type=Path,
            metavar="RUN_OR_MODEL",
            help="training run folders (best.keras + config.json), or exported .onnx models with their cards "
            "(the bundled one too; no TensorFlow needed)",
        )
        parser.add_argument("--out", type=Path, required=True, help="folder for the combined model and its card")
        parser.add_argument(
            "--by-size",
            metavar="PX,PX,...",
            help="exported models only: weigh the members by the face's size, at these sides in px (e.g. 16,24,32,48; "
            "`engage evaluate --split val --fit-bias` fits each side's weights on PublicTest)",
        )
    elif command == "select":
        parser.add_argument("candidate", type=Path, metavar="MODEL.onnx", help="a trained model (its card beside it)")
        parser.add_argument(
            "--incumbent",
            type=Path,
            metavar="MODEL.onnx",
            help="the model it would replace (default: the bundled model)",
        )
        parser.add_argument("--fer2013", type=Path, required=True, help="fer2013.csv or a train/ test/ image folder")
        parser.add_argument("--ferplus", type=Path, required=True, help="FER+ fer2013new.csv")
        parser.add_argument("--images", type=Path, help="FER+ image root holding FER2013Valid/")
        parser.add_argument(
            "--rule",
            default="by-size",
            choices=("by-size", "small-face-recall", "back-row"),
            help="the written rule that judges: by-size (2026-12-07, in force), small-face-recall (2026-12-08, for "
            "candidates meant to lift the weakest class on small faces) or back-row (2026-12-02)",
        )
        parser.add_argument(
            "--out", type=Path, help="where the verdict is written as JSON (default: selection.json beside MODEL)"
        )
    elif command == "convert":
        parser.add_argument("flatbuffer", type=Path, metavar="MODEL.tflite", help="a model of an earlier release")
        parser.add_argument("onnx", type=Path, metavar="MODEL.onnx", help="where to write it (its card beside it)")
    else:
        parser.add_argument(
            "--model",
            type=Path,
            action="append",
            help="the .onnx to evaluate (default: the bundled model); repeated: their averaged probabilities",
        )
        parser.add_argument("--fer2013", type=Path, help="fer2013.csv or a train/ test/ image folder")
        parser.add_argument("--ferplus", type=Path, help="FER+ fer2013new.csv")
        parser.add_argument("--images", type=Path, help="FER+ image root holding FER2013Test/")
        parser.add_argument(
            "--split",
            choices=("test", "val"),
            default="test",
            help="test = PrivateTest (report), val = PublicTest (for choices)",
        )
        parser.add_argument(
            "--views",
            type=lambda text: text.split(","),
            help="test-time views averaged, e.g. full,mirror,centre90 (default: as the card says)",
        )
        parser.add_argument(
            "--face-size",
            type=int,
            help="score faces downscaled to this many px (and upscaled back by the model), as small faces look",
        )
        parser.add_argument(
            "--fit-bias",
            action="store_true",
            help="with --split val: choose the card's class_bias for the best balanced accuracy, averaged over the "
            "label sets given, and write it into the card",
        )
        parser.add_argument(
            "--networks-a-face",
            type=int,
            metavar="N",
            help="with --fit-bias on a model combined --by-size: weigh at most N members above 0 at each size, so no "
            "face runs more than N networks (default: all members may run)",
        )
        parser.add_argument(
            "--tradeoff",
            choices=CLASSES,
            help="with --fer2013 and --ferplus: FER+ accuracy at floors on FER2013's recall of this class, the most "
            "the labels allow any model beside this model's with its best class bias",
        )
        parser.add_argument("--out", type=Path, help="report folder (default: beside the model)")
        parser.add_argument("--update-card", action="store_true", help="write the PrivateTest metrics into the card")


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig named by `engage train` options (their dests are the config's field names)."""
    from training.config import TrainConfig

    return TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)})


def run_train(args: argparse.Namespace) -> int:
    from training.config import Stage
    from training.train import export_trained, record_run, resumed_run, train, train_stages

    if args.export:
        if args.data or args.stages or args.resume:
            raise EngageError("--export turns a finished run into the model; give no --data, --stages or --resume")
        model = export_trained(args.export)
        print(f"model written to {model} (+ {model.with_suffix('.json').name}, int8 variant, history.png)")
        return 0
    if args.resume:
        if args.data or args.stages:
            raise EngageError("--resume continues a run with the settings it started with; give no --data or --stages")
        config, stages = resumed_run(args.resume)
    else:
        stages = Stage.parse_list(args.stages) if args.stages else []
        config = train_config(args)
        if not config.data:
            raise EngageError("give --data PATH (the training faces), or --resume RUN to continue a run")
        absent = [path for path in config.data if not path.exists()]
        if absent:  # before the run folder is made: a mistyped --data leaves no empty run
            raise EngageError(f"{absent[0]}: no such file or folder")
        record_run(config, stages)
    model = train_stages(config, stages) if stages else train(config)
    if model.suffix == ".keras":
        print(f"trained {config.out}; export it where TensorFlow is: engage train --export {config.out}")
        return 0
    print(f"model written to {model} (+ {model.with_suffix('.json').name}, int8 variant, history.png)")
    return 0


def run_combine(args: argparse.Namespace) -> int:
    exported = [path.suffix == ".onnx" for path in args.runs]
    if any(exported) and not all(exported):
        raise EngageError("combine either training runs or exported .onnx models, not both")
    if args.by_size and not all(exported):
        raise EngageError("--by-size weighs exported .onnx models; export the runs first")
    if all(exported):
        from training.pair import combine_exported

        model = combine_exported(args.runs, args.out, face_sides(args.by_size) if args.by_size else None)
        print(
            f"model written to {model} (+ {model.with_suffix('.json').name}); choose its class bias with "
            f"engage evaluate --model {model} --split val --fit-bias"
        )
        return 0
    from training.ensemble import combine

    model = combine(args.runs, args.out)
    print(f"model written to {model} (+ {model.with_suffix('.json').name}, int8 variant)")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from monitor.perception.model import ModelCard, card_path_for
    from training.export import convert_tflite

    if args.onnx.suffix != ".onnx":
        raise EngageError(f"{args.onnx}: the converted model's name must end in .onnx")
    card = ModelCard.read(card_path_for(args.flatbuffer))
    model = convert_tflite(args.flatbuffer, args.onnx, card)
    print(f"model written to {model} (+ {model.with_suffix('.json').name})")
    return 0


def run_select(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    import numpy as np

    from monitor.perception.model import ExpressionClassifier
    from training.data import load_dataset
    from training.evaluate import compare_labels
    from training.labels import LabelMapping
    from training.selection import RULES, WHOLE, PublicTest, fitted_bias, judge, networks, predicted, score

    candidate, incumbent = ExpressionClassifier(args.candidate), ExpressionClassifier(args.incumbent)
    incumbent_bias = incumbent.card.class_bias  # as it ships; `predicted` sets the bias aside
    if candidate.card.mapping != incumbent.card.mapping:
        raise EngageError("the two models map emotions to classes differently; they are not judged on one truth")
    mapping = LabelMapping(candidate.card.mapping or LabelMapping().mapping)
    ferplus = load_dataset(args.ferplus, mapping, ferplus_images=args.images).subset("val")
    fer2013 = load_dataset(args.fer2013, mapping).subset("val")
    consensus = compare_labels(fer2013, ferplus)[1]
    if consensus is None:
        raise EngageError(f"{args.fer2013} and {args.ferplus} share no PublicTest face: give the same faces' labels")
    data, rule = PublicTest(ferplus, fer2013, consensus), RULES[args.rule]
    candidate_p, incumbent_p = predicted(candidate, data, rule), predicted(incumbent, data, rule)
    bias = fitted_bias(candidate_p, data)
    scores = {
        "candidate": score(candidate_p, data, bias),
        "incumbent": score(incumbent_p, data, np.asarray(incumbent_bias, np.float32)),
    }
    cost = (networks(candidate.card), networks(incumbent.card))
    verdict = judge(scores["candidate"], scores["incumbent"], rule, bias, cost)
    print(f"rule written {rule.written}")
    print(f"PublicTest, int8, views {','.join(rule.views)}; each model with its class bias (the candidate's fitted)")
    for size in rule.sizes:
        for name, model in (("candidate", args.candidate), ("incumbent", incumbent.model_path)):
            result = scores[name][size]
            print_metrics(f"{'whole' if size == WHOLE else f'{size} px'} {name} FER+ ({model.name})", result.ferplus)
            print(f"{'':>8}consensus accuracy {result.consensus.accuracy:.4f}  n={result.consensus.images}")
    for check in verdict.checks:
        gain = check.candidate - check.incumbent
        print(
            f"{'pass' if check.passed else 'FAIL'}  {check.what}: {check.candidate:.4g} against {check.incumbent:.4g} "
            f"({gain:+.4f}, needs {check.needed:+.4f} or more)"
        )
    print(
        f"verdict: {'the candidate ships' if verdict.ships else 'the incumbent stays'}; the candidate's fitted class "
        f"bias {dict(zip(CLASSES, verdict.candidate_bias, strict=True))}"
    )
    if verdict.ships:
        print(
            "to ship it: copy it and its card over monitor/models/default.*, then `engage evaluate --split val "
            "--fit-bias` and `engage evaluate --update-card` (README, Model)"
        )
    out = args.out or args.candidate.with_name("selection.json")
    record = {
        "rule": asdict(rule) | {"name": args.rule},
        "candidate": str(args.candidate),
        "incumbent": str(incumbent.model_path),
        "ships": verdict.ships,
        "checks": [asdict(check) | {"passed": check.passed} for check in verdict.checks],
        "candidate_bias": verdict.candidate_bias,
        "scores": {
            name: {str(size): {k: v.as_dict() for k, v in vars(s).items()} for size, s in by_size.items()}
            for name, by_size in scores.items()
        },
    }
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"written to {out}")
    return 0


def print_metrics(name: str, result: Metrics) -> None:
    recalls = "  ".join(f"{c} R {v['recall']:.3f}" for c, v in result.per_class.items())
    print(
        f"{name}: accuracy {result.accuracy:.4f}  balanced {result.balanced_accuracy:.4f}  "
        f"macro-F1 {result.macro_f1:.4f}  n={result.images}  {recalls}"
    )


def print_tradeoff(cls: str, split_name: str, points: list[TradeoffPoint]) -> None:
    print(
        f"FER+ accuracy ({split_name}) while FER2013 {cls} recall is at least a floor: the most the labels allow any "
        "model / this model with its best class bias"
    )
    for point in points:
        line = f"  {cls} recall >= {point.floor:.2f}: labels {point.label_ceiling:.4f} / model "
        if point.bias is None:
            print(line + "none (no bias reaches the floor)")
            continue
        bias = "  ".join(f"{c} {b:+.2f}" for c, b in zip(CLASSES, point.bias, strict=True) if c != "positive")
        print(line + f"{point.accuracy:.4f} (smallest FER+ recall {point.smallest_recall:.3f}; bias {bias})")


def fitted_member_weights(
    classifier: ExpressionClassifier, faces: LabelledImages, most: int | None
) -> dict[str, list[float]]:
    """The member weights at each side the classifier's card names, fitted on these faces shrunk to that side, at
    most `most` members run on a face (default: all)."""
    from training.augment import shrunk
    from training.evaluate import fit_member_weights, predict

    sides = [int(side) for side in classifier.card.member_weights]
    return fit_member_weights(
        {
            side: (
                predict(classifier, faces.images if side >= 48 else shrunk(faces.images, side), by_member=True),
                faces.labels,
            )
            for side in sides
        },
        most,
    )


def run_evaluate(args: argparse.Namespace) -> int:
    from monitor.perception.model import ExpressionClassifier, ModelCard, card_path_for, with_class_bias
    from monitor.perception.views import parse_views
    from training.augment import shrunk
    from training.data import load_dataset
    from training.evaluate import (
        compare_labels,
        ensemble_predict,
        fit_class_bias,
        metrics,
        recall_tradeoff,
        write_report,
    )
    from training.labels import LabelMapping

    if not (args.fer2013 or args.ferplus):
        raise EngageError("give --fer2013 PATH and/or --ferplus fer2013new.csv")
    classifiers = [ExpressionClassifier(path) for path in args.model or [None]]
    if (args.update_card or args.fit_bias) and len(classifiers) > 1:
        raise EngageError("--update-card and --fit-bias write one model's card; give a single --model")
    if args.update_card and (args.split != "test" or args.face_size):
        raise EngageError("--update-card records PrivateTest metrics of whole faces only (use --split test)")
    if args.fit_bias and args.split != "val":
        raise EngageError("--fit-bias chooses the class bias on PublicTest only (use --split val)")
    if args.networks_a_face is not None and not (args.fit_bias and classifiers[0].card.member_weights):
        raise EngageError("--networks-a-face limits the member weights --fit-bias fits on a model combined --by-size")
    if args.networks_a_face is not None and not 1 <= args.networks_a_face <= classifiers[0].members:
        raise EngageError(f"--networks-a-face must be 1-{classifiers[0].members} (the model's members)")
    if args.tradeoff and not (args.fer2013 and args.ferplus):
        raise EngageError("--tradeoff weighs one label set against the other: give --fer2013 and --ferplus")
    if args.tradeoff and args.update_card:
        raise EngageError("--tradeoff sets the card's class bias aside; record the card's figures without it")
    if args.face_size is not None and not 8 <= args.face_size <= 48:
        raise EngageError(f"--face-size must be 8-48 px (the faces are 48x48), got {args.face_size}")
    if any(c.card.mapping != classifiers[0].card.mapping for c in classifiers):
        raise EngageError("the models map emotions to classes differently; an ensemble needs one mapping")
    if args.views:
        parse_views(args.views)  # a bad name is a one-line error before any data is read
        for classifier in classifiers:
            classifier.card = replace(classifier.card, views=args.views)
    classifier = classifiers[0]
    if args.fit_bias or args.tradeoff:  # a bias is chosen on the models' own probabilities
        for member in classifiers:
            member.card = replace(member.card, class_bias=[0.0] * len(CLASSES))
    mapping = LabelMapping(classifier.card.mapping or LabelMapping().mapping)
    split_name = {"test": "privatetest", "val": "publictest"}[args.split]
    tests = {}
    if args.fer2013:
        tests["fer2013"] = load_dataset(args.fer2013, mapping).subset(args.split)
    if args.ferplus:  # every face with an emotion majority, and the FER+ authors' test set: clear majorities only
        for name, clear in (("ferplus", False), ("ferplus_clear", True)):
            data = load_dataset(args.ferplus, mapping, ferplus_images=args.images, clear_majority=clear)
            tests[name] = data.subset(args.split)
    agreements = {}
    if args.fer2013 and args.ferplus:  # also score the faces whose two labels agree: the one truth both sets share
        agreement, consensus = compare_labels(tests["fer2013"], tests["ferplus"])
        agreements[f"label_agreement_{split_name}"] = agreement
        if consensus is not None:
            tests["consensus"] = consensus
    if args.fit_bias and classifier.card.member_weights:  # the members' weights first: the bias is fitted on them
        if "ferplus" not in tests:
            raise EngageError("--fit-bias weighs this model's members on FER+ faces: give --ferplus")
        weights = fitted_member_weights(classifier, tests["ferplus"], args.networks_a_face)
        classifier.card = replace(classifier.card, member_weights=weights)
        print(f"member weights chosen on ferplus_{split_name} by face side: {classifier.card.member_weights}")
    suffix = f"_{args.face_size}px" if args.face_size else ""
    scored = {}
    for name, test in tests.items():
        images = shrunk(test.images, args.face_size) if args.face_size else test.images
        scored[f"{name}_{split_name}{suffix}"] = (ensemble_predict(classifiers, images), test.labels)
    results = {name: metrics(labels, p.argmax(axis=1)) for name, (p, labels) in scored.items()}
    out = args.out or classifier.model_path.parent / f"{classifier.model_path.stem}-evaluation"
    tradeoffs = {}
    if args.tradeoff:
        cls, agreement = CLASSES.index(args.tradeoff), agreements[f"label_agreement_{split_name}"]
        first, second = scored[f"fer2013_{split_name}{suffix}"], scored[f"ferplus_{split_name}{suffix}"]
        tradeoffs[f"tradeoff_{args.tradeoff}_{split_name}{suffix}"] = recall_tradeoff(
            first, second, agreement, cls, TRADEOFF_FLOORS
        )
    report = write_report(results, out, agreements, tradeoffs)
    for name, result in results.items():
        print_metrics(name, result)
    for points in tradeoffs.values():
        print_tradeoff(args.tradeoff, split_name, points)
    if args.fit_bias:
        fitted = [name for name in scored if not name.startswith(("consensus", "ferplus_clear"))]
        bias = fit_class_bias({name: scored[name] for name in fitted})
        print(f"class bias chosen on {', '.join(fitted)}: {dict(zip(CLASSES, bias.round(2).tolist(), strict=True))}")
        for name in fitted:
            probabilities, labels = scored[name]
            print_metrics(f"{name} with the bias", metrics(labels, with_class_bias(probabilities, bias).argmax(axis=1)))
        card_path = card_path_for(classifier.model_path)
        card = ModelCard.read(card_path)  # as on disk: only the bias changes
        card.class_bias = [round(float(b), 4) for b in bias]
        card.member_weights = classifier.card.member_weights
        card.write(card_path)
        print(f"class_bias{' and member_weights' if card.member_weights else ''} written into {card_path}")
    for agreement in agreements.values():
        print(
            f"FER2013 and FER+ labels agree on {agreement.agreement:.4f} of the {agreement.shared} faces in both, "
            f"so no model can score above {1 + agreement.agreement:.4f} in the two accuracies summed on them"
        )
    print(f"report: {report} (+ confusion PNGs); views averaged: {', '.join(classifier.card.views)}")
    if args.update_card:
        card = classifier.card
        card.metrics.update({k: v.as_dict() for k, v in results.items()})
        card.write(card_path_for(classifier.model_path))
        print(f"metrics written into {card_path_for(classifier.model_path)}")
    return 0
