"""Effect of the kNN memory-bank size (coreset) on detection quality, on the development benchmark.

Build the data first:  python ../shared/bench/make_vtest_dev.py vtest-dev
Then:                  python benchmarks/coreset_quality.py vtest-dev [--bank-sizes 0 4096 1024 256 64]
                                                           [--epochs 20] [--json out.json] [training options ...]

Trains the appearance encoder ONCE (aivad.training.pipeline, lite backend, every row kept), then for each bank
size refits only the density estimators with the project's own ``aivad.training.fitting.fit_model`` on the
same footage and the same trained encoder (what ``--memory-bank-size N`` does in a training run),
writes one checkpoint per size, loads it with ``Detector.load`` and scores test/dev_test.mp4 with
``Detector.score_video`` (centred smoothing, as dev_quality.py). Prints frame-level AUROC overall
and per anomaly segment, the same overall AUROC of each attribute alone (does a small bank hurt the
kNN attributes, or only change their weight in the sum?), the training rows and bank rows per kNN
attribute (a bank only shrinks when it is smaller than the training rows), and the mean time per
frame spent in kNN scoring.

Bank size 0 means "keep every row". It is passed on as a huge number: ``KnnDensity(max_bank=0)``
would keep ONE row (greedy k-centre starts from one random row and adds size - 1 more).
Unknown options (e.g. --num-workers 0, --seed) go to the training run and are used for the refits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_quality import dev_preset, load_dev_set, segment_aurocs  # noqa: E402

ALL = 10**9  # "no coreset": larger than any training set


def timed_knn(detector) -> list[float]:
    """Wrap the kNN densities' score() so every call's duration is recorded (seconds, summed per call)."""
    from aivad.model.density import KnnDensity

    spent: list[float] = []
    for density in detector.model.densities.values():
        if isinstance(density, KnnDensity):
            original = density.score

            def score(features, original=original):
                started = time.perf_counter()
                out = original(features)
                spent.append(time.perf_counter() - started)
                return out

            density.score = score  # instance attribute shadows the method
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder written by make_vtest_dev.py")
    parser.add_argument(
        "--bank-sizes",
        type=int,
        nargs="+",
        default=[0, 4096, 1024, 256, 64],
        help="kNN rows kept per attribute; 0 = all",
    )
    parser.add_argument("--backend", default="lite")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=Path("out/coreset_quality"))
    parser.add_argument("--json", type=Path, default=None)
    args, extra = parser.parse_known_args()

    from aivad.features.backends import build_backend
    from aivad.features.weights import WeightsSource
    from aivad.live.detector import Detector, load_model
    from aivad.model.checkpoint import load_raw, save_checkpoint
    from aivad.model.config import ModelConfig
    from aivad.model.scoring import smooth_centred
    from aivad.training.arguments import get_args_parser
    from aivad.training.embedding import embed_footage
    from aivad.training.extraction import ShardStore, footage_key
    from aivad.training.fitting import fit_model
    from aivad.training.pipeline import main as train_main
    from aivad.training.pipeline import resolve_training_videos
    from aivad.training.summary import plain

    train_videos, test_video, segments, labels = load_dev_set(args.data)

    # 1. One real training run, keeping every row: trains the encoder and caches the footage.
    preset = dev_preset(args.backend, args.lr, args.epochs)
    trained = args.out / "trained_all.ckpt"
    argv = [
        "--videos",
        *train_videos,
        "--output",
        str(trained),
        "--epochs",
        str(args.epochs),
        "--device",
        "cpu",
        *extra,
        "--memory-bank-size",
        str(ALL),
    ]
    started = time.time()
    if train_main(argv, preset) != 0:
        raise SystemExit("training failed")
    train_s = time.time() - started

    # 2. What that run fitted its densities on: its footage cache, and the trained encoder from the checkpoint.
    train_args = get_args_parser(preset).parse_args(argv)
    data = load_raw(trained)
    config = ModelConfig.from_dict(data["hyper_parameters"])
    videos = resolve_training_videos(train_args)
    key = footage_key(
        videos,
        config.backend,
        config.backend_settings,
        config.weights,
        train_args.frame_stride,
        train_args.max_frames_per_video,
        train_args.seed,
        train_args.max_train_crops,
    )
    store = ShardStore(args.out / "trained_all_run" / f"footage-{key}")
    footage = store.load_footage()
    encoder = load_model(trained)[0].encoder.cpu().eval()
    backend = build_backend(config, WeightsSource(config.weights), "cpu")
    appearance = embed_footage(footage, videos, backend, encoder, "cpu", config.inference_precision, log=lambda _: None)
    training_rows = {
        name: int(len(appearance if name == "appearance" else footage.frozen[name]))
        for name, spec in config.density.items()
        if spec["kind"] == "knn"
    }

    report = {
        "epochs": args.epochs,
        "train_s": round(train_s, 1),
        "training_rows": training_rows,
        "test_frames": int(len(labels)),
        "banks": {},
    }
    for size in args.bank_sizes:
        label = "all" if size <= 0 else str(size)
        max_bank = ALL if size <= 0 else size
        # 3. Refit the densities exactly as aivad.training.pipeline does (no base checkpoint), with this bank size.
        started = time.time()
        model, calibration = fit_model(
            replace(config, max_bank=max_bank),
            encoder,
            footage,
            appearance,
            None,
            encoder_changed=True,
            seed=train_args.seed,
            pairs_per_second=[v.fps / train_args.frame_stride for v in videos],
            false_alarms_per_hour=train_args.false_alarms_per_hour,
        )
        fit_s = time.time() - started
        if max_bank == ALL:  # the refit must reproduce the training run's own fit bit for bit
            same = all(torch.equal(v, data["state_dict"][k]) for k, v in model.state_dict().items())
            assert same, "refitting with every row differs from the training run's checkpoint"
        checkpoint = args.out / f"bank_{label}.ckpt"
        summary = dict(data["aivad"], calibration={k: v for k, v in calibration.items() if k != "kept_from_base"})
        summary["settings"] = dict(summary["settings"], memory_bank_size=max_bank)
        save_checkpoint(
            checkpoint,
            {
                **data,
                "state_dict": model.state_dict(),
                "hyper_parameters": model.config.to_dict(),
                "aivad": plain(summary),
            },
        )

        # 4. Score the test video through the real Detector.
        detector = Detector.load(checkpoint, device="cpu")
        knn_times = timed_knn(detector)
        started = time.time()
        results = detector.score_video(test_video)
        score_s = time.time() - started
        scores = np.array([r.score for r in results])
        n_knn = max(1, sum(1 for s in config.density.values() if s["kind"] == "knn"))
        entry = segment_aurocs(labels, scores, segments)
        # Each attribute alone (its frame maxima, smoothed the same way): shows whether a smaller
        # bank hurts the kNN attributes themselves or only shifts their weight in the sum.
        entry["attributes"] = {}
        for name in config.density:
            raw = np.array([r.attribute_scores.get(name, 0.0) for r in results])
            raw[0] = raw[1]  # frame 0 has no pair, as in Detector.score_frames
            entry["attributes"][name] = segment_aurocs(labels, smooth_centred(raw, detector.smoothing_sigma), segments)
        entry.update(
            bank_rows={name: calibration["memory_rows"][name] for name in training_rows},
            threshold=detector.threshold,
            false_alarm_rate=float(np.mean([r.is_anomaly for r, label in zip(results, labels) if label == 0])),
            detection_rate=float(np.mean([r.is_anomaly for r, label in zip(results, labels) if label == 1])),
            fit_s=round(fit_s, 2),
            score_ms_per_frame=round(1000 * score_s / len(results), 2),
            # one score() call per kNN attribute per scored frame (frame 0 has no pair)
            knn_ms_per_frame=round(1000 * sum(knn_times) / max(1, len(knn_times) // n_knn), 3),
        )
        report["banks"][label] = entry

    print_table(report, [name for name, _, _ in segments])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def print_table(report: dict, segment_names: list[str]) -> None:
    print(
        "AUROC: frame-level, smoothed scores; segment = its frames against all normal frames; only:X = "
        "attribute X alone"
    )
    print("FAR / DR: false-alarm and detection rate at the checkpoint's threshold; ms/fr: mean per scored frame\n")
    print(
        f"encoder epochs {report['epochs']} (trained once, {report['train_s']} s); test frames {report['test_frames']}"
    )
    print("training rows per kNN attribute: " + ", ".join(f"{k} {v}" for k, v in report["training_rows"].items()))
    rows_cols = list(report["training_rows"])
    attributes = list(next(iter(report["banks"].values()))["attributes"]) if report["banks"] else []
    header = [
        "bank",
        "overall",
        *segment_names,
        *(f"only:{n}" for n in attributes),
        *(f"rows:{n}" for n in rows_cols),
        "FAR",
        "DR",
        "knn ms/fr",
        "score ms/fr",
    ]
    lines = []
    for label, e in report["banks"].items():
        lines.append(
            [
                label,
                *(f"{e[k]:.4f}" for k in ["overall", *segment_names]),
                *(f"{e['attributes'][n]['overall']:.4f}" for n in attributes),
                *(str(e["bank_rows"][n]) for n in rows_cols),
                f"{e['false_alarm_rate']:.3f}",
                f"{e['detection_rate']:.3f}",
                f"{e['knn_ms_per_frame']:.3f}",
                f"{e['score_ms_per_frame']:.1f}",
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    for line in [header, *lines]:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


if __name__ == "__main__":
    sys.exit(main())
