"""The alarm rule (threshold, hysteresis, minimum duration), events, and the false-alarm rate model.

One rule decides everywhere: training counts the events it would raise on held-out normal footage
to choose the threshold, ``python -m aivad evaluate`` counts them on a test video, and the UI's
worker raises them live; all three go through :class:`EventTracker`.

The rate model answers "how many false alarms per hour at this threshold?". Training footage is
short next to an hour (the development set holds 40 seconds), so rates below one event per
footage length cannot be counted; they are extrapolated from the tail of the event peaks, as in
peaks-over-threshold analysis: above a base level ``u``, the peaks of the events are modelled as
exponentially distributed, so the rate of events reaching level ``x`` is
``rate(u) * exp(-(x - u) / beta)`` with ``beta`` their mean excess. ``u`` is the highest counted
level that still has ``MIN_TAIL_EVENTS`` events (at least the median score): the higher the base,
the better an exponential describes what lies above it. For light (Gaussian-like) tails the model
errs on the safe side: it expects more false alarms than occur, so the threshold is higher than
needed (measured in tests/test_alarm.py). Below ``u`` the counted rates are used directly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from aivad.features.camera_motion import NO_PICTURE

RELEASE_RATIO = 0.8  # an alarm ends once the score drops below 80% of the threshold (hysteresis)
MIN_DURATION_S = 0.3  # the score must stay above the threshold this long to raise an alarm
# An alarm that starts again within this many seconds of the last one's end continues that event: one
# runner whose score dips for a few frames (a missed region, a merge with a passer-by) is one event,
# one notification and one clip, not two. Models trained by this version store it; older ones merge nothing.
MERGE_GAP_S = 2.0
# A rate within 2% of the rarest countable one is that one: a threshold shown and stored to 3 decimals
# gives back its rate only that closely.
FLOOR_TOLERANCE = 0.02
MIN_TAIL_EVENTS = 5  # events above the tail's base level needed to estimate its slope
CURVE_POINTS = 40  # counted (level, rate) points between the median and the maximum normal score


@dataclass
class Event:
    start_frame: int
    end_frame: int | None
    start_time_s: float
    end_time_s: float | None
    peak_score: float
    peak_frame: int
    main_attribute: str

    @property
    def duration_s(self) -> float:
        return (self.end_time_s or self.start_time_s) - self.start_time_s


@dataclass
class ScoredFrame:
    """The part of a frame result the event rule reads (a FrameResult works as well)."""

    frame_index: int
    time_s: float
    score: float
    attribute_scores: dict = field(default_factory=dict)


class EventTracker:
    """Frame decisions -> events, without flicker.

    An alarm starts once the score has stayed at or above ``on_level`` for ``min_frames`` frames
    and ends when it drops below ``off_level`` (hysteresis: ``off_level`` <= ``on_level``). Its event
    stays open ``merge_gap_s`` seconds longer: an alarm that starts within that gap continues it.
    ``current`` is the open event (also during the gap), ``alarm`` whether the alarm is on now.
    """

    def __init__(
        self, on_level: float, off_level: float | None = None, min_frames: int = 1, merge_gap_s: float = 0.0
    ) -> None:
        self.on_level = on_level
        self.off_level = on_level if off_level is None else min(off_level, on_level)
        self.min_frames = max(1, int(min_frames))
        self.merge_gap_s = max(0.0, float(merge_gap_s))
        self.current: Event | None = None
        self._ended = False  # the open event's alarm is off: it waits out the merge gap
        self._above: list = []
        self._attribute_totals: dict[str, float] = {}
        self._frames, self._no_picture = 0, 0  # the open event's frames, and those with no picture

    @property
    def alarm(self) -> bool:
        return self.current is not None and not self._ended

    def update(self, result) -> tuple[bool, Event | None]:
        finished = None
        if self.alarm:
            if result.score >= self.off_level:
                self._extend(result)
            elif self.merge_gap_s > 0:
                self._ended = True
            else:
                finished = self._close()
            return self.alarm, finished
        if result.score >= self.on_level:
            self._above.append(result)
        else:
            self._above = []
        if self._ended:
            # the earliest start still possible: the pending frames' first, or a later frame
            start = self._above[0].time_s if self._above else result.time_s + 1e-9
            if start - self.current.end_time_s > self.merge_gap_s + 1e-9:
                finished = self._close()
        if len(self._above) >= self.min_frames:
            if self.current is None:
                first = self._above[0]
                self.current = Event(first.frame_index, None, first.time_s, None, -math.inf, first.frame_index, "")
                self._attribute_totals = {}
                self._frames, self._no_picture = 0, 0
            self._ended = False  # a new alarm, or the open event's alarm on again
            for pending in self._above:
                self._extend(pending)
            self._above = []
        return self.alarm, finished

    def _extend(self, result) -> None:
        event = self.current
        event.end_frame, event.end_time_s = result.frame_index, result.time_s
        if result.score > event.peak_score:
            event.peak_score, event.peak_frame = result.score, result.frame_index
        for name, value in result.attribute_scores.items():
            self._attribute_totals[name] = self._attribute_totals.get(name, 0.0) + value
        self._frames += 1
        self._no_picture += getattr(result, "camera", "") == NO_PICTURE
        # a covered lens alarms through the whole-frame stand-in's attributes; its cause is the lost picture
        if 2 * self._no_picture >= self._frames:
            event.main_attribute = NO_PICTURE
        else:
            totals = self._attribute_totals
            event.main_attribute = max(totals, key=totals.get) if totals else ""

    def _close(self) -> Event:
        event = self.current
        self.current = None
        self._ended = False
        return event

    def flush(self) -> Event | None:
        """End of stream: close the open event, if any."""
        self._above = []
        return self._close() if self.current is not None else None


@dataclass
class AlarmRule:
    """When a smoothed score becomes an alarm; stored in the checkpoint by training."""

    threshold: float
    release_ratio: float = RELEASE_RATIO
    min_duration_s: float = MIN_DURATION_S
    merge_gap_s: float = 0.0  # what rules stored before MERGE_GAP_S imply; training sets MERGE_GAP_S

    def off_level(self, threshold: float | None = None) -> float:
        on = self.threshold if threshold is None else threshold
        return on * self.release_ratio if on > 0 else on

    def min_frames(self, fps: float) -> int:
        return max(1, int(round(self.min_duration_s * (fps if fps and fps > 0 else 10.0))))

    def tracker(self, fps: float, threshold: float | None = None) -> EventTracker:
        on = self.threshold if threshold is None else threshold
        return EventTracker(on, self.off_level(on), self.min_frames(fps), self.merge_gap_s)

    def to_dict(self) -> dict:
        return asdict(self)


def alarm_events(results, tracker: EventTracker) -> list[Event]:
    """Run the rule over a whole sequence (FrameResult or ScoredFrame); the last event is closed."""
    events = [finished for r in results if (finished := tracker.update(r)[1]) is not None]
    last = tracker.flush()
    return events + ([last] if last is not None else [])


def score_events(scores: np.ndarray, fps: float, rule: AlarmRule, threshold: float) -> list[Event]:
    frames = (ScoredFrame(i, i / fps, float(s)) for i, s in enumerate(scores))
    return alarm_events(frames, rule.tracker(fps, threshold))


@dataclass
class RateModel:
    """Expected false-alarm events per hour of normal footage, as a function of the threshold."""

    levels: list[float]  # counted part: thresholds ...
    rates: list[float]  # ... and the events per hour counted there (non-increasing)
    tail_base: float  # u
    tail_rate: float  # events per hour reaching u
    tail_scale: float  # beta: mean excess of event peaks over u
    tail_events: int  # events the tail was fitted on
    hours: float  # held-out normal footage the model was measured on

    def expected_per_hour(self, threshold: float) -> float:
        if threshold >= self.tail_base:
            return self.tail_rate * math.exp(-(threshold - self.tail_base) / self.tail_scale)
        return float(np.interp(threshold, self.levels, self.rates)) if self.levels else self.tail_rate

    def threshold_for(self, per_hour: float) -> float:
        """The lowest threshold whose expected rate is at most ``per_hour``."""
        if per_hour <= 0:
            raise ValueError("the false-alarm rate must be positive")
        if per_hour < self.tail_rate:
            return self.tail_base + self.tail_scale * math.log(self.tail_rate / per_hour)
        for level, rate in zip(self.levels, self.rates):
            if rate <= per_hour:
                return float(level)
        return self.tail_base

    @property
    def rarest_countable_per_hour(self) -> float:
        """One event in all the held-out footage: rarer rates are extrapolated, not counted."""
        return 1.0 / self.hours if self.hours > 0 else math.inf

    def supported_rate(self, per_hour: float) -> float:
        """The rate the default threshold is set for: ``per_hour``, or the rarest one the footage can count.

        Why not extrapolate: from 40 seconds of held-out footage, one false alarm per hour lies about 90
        times beyond the rarest countable rate, and the exponential tail put that threshold above
        every anomaly's first second on the development set (silent on real events, which gets a
        detector switched off). The rarest countable rate is about one event in all the held-out
        footage: the threshold then sits at the top of what normal footage was seen to do, where the
        ranking separates anomalies. With an hour or more of footage the target itself is counted.
        """
        return max(float(per_hour), self.rarest_countable_per_hour)

    def footage_limit(self, per_hour: float) -> str | None:
        """Where ``per_hour`` stands against what the footage can count: "extrapolated" (rarer),
        "floor" (the rarest countable rate itself, the default of short footage), or None (counted)."""
        rarest = self.rarest_countable_per_hour
        if per_hour < rarest * (1 - FLOOR_TOLERANCE):
            return "extrapolated"
        if per_hour <= rarest * (1 + FLOOR_TOLERANCE):
            return "floor"
        return None

    def extrapolation_note(self, per_hour: float) -> str | None:
        """What a user should know when ``per_hour`` lies beyond what the footage can count; else None."""
        if per_hour >= self.rarest_countable_per_hour:
            return None
        seconds = self.hours * 3600.0
        return (
            f"{seconds:.0f} s of held-out normal footage can count false alarms down to about "
            f"{self.rarest_countable_per_hour:.0f} per hour, so the default threshold is set for about "
            f"{self.rarest_countable_per_hour:.0f} per hour instead of {per_hour:g} (a rarer rate would be a guess "
            f"that may stay silent on real events): train on at least {1.0 / per_hour:.3g} hour(s) of normal "
            "footage per camera for fewer, or raise the threshold on the UI's slider."
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RateModel":
        return cls(**data)

    @classmethod
    def fit(cls, videos: list[tuple[np.ndarray, float]], rule: AlarmRule) -> "RateModel":
        """``videos``: (smoothed held-out normal scores, frames per second) per video."""
        videos = [(np.asarray(s, dtype=np.float64), fps) for s, fps in videos if len(s)]
        if not videos:
            raise ValueError("no held-out normal scores to model false alarms on")
        everything = np.concatenate([s for s, _ in videos])
        hours = sum(len(s) / fps for s, fps in videos) / 3600.0

        def count(level: float) -> list[Event]:
            return [e for s, fps in videos for e in score_events(s, fps, rule, level)]

        low, high = float(np.median(everything)), float(np.max(everything))
        grid = [float(x) for x in np.linspace(low, high, CURVE_POINTS)] if high > low else [low]
        counted = [count(level) for level in grid]
        enough = [i for i, events in enumerate(counted) if len(events) >= MIN_TAIL_EVENTS]
        at = enough[-1] if enough else 0
        base = grid[at]
        peaks = np.array([e.peak_score for e in counted[at]])
        if len(peaks) >= 2:
            scale = float(np.mean(peaks - base))
        else:  # too little footage to see two events: the spread of the upper scores stands in
            upper = everything[everything >= base]
            scale = float(np.std(upper)) if len(upper) > 1 else 0.0
        scale = max(scale, 1e-3, 0.05 * float(np.std(everything)))
        tail_rate = max(len(peaks), 1) / hours
        levels = grid[: at + 1]
        rates = [len(events) / hours for events in counted[: at + 1]]
        rates = list(np.maximum.accumulate(np.array(rates)[::-1])[::-1])  # non-increasing in the level
        rates = [max(float(r), tail_rate) for r in rates]
        return cls(levels, rates, base, tail_rate, scale, int(len(peaks)), hours)


def false_alarm_line(config) -> str | None:
    """What the stored threshold promises, and what the training footage could support."""
    if not config.false_alarm_model:
        return None
    rate_model = RateModel.from_dict(config.false_alarm_model)
    expected = rate_model.expected_per_hour(float(config.alarm["threshold"])) if config.alarm else None
    if expected is None:
        return None
    line = f"about {expected:.3g} false alarm(s) per hour of normal footage like the training footage"
    if rate_model.footage_limit(expected) == "floor":
        line += (
            f" (the rarest rate {rate_model.hours * 3600:.0f} s of held-out footage can count; "
            "train on more footage for fewer)"
        )
    return line
