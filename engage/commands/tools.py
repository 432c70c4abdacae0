"""The dashboard and the training commands: thin handlers over their own packages."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.errors import EngageError


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboards.app import serve

    serve(args.db, args.host, args.port, args.room or (), retention=args.retention, yes=args.yes)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.options import run_train

    with training_extra("train"):
        return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.options import run_evaluate

    with training_extra("evaluate"):
        return run_evaluate(args)


def cmd_select(args: argparse.Namespace) -> int:
    from training.options import run_select

    with training_extra("select"):
        return run_select(args)


def cmd_combine(args: argparse.Namespace) -> int:
    from training.options import run_combine

    with training_extra("combine"):
        return run_combine(args)


def cmd_convert(args: argparse.Namespace) -> int:
    from training.options import run_convert

    with training_extra("convert"):
        return run_convert(args)


@contextmanager
def training_extra(command: str) -> Iterator[None]:
    """A missing training package is one line naming the extra that brings it, not a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("tensorflow", "keras", "matplotlib", "tf2onnx", "onnx"):
            raise
        raise EngageError(
            f"engage {command} needs {exc.name.split('.')[0]}, which the training extra brings: "
            "pip install 'engage[train]' (about 1.3 GB)"
        ) from None
