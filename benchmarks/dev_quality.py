"""Detection quality on the development benchmark (real CCTV footage with injected anomalies).

Build both splits first (other training and test frames of the same camera):
    python ../shared/bench/make_vtest_dev.py vtest-dev --split a
    python ../shared/bench/make_vtest_dev.py vtest-dev-b --split b
and, for the hardest check (the source's first half for training, its second half with a slow large
vehicle for testing), a third split:
    python benchmarks/make_vtest_split_c.py vtest-dev-c
Then:
    python benchmarks/dev_quality.py vtest-dev vtest-dev-b vtest-dev-c [--backend lite] [--epochs N ...]

Per split: trains with the from-scratch script's preset (the README's training command), scores
test/dev_test.mp4 and prints frame-level micro AUROC, overall and per anomaly segment (that
segment's frames against all normal frames), centred and causal, each attribute alone, and what a
live user would have seen at the calibrated threshold (aivad.live.evaluation: each anomaly detected or
missed and after how long, false-alarm events per hour next to the predicted rate, whether the
alarm's top region is on the injected object). References in the same run: the trivial baseline
(mean absolute frame difference) and the model with ``--epochs 0`` (frozen encoder). A change
counts only when it holds on every split.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package and the training scripts


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
    from aivad.video.files import read_frames

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


def trained_checkpoint(checkpoints: Path, data: Path) -> Path:
    """CHECKPOINTS/<split folder name>/trained.ckpt, what this script writes for a split."""
    checkpoint = checkpoints / data.name / "trained.ckpt"
    if not checkpoint.is_file():
        raise SystemExit(f"{checkpoint} does not exist: train the split first (benchmarks/dev_quality.py).")
    return checkpoint


def report_per_split(splits: list[Path], evaluate, describe, json_path: Path | None = None) -> dict:
    """``evaluate(split folder)`` for every split, each entry printed as ``describe(split, kind, entry)`` as it
    comes; the whole report written to ``json_path``. The other benchmarks' loop over the development set."""
    report = {}
    for data in splits:
        report[data.name] = evaluate(data)
        for kind, entry in report[data.name].items():
            print(describe(data.name, kind, entry), flush=True)
    if json_path:
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def dev_preset(backend: str, lr: float | None = None, epochs: int | None = None) -> dict:
    """The from-scratch script's PRESET (what the README's training command uses), for runs started here."""
    from train_aivad_from_scratch import PRESET

    preset = dict(PRESET, backend=backend, output="x")
    if lr is not None:
        preset["lr"] = lr
    if epochs is not None:
        preset["epochs"] = epochs
    return preset


def normal_frame_attributes(results, labels: np.ndarray) -> dict:
    """Per attribute, the median and 99th percentile over the test video's normal frames of its frame
    maximum (calibrated scale: 0 = median held-out normal region, 1 = the alarm level of normal footage),
    raw and causally smoothed: how far the calibration on training footage predicts new footage."""
    normal = [r for r, label in zip(results, labels) if label == 0 and r.regions]
    out = {}
    for name in results[-1].attribute_scores:
        for kind, values in (
            ("raw", [r.attribute_scores.get(name, 0.0) for r in normal]),
            ("smoothed", [r.smoothed_attribute_scores.get(name, 0.0) for r in normal]),
        ):
            out.setdefault(name, {})[kind] = {
                "median": float(np.median(values)),
                "p99": float(np.percentile(values, 99)),
            }
    return out


def write_regions(path: Path, results) -> None:
    """Every scored region of the test video (frame, box, per-attribute score; NaN where it has none),
    for analyses that need no retraining (combinations, baselines)."""
    names = list(results[-1].attribute_scores)
    rows = [
        (r.frame_index, *region.box, *(region.attributes.get(n, np.nan) for n in names))
        for r in results
        for region in r.regions
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, names=np.array(names), rows=np.array(rows, dtype=np.float64).reshape(-1, 5 + len(names)))


OPERATING_POINTS = (1.0, 10.0, 100.0, 1000.0)  # expected false alarms per hour (the rate model's thresholds)
FPS = 10.0  # the development videos' rate


def live_events(detector, results, labels: np.ndarray, data: Path, segments, threshold: float | None = None) -> dict:
    """What a live user would have seen: causal ``results`` replayed through the alarm rule at ``threshold``
    (default: the detector's), each anomaly segment found or missed, false-alarm events, localisation."""
    from aivad.live.evaluation import Segment, event_report, load_boxes

    return event_report(
        results,
        labels,
        FPS,
        detector.event_tracker(FPS, threshold),
        [Segment(*s) for s in segments],
        load_boxes(data / "test" / "boxes.csv"),
        detector.expected_false_alarms_per_hour(threshold),
    )


def evaluate_split(
    data: Path, out: Path, backend: str, epochs: int | None, extra: list[str], skip_epochs0: bool, reuse: bool = False
) -> dict:
    from aivad.live.detector import Detector
    from aivad.model.scoring import smooth_results
    from aivad.training.pipeline import main as train_main

    train_videos, test_video, segments, labels = load_dev_set(data)
    report = {"baseline_frame_difference": segment_aurocs(labels, frame_difference_baseline(test_video), segments)}
    preset = dev_preset(backend, epochs=epochs)
    runs = [("trained", preset["epochs"])] + ([] if skip_epochs0 else [("epochs0", 0)])
    for name, run_epochs in runs:
        output = out / f"{name}.ckpt"
        started = time.time()
        if not (reuse and output.is_file()):
            train_main(
                [
                    "--videos",
                    *train_videos,
                    "--output",
                    str(output),
                    "--epochs",
                    str(run_epochs),
                    "--device",
                    "cpu",
                    *extra,
                ],
                preset,
            )
        train_s = time.time() - started
        detector = Detector.load(output, device="cpu")
        started = time.time()
        causal = detector.score_video(test_video, centred=False)
        score_s = time.time() - started
        # over the scored frames' time, as Detector.score_frames smooths (a stream faster than the training
        # footage is scored one frame in k: aivad.video.frame_rate)
        sigma = detector.smoothing_sigma * detector.frame_rate.step
        centred, alone = smooth_results(causal, sigma, detector.combine, centred=True)
        write_regions(out / f"{name}_regions.npz", causal)
        # The same model without the scene baseline (aivad.model.drift), to see what re-centring does; its
        # threshold was set for the re-centred scores, so only threshold-free figures are compared.
        reference, detector.model.config.scene_baseline = detector.model.config.scene_baseline, None
        plain = detector.sibling()
        detector.model.config.scene_baseline = reference
        plain_causal = plain.score_video(test_video, centred=False)
        plain_centred, _ = smooth_results(plain_causal, sigma, detector.combine, centred=True)
        write_regions(out / f"{name}_regions_not_recentred.npz", plain_causal)
        entry = {
            "not_recentred": {
                "centred": segment_aurocs(labels, plain_centred, segments),
                "causal": segment_aurocs(labels, np.array([r.score for r in plain_causal]), segments),
                "normal_frames_attribute": normal_frame_attributes(plain_causal, labels),
            },
            "normal_frames_attribute": normal_frame_attributes(causal, labels),
            "centred": segment_aurocs(labels, centred, segments),
            "causal": segment_aurocs(labels, np.array([r.score for r in causal]), segments),
            "attribute_alone_centred": {a: segment_aurocs(labels, scores, segments) for a, scores in alone.items()},
        }
        events = live_events(detector, causal, labels, data, segments)
        entry.update(
            events=events,
            threshold=detector.threshold,
            train_s=round(train_s, 1),
            score_fps=round(len(causal) / score_s, 1),
        )
        entry["calibration"] = detector.info.get("calibration", {})
        # What a live user sees at other slider positions: each threshold the rate model gives for a rate.
        entry["operating_points"] = []
        if detector.rate_model is not None:
            for per_hour in OPERATING_POINTS:
                threshold = detector.rate_model.threshold_for(per_hour)
                point = live_events(detector, causal, labels, data, segments, threshold)
                entry["operating_points"].append(dict(point, expected_per_hour_target=per_hour, threshold=threshold))
        report[name] = entry
    return report


def print_table(reports: dict) -> None:
    splits = list(reports)
    print("\nframe AUROC (trained)             " + "  ".join(f"{s:>28}" for s in splits))
    for label, pick in (
        ("centred", lambda t: t["centred"]),
        ("causal", lambda t: t["causal"]),
        ("centred, not re-centred", lambda t: t.get("not_recentred", {}).get("centred")),
        ("causal, not re-centred", lambda t: t.get("not_recentred", {}).get("causal")),
    ):
        cells = []
        for s in splits:
            r = pick(reports[s]["trained"])
            if r is None:
                cells.append("-")
                continue
            cells.append(f"{r['overall']:.3f} (" + " ".join(f"{v:.3f}" for k, v in r.items() if k != "overall") + ")")
        print(f"  {label:32s}" + "  ".join(f"{c:>28}" for c in cells))
    for s in splits:
        e = reports[s]["trained"]["events"]
        detected = ", ".join(
            f"{x['name']}: {'%.1f s' % x['delay_s'] if x['detected'] else 'missed'}" for x in e["segments"]
        )
        loc = ", ".join(
            f"{n}: {v['share']:.0%}" if v["share"] is not None else f"{n}: n/a"
            for n, v in e.get("localisation", {}).items()
        )
        print(
            f"{s}: threshold {reports[s]['trained']['threshold']:.3f}; {detected}; false-alarm events "
            f"{e['false_alarm_events']} "
            f"({e['false_alarms_per_hour']:.0f}/h measured, "
            f"{e['false_alarms_per_hour_expected'] or float('nan'):.2g}/h expected); "
            f"normal frames in alarm {e['normal_frames_in_alarm']}; top region on object: {loc}"
        )
        drift = reports[s]["trained"].get("normal_frames_attribute", {})
        print(
            "  normal test frames, median / p99 (raw frame maximum): "
            + ", ".join(f"{n} {v['raw']['median']:.2f} / {v['raw']['p99']:.2f}" for n, v in drift.items())
        )
        for point in reports[s]["trained"].get("operating_points", []):
            detected = ", ".join(
                f"{x['name']} {'%.1f s' % x['delay_s'] if x['detected'] else 'missed'}" for x in point["segments"]
            )
            loc = ", ".join(
                f"{n} {v['share']:.0%}" for n, v in point.get("localisation", {}).items() if v["share"] is not None
            )
            print(
                f"  {point['expected_per_hour_target']:>6g}/h expected: threshold {point['threshold']:.3f}; "
                f"{detected}; "
                f"false events {point['false_alarm_events']} ({point['false_alarms_per_hour']:.0f}/h); on object: {loc}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="folders written by make_vtest_dev.py (give both splits)")
    parser.add_argument("--backend", default="lite")
    parser.add_argument("--epochs", type=int, default=None, help="default: the from-scratch preset's")
    parser.add_argument("--out", type=Path, default=Path("out/dev_quality"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-epochs0", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="score the checkpoints already in --out, do not train")
    args, extra = parser.parse_known_args()

    reports = {}
    for data in args.data:
        reports[data.name] = evaluate_split(
            data, args.out / data.name, args.backend, args.epochs, extra, args.skip_epochs0, args.reuse
        )
    text = json.dumps(reports, indent=2, default=float)
    print(text)
    print_table(reports)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
