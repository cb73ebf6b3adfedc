"""Teaching one false alarm on each development split: is it gone, what else changed, do the anomalies still alarm.

    python benchmarks/teach_table.py RUNS DEV SPLIT [SPLIT ...] [--out DIR]

RUNS/<split>/trained.ckpt is a model trained with the README's command (benchmarks/dev_quality.py
writes them there); DEV/<split>/test/ holds dev_test.mp4, labels.npy and segments.csv. Per split:
1. score the test video causally (as a camera sees it) with the trained checkpoint;
2. walk the slider from rare to frequent false alarms (the checkpoint's rate model: RATES events per
   hour) and stop at the first threshold at which the test video has a false-alarm event (an event
   overlapping no anomaly segment, nor the EDGE_S before or after one);
3. teach that event's frames (``python -m aivad teach`` does the same: aivad.model.teach), re-score
   the video with the taught checkpoint at the same threshold, and report: is that event gone, how
   many of the other normal stretches that alarmed before still do, whether every anomaly segment
   still alarms and after how long (before / after), at that threshold and at the default one;
4. the same lower on the slider, where OTHER_FALSE_EVENTS other normal stretches alarm before the lesson;
5. measure what the lesson did to velocity elsewhere (on how many anomaly frames and normal frames outside
   the taught stretch the frame's velocity score dropped by LOWERED or more, and the largest drop), and
   the largest rise of a frame's score (only the scene baseline can raise one: aivad.model.teach).
Writes DIR/<split>.json (default: RUNS/teach) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATES = tuple(float(r) for r in np.round(np.logspace(0, 5, 51), 3))  # 1 to 100000 per hour, 10 steps a decade
FPS = 10.0  # the development videos' rate
# The second slider position: lower, until this many other normal stretches alarm
OTHER_FALSE_EVENTS = 1
LOWER_STEP = 0.02  # of the first position's threshold
LOWEST_FACTOR = 0.3
LOWERED = 0.1  # a drop of the velocity score counted as lowered (of the calibrated scale: 1 = alarm level)
EDGE_S = 2.0  # an event this close to an anomaly segment belongs to it (the alarm rule's merge gap)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, help="folder with <split>/trained.ckpt")
    parser.add_argument("dev", type=Path, help="folder with <split>/test/")
    parser.add_argument("splits", nargs="+", help="split names, e.g. vtest-dev vtest-dev-b")
    parser.add_argument("--out", type=Path, default=None, help="where the taught checkpoints and JSON go")
    parser.add_argument(
        "--table-only", action="store_true", help="print the table of the splits' JSON in --out, scoring nothing"
    )
    parser.add_argument(
        "--kernel-variance",
        type=float,
        default=None,
        help="try another width of the velocity GMM's taught kernels (aivad.model.lessons.KERNEL_VARIANCE)",
    )
    return parser


def overlaps(event, first: int, last: int) -> bool:
    end = event.end_frame if event.end_frame is not None else event.start_frame
    return event.start_frame <= last and end >= first


def events_at(results, detector, threshold: float) -> list:
    from aivad.model.alarm import alarm_events

    return alarm_events(results, detector.event_tracker(FPS, threshold))


def segment_alarms(events, segments) -> dict:
    """Per anomaly segment: seconds from its first frame to the first event overlapping it (None: missed)."""
    out = {}
    for name, first, last in segments:
        hits = [e for e in events if overlaps(e, first, last)]
        out[name] = round(max(0, hits[0].start_frame - first) / FPS, 1) if hits else None
    return out


def false_events(events, segments) -> list:
    """Events on normal frames. One that starts or ends within EDGE_S of an anomaly segment is that anomaly's:
    the injected object entering or leaving leaves a frame-difference region behind (split c's vehicle
    scores 15.9 on velocity the frame after it vanishes), and the alarm rule's merge gap joins such
    events to the anomaly's at lower thresholds anyway."""
    edge = int(round(EDGE_S * FPS))
    return [e for e in events if not any(overlaps(e, first - edge, last + edge) for _, first, last in segments)]


def still_alarming(events_before, events_after) -> int:
    """How many of ``events_before`` an event of ``events_after`` still overlaps."""
    return sum(any(overlaps(a, e.start_frame, e.end_frame) for a in events_after) for e in events_before)


def more_frequent(before, after, detector, threshold: float, first: int, last: int, segments) -> dict:
    """Lower on the slider, where other normal stretches alarm too: the highest threshold below ``threshold`` (in
    steps of LOWER_STEP of it) with OTHER_FALSE_EVENTS false-alarm events besides the taught one before the
    lesson; how many of those still alarm after it, new ones, and the anomalies."""
    for factor in np.arange(1.0 - LOWER_STEP, LOWEST_FACTOR - 1e-9, -LOWER_STEP):
        lower = threshold * factor
        false_before = false_events(events_at(before, detector, lower), segments)
        others = [e for e in false_before if not overlaps(e, first, last)]
        if len(others) >= OTHER_FALSE_EVENTS:
            break
    else:
        return {"note": f"no other false-alarm event down to {LOWEST_FACTOR:g} times the threshold"}
    events_after = events_at(after, detector, lower)
    false_after = false_events(events_after, segments)
    return {
        "threshold": round(lower, 4),
        "other_false_events_before": len(others),
        "other_false_events_still": still_alarming(others, false_after),
        "false_events_after": len(false_after),
        "anomalies_after": segment_alarms(events_after, segments),
    }


def velocity_drop(before, after, frames: np.ndarray) -> dict:
    """How the frame's velocity score (max over its regions) dropped over ``frames``: the largest drop, and on
    how many of the frames it dropped by LOWERED or more."""
    drops = [
        before[i].attribute_scores.get("velocity", np.nan) - after[i].attribute_scores.get("velocity", np.nan)
        for i in frames
    ]
    drops = np.array([d for d in drops if np.isfinite(d)])
    return {
        "largest": round(float(drops.max()), 3) if len(drops) else 0.0,
        "frames_lowered": int((drops >= LOWERED).sum()),
        "frames": int(len(drops)),
    }


def evaluate(split: str, runs: Path, dev: Path, out: Path) -> dict:
    from aivad.live.detector import Detector
    from aivad.model.teach import Stretch, teach
    from benchmarks.dev_quality import load_dev_set

    _, video, segments, labels = load_dev_set(dev / split)
    trained = runs / split / "trained.ckpt"
    detector = Detector.load(trained, device="cpu")
    started = time.time()
    before = detector.score_video(video, centred=False)
    score_s = time.time() - started
    chosen = None
    for rate in RATES:
        threshold = detector.rate_model.threshold_for(rate)
        found = false_events(events_at(before, detector, threshold), segments)
        if found:
            chosen = (rate, threshold, found)
            break
    from aivad.model import lessons

    report = {
        "split": split,
        "default_threshold": detector.threshold,
        "score_s": round(score_s, 1),
        "kernel_variance": lessons.KERNEL_VARIANCE,
    }
    if chosen is None:
        report["note"] = f"no false-alarm event at any rate up to {RATES[-1]:g} per hour: nothing to teach"
        return report
    rate, threshold, found = chosen
    lesson = found[0]
    last = lesson.end_frame if lesson.end_frame is not None else lesson.start_frame
    taught_path = out / split / "taught.ckpt"
    taught_path.parent.mkdir(parents=True, exist_ok=True)
    taught_path.unlink(missing_ok=True)
    record = teach(trained, [Stretch(video, lesson.start_frame, last)], taught_path, device="cpu")
    after = Detector.load(taught_path, device="cpu").score_video(video, centred=False)
    events_before, events_after = events_at(before, detector, threshold), events_at(after, detector, threshold)
    others = found[1:]
    false_after = false_events(events_after, segments)
    anomalous = np.flatnonzero(labels == 1)
    normal_elsewhere = np.array([i for i in np.flatnonzero(labels == 0) if not lesson.start_frame <= i <= last])
    default_before = events_at(before, detector, detector.threshold)
    default_after = events_at(after, detector, detector.threshold)
    report.update(
        rate_per_hour=rate,
        threshold=round(threshold, 4),
        taught_frames=[lesson.start_frame, last],
        regions_added=record["regions"],
        memory=record["memory"],
        taught_event_gone=not any(overlaps(e, lesson.start_frame, last) for e in events_after),
        other_false_events_before=len(others),
        other_false_events_still=still_alarming(others, false_after),
        new_false_events_after=sum(
            not any(overlaps(a, b.start_frame, b.end_frame) for b in false_events(events_before, segments))
            for a in false_after
        ),
        anomalies_at_threshold_before=segment_alarms(events_before, segments),
        anomalies_at_threshold_after=segment_alarms(events_after, segments),
        anomalies_at_default_before=segment_alarms(default_before, segments),
        anomalies_at_default_after=segment_alarms(default_after, segments),
        frame_score_largest_rise=round(max(a.score - b.score for a, b in zip(after, before)), 3),
        more_frequent=more_frequent(before, after, detector, threshold, lesson.start_frame, last, segments),
        velocity_drop_on_anomaly_frames=velocity_drop(before, after, anomalous),
        velocity_drop_on_other_normal_frames=velocity_drop(before, after, normal_elsewhere),
    )
    return report


def seconds(value) -> str:
    return "missed" if value is None else f"{value:.1f} s"


def drop(figures: dict) -> str:
    return f"{figures['frames_lowered']} of {figures['frames']} frames (at most {figures['largest']:.2f})"


def print_table(reports: list[dict]) -> None:
    print(
        "| split | false alarms/h (threshold) | taught frames | taught event gone | other false events still "
        "alarming | anomalies alarm, time to alarm before -> after | velocity lowered by 0.1 or more: anomaly / "
        "other normal frames |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    for r in reports:
        if "note" in r:
            print(f"| {r['split']} | {r['note']} | | | | | |")
            continue
        before, after = r["anomalies_at_threshold_before"], r["anomalies_at_threshold_after"]
        anomalies = ", ".join(f"{name} {seconds(before[name])} -> {seconds(after[name])}" for name in before)
        print(
            f"| {r['split']} | {r['rate_per_hour']:g} ({r['threshold']:.3f}) | {r['taught_frames'][0]}-"
            f"{r['taught_frames'][1]} | {'yes' if r['taught_event_gone'] else 'NO'} | "
            f"{r['other_false_events_still']} of {r['other_false_events_before']} | {anomalies} | "
            f"{drop(r['velocity_drop_on_anomaly_frames'])} / {drop(r['velocity_drop_on_other_normal_frames'])} |"
        )
        more = r["more_frequent"]
        if "note" in more:
            rows.append(f"| {r['split']} | {more['note']} | | | | {r['frame_score_largest_rise']:.2f} |")
            continue
        missed = [name for name, delay in more["anomalies_after"].items() if delay is None]
        rows.append(
            f"| {r['split']} | {more['threshold']:.3f} ({more['threshold'] / r['threshold']:.2f} of the first) | "
            f"{more['other_false_events_still']} of {more['other_false_events_before']} | "
            f"{more['false_events_after']} | "
            f"{'all' if not missed else 'missed: ' + ', '.join(missed)} | {r['frame_score_largest_rise']:.2f} |"
        )
    print("\nLower on the slider, where other normal stretches alarm too (same lesson):\n")
    print(
        "| split | threshold | other false events still alarming | false events after | "
        "anomalies alarming after | largest rise of a frame score |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


def main(args) -> int:
    out = args.out or args.runs / "teach"
    if args.kernel_variance is not None:
        import aivad.model.lessons

        aivad.model.lessons.KERNEL_VARIANCE = args.kernel_variance
    reports = []
    for split in args.splits:
        if args.table_only:
            reports.append(json.loads((out / f"{split}.json").read_text(encoding="utf-8")))
            continue
        report = evaluate(split, args.runs, args.dev, out)
        (out / f"{split}.json").parent.mkdir(parents=True, exist_ok=True)
        (out / f"{split}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        reports.append(report)
    print_table(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
