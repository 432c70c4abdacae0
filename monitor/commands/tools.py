"""The dashboard and the training commands: thin handlers over their own packages."""

from __future__ import annotations

import argparse


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboards.app import serve

    serve(args.db, args.host, args.port, args.room or (), retention=args.retention, yes=args.yes)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.options import run_train

    return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.options import run_evaluate

    return run_evaluate(args)


def cmd_combine(args: argparse.Namespace) -> int:
    from training.options import run_combine

    return run_combine(args)
