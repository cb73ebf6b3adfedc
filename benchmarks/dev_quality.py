"""Detection quality on the development benchmark (real CCTV footage with injected anomalies).

Build the data first:  python ../shared/bench/make_vtest_dev.py vtest-dev
Then:                  python benchmarks/dev_quality.py vtest-dev [--backend lite] [--epochs N ...]

Trains on train/*.mp4, scores test/dev_test.mp4 and prints frame-level micro AUROC overall and per
anomaly segment (that segment's frames against all normal frames), next to two references measured
in the same run: the trivial baseline (mean absolute frame difference) and the model with
``--epochs 0`` (frozen encoder), so the gain from training is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def segment_aurocs(labels: np.ndarray, scores: np.ndarray, segments: list[tuple[str, int, int]]) -> dict:
    from sklearn.metrics import roc_auc_score

    out = {"overall": float(roc_auc_score(labels, scores))}
    normal = labels == 0
    for name, first, last in segments:
        mask = normal.copy()
        mask[first : last + 1] = True
        out[name] = float(roc_auc_score(labels[mask], scores[mask]))
    return out


def frame_difference_baseline(video: Path) -> np.ndarray:
    from aivad.videos import read_frames

    scores, previous = [], None
    for _, frame in read_frames(video):
        grey = frame.mean(axis=2)
        scores.append(0.0 if previous is None else float(np.abs(grey - previous).mean()))
        previous = grey
    scores[0] = scores[1]
    return np.array(scores)


def load_dev_set(data: Path) -> tuple[list[str], Path, list[tuple[str, int, int]], np.ndarray]:
    """Training videos, test video, anomaly segments (name, first, last frame) and frame labels."""
    train_videos = sorted(str(p) for p in (data / "train").glob("*.mp4"))
    with open(data / "test" / "segments.csv", newline="") as handle:
        segments = [(r["name"], int(r["first_frame"]), int(r["last_frame"])) for r in csv.DictReader(handle)]
    return train_videos, data / "test" / "dev_test.mp4", segments, np.load(data / "test" / "labels.npy").astype(int)


def dev_preset(backend: str, lr: float, epochs: int) -> dict:
    """What a training script's PRESET holds, for runs started from here."""
    return {"lr": lr, "epochs": epochs, "accumulate_grad_batches": 1, "output": "x", "init_checkpoint": None, "backend": backend, "video_list": "video_files_list.py"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder written by make_vtest_dev.py")
    parser.add_argument("--backend", default="lite")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=Path("out/dev_quality"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-epochs0", action="store_true")
    args, extra = parser.parse_known_args()

    from aivad.detector import Detector
    from aivad.train import main as train_main

    train_videos, test_video, segments, labels = load_dev_set(args.data)
    preset = dev_preset(args.backend, args.lr, args.epochs)
    report = {"baseline_frame_difference": segment_aurocs(labels, frame_difference_baseline(test_video), segments)}
    runs = [("trained", args.epochs)] + ([] if args.skip_epochs0 else [("epochs0", 0)])
    for name, epochs in runs:
        output = args.out / f"{name}.ckpt"
        started = time.time()
        train_main(["--videos", *train_videos, "--output", str(output), "--epochs", str(epochs), "--device", "cpu", *extra], preset)
        train_s = time.time() - started
        detector = Detector.load(output, device="cpu")
        started = time.time()
        results = detector.score_video(test_video)
        score_s = time.time() - started
        scores = np.array([r.score for r in results])
        report[name] = segment_aurocs(labels, scores, segments)
        report[name]["train_s"] = round(train_s, 1)
        report[name]["score_fps"] = round(len(results) / score_s, 1)
        report[name]["threshold"] = detector.threshold
        report[name]["false_alarm_rate"] = float(np.mean([r.is_anomaly for r, l in zip(results, labels) if l == 0]))
        report[name]["detection_rate"] = float(np.mean([r.is_anomaly for r, l in zip(results, labels) if l == 1]))
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
