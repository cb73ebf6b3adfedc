"""Deciding, outside Qt: zones -> frame score -> smoothing -> threshold with hysteresis -> events.

The live window's worker and ``python -m aivad score --zones ... --events ...`` run this same
object on the detector's per-frame results, so the command line raises exactly the events the UI
would have raised on the same video (tests/test_decision.py checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from aivad.errors import UserError
from aivad.live.results import FrameResult, RegionResult
from aivad.model.alarm import AlarmRule, Event, EventTracker
from aivad.model.scoring import FrameSmoother, combine_attributes


@dataclass
class DecisionSettings:
    """Everything a user can change about deciding (the UI's panel, the command line's flags)."""

    threshold: float | None = None  # None: the checkpoint's calibrated value
    smoothing_sigma: float = 0.0  # frames; 0 = off
    hysteresis: float = 0.2  # the alarm ends below threshold * (1 - hysteresis)
    min_duration_s: float = 0.0  # shorter bursts do not raise an alarm
    merge_gap_s: float = 0.0  # an alarm starting again this soon after the last continues its event
    zones: list[list[tuple[float, float]]] = field(default_factory=list)  # polygons, 0..1 coordinates
    zones_are_roi: bool = False  # False: regions inside the zones are ignored; True: only they are watched

    @classmethod
    def of_detector(cls, detector, **overrides) -> "DecisionSettings":
        """The checkpoint's own rule: its threshold, smoothing, hysteresis, minimum duration and merge gap."""
        rule = detector.alarm_rule
        settings = cls(
            threshold=detector.threshold,
            smoothing_sigma=detector.smoothing_sigma,
            hysteresis=1.0 - rule.release_ratio,
            min_duration_s=rule.min_duration_s,
            merge_gap_s=rule.merge_gap_s,
        )
        return replace(settings, **overrides)


@dataclass
class Decision:
    result: FrameResult  # regions that count, smoothed score; is_anomaly = in alarm
    kept: list[RegionResult]
    ignored: list[RegionResult]  # dropped by the zones
    alarm: bool
    finished: Event | None  # an event that ended with this frame
    threshold: float


def load_zones(path: Path) -> tuple[list[list[tuple[float, float]]], bool]:
    """Zones as the UI stores them: ``{"zones": [[[x, y], ...], ...], "roi": false}`` (0..1 coordinates)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        zones = [[(float(x), float(y)) for x, y in zone] for zone in data["zones"]]
        return zones, bool(data.get("roi", False))
    except FileNotFoundError:
        raise UserError(f"zones file {path} does not exist.") from None
    except (ValueError, KeyError, TypeError):
        raise UserError(
            f'zones file {path} must be JSON like {{"zones": [[[0.1, 0.1], [0.5, 0.1], [0.5, 0.4]]], "roi": false}} '
            "(polygons in 0..1 frame coordinates; roi true = watch only inside them)."
        ) from None


def point_in_polygon(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    inside = False
    n = len(polygon)
    for i in range(n):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % n]
        if (y0 > y) != (y1 > y):
            x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if x < x_cross:
                inside = not inside
    return inside


def box_centre_in_zones(box, zones: list[list[tuple[float, float]]], width: int, height: int) -> bool:
    """True when the box centre lies inside any zone (polygons in 0..1 frame coordinates)."""
    if width <= 0 or height <= 0:
        return False
    cx = (box[0] + box[2]) / 2.0 / width
    cy = (box[1] + box[3]) / 2.0 / height
    return any(len(zone) >= 3 and point_in_polygon(cx, cy, zone) for zone in zones)


def filter_regions(
    result: FrameResult, zones, zones_are_roi: bool, width: int, height: int, combine: str
) -> tuple[FrameResult, list[RegionResult], list[RegionResult]]:
    """Drop regions the zones exclude and rebuild the raw score from the rest (aivad.model.scoring)."""
    if not zones:
        return result, list(result.regions), []
    kept: list[RegionResult] = []
    ignored: list[RegionResult] = []
    for region in result.regions:
        if region.whole_frame:
            kept.append(region)  # no box to place: it cannot be masked
            continue
        inside = box_centre_in_zones(region.box, zones, width, height)
        (kept if inside == zones_are_roi else ignored).append(region)
    if not ignored:
        return result, kept, ignored
    attribute_scores = {name: 0.0 for name in result.attribute_scores}
    for region in kept:
        for name, value in region.attributes.items():
            attribute_scores[name] = max(attribute_scores.get(name, 0.0), float(value))
    raw = combine_attributes(attribute_scores, combine)
    return replace(result, raw_score=raw, score=raw, attribute_scores=attribute_scores, regions=kept), kept, ignored


class Decider:
    """One stream's decisions, frame by frame, from the detector's causal results."""

    def __init__(self) -> None:
        self.settings = DecisionSettings()
        self.combine = "sum"
        self.threshold = 1.0
        self.smoother = FrameSmoother(0.0, self.combine)
        self.tracker: EventTracker | None = None

    def configure(self, settings: DecisionSettings, default_threshold: float, combine: str, fps: float) -> None:
        """New settings; an open event stays open, only its levels change."""
        self.settings = settings
        self.combine = self.smoother.combine = combine
        self.threshold = float(settings.threshold if settings.threshold is not None else default_threshold)
        self.smoother.sigma = max(0.0, settings.smoothing_sigma)
        # The same rule as training's and evaluate's (aivad.model.alarm), with the user's settings.
        rule = AlarmRule(
            self.threshold,
            1.0 - max(0.0, min(settings.hysteresis, 0.95)),
            settings.min_duration_s,
            settings.merge_gap_s,
        )
        if self.tracker is None:
            self.tracker = rule.tracker(fps)
        else:  # the same levels, set on the tracker that holds the open event
            tracker = self.tracker
            tracker.on_level, tracker.off_level = self.threshold, rule.off_level()
            tracker.min_frames, tracker.merge_gap_s = rule.min_frames(fps), rule.merge_gap_s

    @property
    def current(self) -> Event | None:
        return self.tracker.current if self.tracker is not None else None

    def reset(self) -> None:
        """A seek or a new source: the smoothing history no longer precedes the next frame."""
        self.smoother.reset()

    def decide(self, result: FrameResult, width: int, height: int) -> Decision:
        s = self.settings
        result, kept, ignored = filter_regions(result, s.zones, s.zones_are_roi, width, height, self.combine)
        score, smoothed = self.smoother.update(result.raw_score, result.attribute_scores)
        result = replace(result, score=score, is_anomaly=score >= self.threshold, smoothed_attribute_scores=smoothed)
        alarm, finished = self.tracker.update(result) if self.tracker is not None else (False, None)
        result.is_anomaly = bool(alarm)
        return Decision(result, kept, ignored, bool(alarm), finished, self.threshold)

    def flush(self) -> Event | None:
        """End of stream: close the open event, if any."""
        return self.tracker.flush() if self.tracker is not None else None


def decide_all(results, decider: Decider, width: int, height: int) -> tuple[list[FrameResult], list[Event]]:
    """A whole recorded stream (the command line): decided frames and every event, the last closed."""
    decided, events = [], []
    for result in results:
        decision = decider.decide(result, width, height)
        decided.append(decision.result)
        if decision.finished is not None:
            events.append(decision.finished)
    last = decider.flush()
    return decided, events + ([last] if last is not None else [])


# One events CSV format for the window's export and the command line's --events.
EVENT_CSV_COLUMNS = (
    "event",
    "source",
    "started_at",
    "start_s",
    "end_s",
    "duration_s",
    "start_frame",
    "end_frame",
    "peak_score",
    "peak_frame",
    "main_attribute",
    "snapshot",
    "clip",
    "camera",
)


def event_csv_row(
    number: int, source: str, event, started_at: str = "", snapshot: str = "", clip: str = "", camera: str = ""
) -> list:
    end_s = event.end_time_s
    return [
        number,
        source,
        started_at,
        f"{event.start_time_s:.3f}",
        "" if end_s is None else f"{end_s:.3f}",
        f"{max(0.0, (end_s if end_s is not None else event.start_time_s) - event.start_time_s):.3f}",
        event.start_frame,
        "" if event.end_frame is None else event.end_frame,
        f"{event.peak_score:.4f}",
        event.peak_frame,
        event.main_attribute,
        snapshot,
        clip,
        camera,
    ]


def write_events_csv(path: Path, rows: list[list]) -> None:
    """UTF-8 with a byte-order mark, so Excel on a Korean Windows reads it right."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_CSV_COLUMNS)
    writer.writerows(rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(buffer.getvalue(), encoding="utf-8-sig")
