"""Teaching one false alarm on each development split: is it gone, what else changed, do the anomalies still alarm.

    python benchmarks/teach_table.py RUNS DEV SPLIT [SPLIT ...] [--out DIR]

RUNS/<split>/trained.ckpt is a model trained with the README's command (benchmarks/dev_quality.py
writes them there); DEV/<split>/test/ holds dev_test.mp4, labels.npy and segments.csv. Per split:
1. score the test video causally (as a camera sees it) with the trained checkpoint;
2. walk the slider from rare to frequent false alarms (the checkpoint's rate model: RATES events per
   hour) and stop at the first threshold at which the test video has a false-alarm event (an event
   overlapping no anomaly segment);
3. teach that event's frames (``python -m aivad teach`` does the same: aivad.model.teach), re-score
   the video with the taught checkpoint at the same threshold, and report: is that event gone, how
   many of the other normal stretches that alarmed before still do, whether every anomaly segment
   still alarms and after how long (before / after), at that threshold and at the default one;
4. measure what the lesson did to velocity elsewhere: the largest drop of the frame's velocity score
   on anomaly frames and on normal frames outside the taught stretch.
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


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, help="folder with <split>/trained.ckpt")
    parser.add_argument("dev", type=Path, help="folder with <split>/test/")
    parser.add_argument("splits", nargs="+", help="split names, e.g. vtest-dev vtest-dev-b")
    parser.add_argument("--out", type=Path, default=None, help="where the taught checkpoints and JSON go")
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
    return [e for e in events if not any(overlaps(e, first, last) for _, first, last in segments)]


def velocity_drop(before, after, frames: np.ndarray) -> float:
    """Largest drop of the frame's velocity score (max over its regions) over ``frames``."""
    drops = [
        before[i].attribute_scores.get("velocity", np.nan) - after[i].attribute_scores.get("velocity", np.nan)
        for i in frames
    ]
    drops = [d for d in drops if np.isfinite(d)]
    return round(float(max(drops)), 3) if drops else 0.0


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
    report = {"split": split, "default_threshold": detector.threshold, "score_s": round(score_s, 1)}
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
        other_false_events_still=sum(any(overlaps(a, o.start_frame, o.end_frame) for a in false_after) for o in others),
        new_false_events_after=sum(
            not any(overlaps(a, b.start_frame, b.end_frame) for b in false_events(events_before, segments))
            for a in false_after
        ),
        anomalies_at_threshold_before=segment_alarms(events_before, segments),
        anomalies_at_threshold_after=segment_alarms(events_after, segments),
        anomalies_at_default_before=segment_alarms(default_before, segments),
        anomalies_at_default_after=segment_alarms(default_after, segments),
        velocity_drop_on_anomaly_frames=velocity_drop(before, after, anomalous),
        velocity_drop_on_other_normal_frames=velocity_drop(before, after, normal_elsewhere),
    )
    return report


def seconds(value) -> str:
    return "missed" if value is None else f"{value:.1f} s"


def print_table(reports: list[dict]) -> None:
    print(
        "| split | false alarms/h (threshold) | taught frames | taught event gone | other false events still "
        "alarming | anomalies alarm, time to alarm before -> after | velocity drop: anomaly / other normal frames |"
    )
    print("|---|---|---|---|---|---|---|")
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
            f"{r['velocity_drop_on_anomaly_frames']:.2f} / {r['velocity_drop_on_other_normal_frames']:.2f} |"
        )


def main(args) -> int:
    out = args.out or args.runs / "teach"
    reports = []
    for split in args.splits:
        report = evaluate(split, args.runs, args.dev, out)
        (out / f"{split}.json").parent.mkdir(parents=True, exist_ok=True)
        (out / f"{split}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        reports.append(report)
    print_table(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
