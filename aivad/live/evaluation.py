"""Event-level evaluation: what a person watching the live view would have seen.

Frame AUROC says how well scores rank frames; it does not say whether an alarm rang in time or how
often it rang for nothing. This module replays causal scores through the alarm rule
(:mod:`aivad.model.alarm`) and reports, per anomalous segment, whether and after how long an alarm
started; the false-alarm events per hour of normal footage next to the rate the checkpoint's
calibration predicted; and, given the injected objects' boxes, how often the region the alarm
points at is the object (IoU >= 0.1, the criterion of the region-based detection metric RBDC).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivad.errors import UserError
from aivad.model.alarm import EventTracker

IOU_HIT = 0.1  # RBDC's overlap criterion


@dataclass
class Segment:
    name: str
    first: int
    last: int


def segments_from_labels(labels: np.ndarray) -> list[Segment]:
    """Contiguous runs of anomalous frames, named by their order."""
    segments, start = [], None
    for i, label in enumerate(list(labels) + [0]):
        if label and start is None:
            start = i
        elif not label and start is not None:
            segments.append(Segment(f"segment_{len(segments) + 1}", start, i - 1))
            start = None
    return segments


def load_segments(path: Path) -> list[Segment]:
    rows = _read_csv(path, {"name", "first_frame", "last_frame"})
    return [Segment(r["name"], int(r["first_frame"]), int(r["last_frame"])) for r in rows]


def load_boxes(path: Path) -> dict[int, list[tuple[str, tuple[float, float, float, float]]]]:
    boxes: dict[int, list] = {}
    for r in _read_csv(path, {"frame_index", "x0", "y0", "x1", "y1"}):
        box = (float(r["x0"]), float(r["y0"]), float(r["x1"]), float(r["y1"]))
        boxes.setdefault(int(r["frame_index"]), []).append((r.get("name", ""), box))
    return boxes


def _read_csv(path: Path, needed: set[str]) -> list[dict]:
    if not Path(path).is_file():
        raise UserError(f"{path} does not exist.")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise UserError(f"{path} needs the columns {','.join(sorted(needed))}.")
        try:
            return list(reader)
        except csv.Error as error:
            raise UserError(f"{path} is not a readable CSV file ({error}).") from None


def iou(a, b) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def event_report(
    results,
    labels: np.ndarray,
    fps: float,
    tracker: EventTracker,
    segments: list[Segment] | None = None,
    boxes: dict | None = None,
    expected_per_hour: float | None = None,
) -> dict:
    """Replay causal ``results`` (FrameResult, in frame order) through ``tracker``."""
    labels = np.asarray(labels).astype(int)
    fps = fps if fps and fps > 0 else 10.0
    segments = segments if segments is not None else segments_from_labels(labels)
    alarmed = np.zeros(len(results), dtype=bool)
    events = []
    for i, result in enumerate(results):
        alarmed[i], finished = tracker.update(result)
        if finished is not None:
            events.append(finished)
    last = tracker.flush()
    if last is not None:
        events.append(last)

    def overlaps(event, first, last_frame) -> bool:
        end = event.end_frame if event.end_frame is not None else event.start_frame
        return event.start_frame <= last_frame and end >= first

    index_of = {r.frame_index: i for i, r in enumerate(results)}
    per_segment = []
    for segment in segments:
        hits = [e for e in events if overlaps(e, segment.first, segment.last)]
        delay = max(0, hits[0].start_frame - segment.first) if hits else None
        per_segment.append(
            {
                "name": segment.name,
                "first_frame": segment.first,
                "last_frame": segment.last,
                "detected": bool(hits),
                "delay_frames": delay,
                "delay_s": round(delay / fps, 3) if delay is not None else None,
                "alarmed_frames": int(
                    sum(alarmed[index_of[f]] for f in range(segment.first, segment.last + 1) if f in index_of)
                ),
                "main_attribute": hits[0].main_attribute if hits else None,
            }
        )
    false_events = [e for e in events if not any(overlaps(e, s.first, s.last) for s in segments)]
    normal_hours = float((labels == 0).sum()) / fps / 3600.0
    report = {
        "events": len(events),
        "segments": per_segment,
        "segments_detected": sum(s["detected"] for s in per_segment),
        "false_alarm_events": len(false_events),
        "normal_seconds": round(normal_hours * 3600.0, 1),
        "false_alarms_per_hour": len(false_events) / normal_hours if normal_hours > 0 else None,
        "false_alarms_per_hour_expected": expected_per_hour,
        "normal_frames_in_alarm": int(alarmed[labels == 0].sum()),
        "anomalous_frames_in_alarm": int(alarmed[labels == 1].sum()),
        "on_level": tracker.on_level,
        "off_level": tracker.off_level,
        "min_frames": tracker.min_frames,
        "merge_gap_s": tracker.merge_gap_s,
    }
    if boxes:
        report["localisation"] = localisation(results, alarmed, labels, boxes)
    return report


def localisation(results, alarmed: np.ndarray, labels: np.ndarray, boxes: dict) -> dict:
    """Share of alarmed anomalous frames whose top region overlaps the injected object, per object name."""
    counts: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        truth = boxes.get(result.frame_index)
        if not truth or not alarmed[i] or labels[i] != 1:
            continue
        top = max(result.regions, key=lambda r: r.score) if result.regions else None
        for name, box in truth:
            hit = top is not None and not top.whole_frame and iou(top.box, box) >= IOU_HIT
            counts.setdefault(name or "object", [0, 0])
            counts[name or "object"][0] += int(hit)
            counts[name or "object"][1] += 1
    return {
        name: {"alarmed_frames": n, "top_region_hits": hit, "share": hit / n if n else None}
        for name, (hit, n) in counts.items()
    }


def format_report(report: dict) -> list[str]:
    lines = [
        f"alarm rule: on at {report['on_level']:.4f}, off below {report['off_level']:.4f}, at least "
        f"{report['min_frames']} frame(s)"
        + (f", restarts within {report['merge_gap_s']:g} s continue an event" if report.get("merge_gap_s") else "")
        + "; causal scores"
    ]
    for s in report["segments"]:
        if s["detected"]:
            lines.append(
                f"  {s['name']}: detected after {s['delay_frames']} frames ({s['delay_s']:.1f} s), "
                f"{s['alarmed_frames']} of {s['last_frame'] - s['first_frame'] + 1} frames in alarm, "
                f"by {s['main_attribute']}"
            )
        else:
            lines.append(f"  {s['name']}: MISSED")
    rate = report["false_alarms_per_hour"]
    expected = report["false_alarms_per_hour_expected"]
    lines.append(
        f"false-alarm events: {report['false_alarm_events']} in {report['normal_seconds']:.0f} s of normal footage"
        + (f" = {rate:.1f} per hour" if rate is not None else "")
        + (f" (calibration expected {expected:.2g} per hour)" if expected is not None else "")
    )
    lines.append(
        f"frames in alarm: {report['normal_frames_in_alarm']} normal, {report['anomalous_frames_in_alarm']} anomalous"
    )
    for name, loc in report.get("localisation", {}).items():
        share = f"{loc['share']:.0%}" if loc["share"] is not None else "n/a"
        lines.append(
            f"  {name}: top region on the object in {loc['top_region_hits']} of {loc['alarmed_frames']} "
            f"alarmed frames ({share}, IoU >= {IOU_HIT})"
        )
    return lines
