"""``python -m aivad benchmark {ped2,avenue,shanghaitech} ROOT``: the command line of the benchmark stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from aivad.benchmark.datasets import DATASETS
from aivad.devices import DEVICE_CHOICES


def add_benchmark_command(commands) -> None:
    """The ``benchmark`` sub-command on ``python -m aivad``'s sub-parsers; its handler is ``args.run``."""
    sub = commands.add_parser(
        "benchmark",
        help="train and score a public dataset (UCSD Ped2, CUHK Avenue, ShanghaiTech) by the AI-VAD authors' protocol",
        description=(
            "Reproduce the paper: train on the dataset's training videos with the from-scratch preset, score every "
            "test video and report micro and macro frame AUROC, AP, per-video AUROC and, where pixel masks exist, "
            "RBDC/TBDC, as the AI-VAD authors evaluate (docs/benchmark.md). A stopped run resumes with the same "
            "command."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub.add_argument("dataset", choices=DATASETS, help="which benchmark")
    sub.add_argument(
        "root", type=Path, help="the dataset as distributed: the UCSDped2, 'Avenue Dataset' or shanghaitech folder"
    )
    sub.add_argument("--backend", choices=("full", "lite"), default="full", help="full: AI-VAD as published")
    sub.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="appearance encoder epochs; none given: the from-scratch preset's; 0 = plain AI-VAD",
    )
    sub.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder; none given: benchmark_DATASET_BACKEND in the current folder",
    )
    sub.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    sub.add_argument(
        "--weights",
        choices=("pretrained", "random"),
        default="pretrained",
        help="full backend's frozen networks: public pretrained weights, or random (tests only)",
    )
    sub.add_argument("--weights-dir", type=Path, default=None, help="folder with the pretrained weight files (offline)")
    sub.add_argument(
        "--num-workers",
        type=int,
        default=None,
        help="DataLoader worker processes decoding training video; none given: the training command's default",
    )
    sub.add_argument(
        "--max-frames-per-video",
        type=int,
        default=None,
        help="train on at most this many frame pairs per training video (a quick trial; the test videos are whole)",
    )
    sub.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub.set_defaults(run=main)


def main(args) -> int:
    from aivad.benchmark.runner import run_benchmark
    from aivad.errors import UserError

    if args.epochs is not None and args.epochs < 0:
        raise UserError("--epochs cannot be negative; 0 trains no encoder (plain AI-VAD).")
    return run_benchmark(args)
