"""Cameras as jobs of the one inference scheduler, outside Qt: source -> detector -> decider -> stats.

Why: the window, the stream benchmark and any headless use must run cameras the same way, on the
same :class:`aivad.live.scheduler.InferenceScheduler`, so a figure measured by ``python -m aivad bench
--streams N`` is what the window gets. A :class:`StreamJob` is small on purpose: it takes the
newest frame of its source (live sources drop what the model had no time for, and count it),
scores it with the frame that really preceded it, decides, and keeps the figures a user watches:
processed FPS, dropped frames and the latency from capture to decision (a bounded ring for p95).

Several cameras watching with one checkpoint load it once (:class:`ModelCache`, each camera a
:meth:`Detector.sibling`). On a GPU the scheduler steps those that are ready together (their
:func:`batch_key` matches) and their frames go through the model as one batch
(:meth:`StreamJob.step_batch`); on a CPU separate steps are faster, because the scheduler's threads
then score several cameras in parallel.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivad.live.decision import Decider, Decision, DecisionSettings
from aivad.live.detector import Detector, process_batch
from aivad.live.results import FrameResult
from aivad.video.sources import FrameSource, RateMeter, SourceFrame

LATENCY_WINDOW = 512  # recent frames whose latency the p95 is taken over (20 s at 25 FPS)
DEFAULT_FPS = 10.0  # the alarm's minimum duration in frames needs a rate; used while a source reports none

DecisionCallback = Callable[[SourceFrame, FrameResult, Decision], None]


@dataclass
class StreamStats:
    """One camera's figures since it started (or since :meth:`StreamJob.reset_stats`)."""

    processed: int  # frames scored and decided (not counting pre-roll)
    dropped: int  # frames the source replaced before the model took them
    fps: float  # processed frames per second over the last two seconds
    p95_latency_ms: float  # capture -> decision, over the last LATENCY_WINDOW frames; NaN before any
    last_latency_ms: float


class StreamJob:
    """One camera on the shared scheduler (the scheduler's Job protocol: ``has_work`` and ``step``).

    ``on_decision(frame, result, decision)`` is called on the scheduler's thread after each decided
    frame; ``result`` is the detector's own, ``decision`` the decider's (zones, smoothing, alarm).
    ``decision_overrides`` (DecisionSettings fields, e.g. zones) change the checkpoint's rule that a
    job without its own ``decider`` configures once the source knows its rate.
    """

    def __init__(
        self,
        source: FrameSource,
        detector: Detector,
        decider: Decider | None = None,
        on_decision: DecisionCallback | None = None,
        latency_window: int = LATENCY_WINDOW,
        decision_overrides: dict | None = None,
    ) -> None:
        self.source = source
        self.detector = detector
        self.decider = decider or Decider()
        self._configure = decider is None  # ours: the checkpoint's rule, once the source knows its rate
        self.on_decision = on_decision
        self._overrides = dict(decision_overrides or {})
        self._epoch: int | None = None
        self._lock = threading.Lock()  # stats are read from other threads
        self._latencies: deque[float] = deque(maxlen=latency_window)
        self._rate = RateMeter()
        self._processed = 0
        self._dropped_at_reset = 0
        self.batch: bool | None = None  # None: batch with cameras on the same model where it pays (a GPU)

    def attach(self, scheduler) -> None:
        """Add to the scheduler and wake it whenever the source delivers, instead of waiting for its poll."""
        self.source.slot.on_put = scheduler.wake
        scheduler.add(self)

    def detach(self, scheduler) -> None:
        self.source.slot.on_put = None
        scheduler.remove(self)

    # --- Job protocol ---------------------------------------------------------------------
    def has_work(self) -> bool:
        return self.source.slot.has_frame

    def step(self) -> None:
        frame = self.take()
        if frame is None:
            return
        result = self.detector.process(frame.image, frame.time_s, frame.index, previous=frame.previous)
        self.finish(frame, result)

    def batch_key(self) -> int | None:
        return batch_key(self.detector, self.batch)

    @staticmethod
    def step_batch(jobs: Sequence[StreamJob]) -> None:
        """:meth:`step` for cameras on one loaded model: their waiting frames are extracted and embedded
        as one batch (:func:`aivad.live.detector.process_batch`), then each is decided on its own."""
        taken = [(job, frame) for job in jobs if (frame := job.take()) is not None]
        if not taken:
            return
        results = process_batch(
            [(job.detector, frame.image, frame.time_s, frame.index, frame.previous) for job, frame in taken]
        )
        for (job, frame), result in zip(taken, results):
            job.finish(frame, result)

    # --- the two halves of a step (step_batch runs the detector between them) --------------
    def take(self) -> SourceFrame | None:
        """The newest frame, without waiting; a seek or a new source restarts the stream state."""
        frame = self.source.take(timeout=0.0)
        if frame is not None and frame.epoch != self._epoch:
            self._epoch = frame.epoch
            self.detector.reset()
            self.decider.reset()
        elif frame is not None and frame.reconnected:
            self.detector.restart_motion()  # no motion pair across the outage; the stream's history stays
        return frame

    def finish(self, frame: SourceFrame, result: FrameResult) -> Decision | None:
        if frame.preroll:
            return None  # only warmed up the causal model after a seek
        if self._configure:
            self._configure = False
            fps = self.source.fps or DEFAULT_FPS
            self.decider.configure(
                DecisionSettings.of_detector(self.detector, **self._overrides),
                self.detector.threshold,
                self.detector.combine,
                fps,
            )
        height, width = frame.image.shape[:2]
        decision = self.decider.decide(result, width, height)
        now = time.monotonic()
        with self._lock:
            self._latencies.append(now - frame.captured_at)
            self._processed += 1
        self._rate.tick(now)
        if self.on_decision is not None:
            self.on_decision(frame, result, decision)
        return decision

    # --- figures ---------------------------------------------------------------------------
    def stats(self) -> StreamStats:
        with self._lock:
            latencies = np.asarray(self._latencies, dtype=np.float64) * 1000.0
            processed = self._processed
        return StreamStats(
            processed=processed,
            dropped=self.source.dropped - self._dropped_at_reset,
            fps=self._rate.rate(),
            p95_latency_ms=float(np.percentile(latencies, 95)) if len(latencies) else float("nan"),
            last_latency_ms=float(latencies[-1]) if len(latencies) else float("nan"),
        )

    def latencies_ms(self) -> np.ndarray:
        """The recent latencies themselves, to pool several cameras' into one percentile."""
        with self._lock:
            return np.asarray(self._latencies, dtype=np.float64) * 1000.0

    def reset_stats(self) -> None:
        with self._lock:
            self._latencies.clear()
            self._processed = 0
            self._dropped_at_reset = self.source.dropped
        self._rate.reset()


def batching_pays(device: str) -> bool:
    """Batch cameras on accelerators; on a CPU the scheduler's threads running cameras side by side win."""
    return not str(device).startswith("cpu")


def batch_key(detector: Detector | None, wanted: bool | None) -> int | None:
    """The scheduler's batching key of a camera (aivad.live.scheduler): its loaded model, when batching is
    ``wanted`` (None: where it pays), else None (stepped alone)."""
    if detector is None:
        return None
    if wanted is None:
        wanted = batching_pays(detector.device)
    return id(detector.model) if wanted else None


class ModelCache:
    """Loads each checkpoint once per device; every camera gets its own :meth:`Detector.sibling`.

    Keyed by the resolved path, its modification time (a retrained file is loaded again) and the
    load options, so two cameras on one checkpoint hold one copy of the weights.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple, Detector] = {}

    def detector(self, path: str | Path, device: str = "auto", **options) -> Detector:
        """A detector for one more camera; ``options`` are :meth:`Detector.load`'s (weights, precision ...)."""
        path = Path(path).resolve()
        if not path.is_file():  # Detector.load says what is wrong in one sentence
            return Detector.load(path, device=device, **options)
        key = (str(path), path.stat().st_mtime_ns, device, tuple(sorted(options.items())))
        with self._lock:  # one load at a time: two cameras asking at once must not load it twice
            prototype = self._loaded.get(key)
            if prototype is None:
                prototype = self._loaded[key] = Detector.load(path, device=device, **options)
        return prototype.sibling()

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()
