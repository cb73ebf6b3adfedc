"""The inference worker: owns the Detector, pulls frames from a source, decides, records.

One worker per camera, run as a job of the application's one :class:`aivad.live.scheduler.InferenceScheduler`
(not a thread of its own): with several cameras, a thread per camera plus torch's own pools
oversubscribed the cores. The scheduler's threads call :meth:`InferenceWorker.step` whenever
:meth:`InferenceWorker.has_work` says a command, a frame or a finished clip is waiting, so the
window never waits for the model. The window gets plain Python objects only (numpy images,
dataclasses, floats); no tensor crosses over. Signals are emitted from the scheduler's threads
and Qt queues them to the GUI thread. Where batching pays (a GPU), the scheduler steps the cameras
on one loaded model together (:meth:`InferenceWorker.step_batch`): one model call for their frames.

Per-frame results are not sent one signal each: at hundreds of frames per second in
"analyse every frame" mode that would flood the GUI event queue. Instead the worker
appends light ``FrameReport`` rows and keeps only the newest ``DisplayFrame``; it emits
``results_ready`` when the pending list goes from empty to non-empty and the window
drains everything at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from aivad.errors import UserError
from aivad.live import recording
from aivad.live.decision import Decider
from aivad.live.detector import process_batch
from aivad.live.evidence import EvidenceRecorder
from aivad.live.render import heatmap_rgba
from aivad.live.results import FrameResult, RegionResult
from aivad.live.scheduler import InferenceScheduler
from aivad.live.streams import batch_key
from aivad.ui.reports import DetectionSettings, DisplayFrame, FrameReport, WorkerStats, checkpoint_report
from aivad.video.sources import FrameSource, RateMeter, SourceFrame


class InferenceWorker(EvidenceRecorder, QObject):
    results_ready = Signal()
    checkpoint_loading = Signal(str)  # path
    checkpoint_loaded = Signal(object)  # dict: info + "path", "device", "threshold"
    checkpoint_failed = Signal(str)  # one sentence
    source_status = Signal(object)  # SourceStatus (emitted from the source's thread)
    source_finished = Signal()  # end of file: every pending event was closed
    event_started = Signal(object)  # EventRecord
    event_finished = Signal(object)  # EventRecord (snapshot written; clip may still be encoding)
    event_saved = Signal(object)  # EventRecord whose clip is complete
    problem = Signal(str)  # a non-fatal error the window should show

    def __init__(self, scheduler: InferenceScheduler, parent=None, camera_name: str = "") -> None:
        super().__init__(parent)
        self.scheduler = scheduler
        # Set by the window: cameras on one checkpoint share its loaded weights (aivad.live.streams.ModelCache).
        self.model_cache = None
        self.batch_inference: bool | None = None  # None: batch cameras on one model where it pays (a GPU)
        self.camera_name = camera_name  # written into each event so one list can hold several cameras
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._pending: list[FrameReport] = []
        self._latest: DisplayFrame | None = None
        self._settings = DetectionSettings()
        self._settings_changed = True
        self._stats = WorkerStats()
        self._processed_rate = RateMeter()

        self.detector = None
        self.checkpoint_info: dict = {}
        self.source: FrameSource | None = None
        self._epoch = -1
        self._decider = Decider()  # zones, smoothing, threshold, events: the same object the CLI runs
        self._source_done_reported = False
        self._last_problem = ("", 0.0)

    # --- API for the GUI thread ----------------------------------------------------
    def start(self) -> None:
        """Hand the worker to the scheduler; from now on its threads step it."""
        self._started = True
        self.scheduler.add(self)

    def load_checkpoint(self, path: str, device: str = "auto") -> None:
        self._commands.put(lambda: self._load(path, device))
        self.scheduler.wake()

    def set_source(self, source: FrameSource | None) -> None:
        """Hand over a created (not yet started) source; the old one is stopped."""
        if source is not None:
            source._on_status = self.source_status.emit
        self._commands.put(lambda: self._switch_source(source))
        self.scheduler.wake()

    def set_settings(self, settings: DetectionSettings) -> None:
        with self._lock:
            self._settings = replace(settings, zones=[list(zone) for zone in settings.zones])
            self._settings_changed = True
        self.scheduler.wake()

    def take_pending(self) -> tuple[list[FrameReport], DisplayFrame | None, WorkerStats]:
        with self._lock:
            reports, self._pending = self._pending, []
            latest, self._latest = self._latest, None
            stats = replace(self._stats)
        return reports, latest, stats

    @property
    def settings(self) -> DetectionSettings:
        with self._lock:
            return self._settings

    def stop(self) -> None:
        """Leave the scheduler (waiting for a step in progress), stop the source, close events and clips.

        Runs on the calling (GUI) thread once no scheduler thread can touch the worker any more.
        """
        if not self._started:
            return
        self._started = False
        self.scheduler.remove(self, wait=True)
        # Commands not run yet are dropped: a checkpoint must not load on the GUI thread at exit, and
        # a source handed over but never switched to was never started.
        while not self._commands.empty():
            self._commands.get_nowait()
        if self.source is not None:
            self.source.stop(0.5)
        self._end_stream(final=True)
        recording.wait_for([recorder for recorder, _ in self._recorders], timeout=5.0)
        self._poll_recorders()

    @property
    def events_folder(self) -> Path | None:
        return self._session_dir

    # --- job (called by the scheduler's threads, never two at once) -----------------------
    def has_work(self) -> bool:
        """Cheap and non-blocking: is there anything :meth:`step` would do now?"""
        if not self._commands.empty() or self._settings_changed:
            return True
        if any(recorder.done and event.end_frame is not None for recorder, event in self._recorders):
            return True
        source = self.source
        if source is None:
            return False
        return source.slot.ready or (source.finished and not self._source_done_reported)

    def step(self) -> None:
        """Commands, settings, finished clips, then at most one frame; never waits for input."""
        try:
            taken = self._prepare()
            if taken is not None:
                self._process(*taken)
        except Exception as error:  # one bad frame must not end the session
            self._report_problem(f"{type(error).__name__}: {error}")

    def batch_key(self) -> int | None:
        """Cameras with the same key are stepped together (:meth:`step_batch`): those on one loaded
        model, where one big call beats several small ones (a GPU; ``batch_inference`` overrides)."""
        return batch_key(self.detector, self.batch_inference)

    @staticmethod
    def step_batch(workers: list[InferenceWorker]) -> None:
        """:meth:`step` for several cameras on one model: their next frames go through it as one batch."""
        ready = []
        for worker in workers:
            try:
                taken = worker._prepare()
                if taken is None:
                    continue
                if worker.detector is None or worker.batch_key() != workers[0].batch_key():
                    worker._process(*taken)  # its checkpoint changed meanwhile: alone, as step() would
                    continue
                worker._begin(taken[0])
                ready.append((worker, taken))
            except Exception as error:
                worker._report_problem(f"{type(error).__name__}: {error}")
        if not ready:
            return
        started = time.monotonic()
        try:
            results = process_batch(
                [(w.detector, frame.image, frame.time_s, None, frame.previous) for w, (frame, _) in ready]
            )
        except Exception as error:
            for worker, _ in ready:
                worker._report_problem(f"{type(error).__name__}: {error}")
            return
        inference_s = time.monotonic() - started
        for (worker, (frame, source)), result in zip(ready, results):
            try:
                worker._process(frame, source, computed=(result, inference_s))
            except Exception as error:
                worker._report_problem(f"{type(error).__name__}: {error}")

    def _prepare(self) -> tuple[SourceFrame, FrameSource] | None:
        """Everything of a step before the model: commands, settings, clips, and the newest frame."""
        self._run_commands()
        self._apply_settings()
        self._poll_recorders()
        source = self.source
        if source is None:
            return None
        frame = source.take(0)
        if frame is None:
            if source.finished and not self._source_done_reported:
                self._source_done_reported = True
                self._end_stream(final=True)
                self.source_finished.emit()
            return None
        self._source_done_reported = False
        return frame, source

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    # --- commands ----------------------------------------------------------------------
    def _load(self, path: str, device: str) -> None:
        self.checkpoint_loading.emit(path)
        try:
            from aivad.live.detector import Detector

            cache = self.model_cache
            detector = cache.detector(path, device) if cache is not None else Detector.load(path, device=device)
        except UserError as error:
            self.checkpoint_failed.emit(str(error))
            return
        except Exception as error:  # anything else: still a message, not a crash
            self.checkpoint_failed.emit(f"{Path(path).name}: {type(error).__name__}: {error}")
            return
        self._end_stream(final=False)
        self.detector = detector
        self.checkpoint_info = dict(detector.info)
        self._decider = Decider()
        with self._lock:
            self._settings_changed = True
            # A new checkpoint starts at its own calibrated threshold and alarm rule.
            self._settings.threshold = float(detector.threshold)
            self._settings.hysteresis = 1.0 - detector.alarm_rule.release_ratio
            self._settings.min_duration_s = detector.alarm_rule.min_duration_s
            self._settings.merge_gap_s = detector.alarm_rule.merge_gap_s
        self.checkpoint_loaded.emit(checkpoint_report(detector, path))

    def _switch_source(self, source: FrameSource | None) -> None:
        if self.source is not None:
            self.source.stop(0.5)
        self._end_stream(final=True)
        self.source = source
        self._epoch = -1
        self._ring.clear()
        self._processed_rate.reset()
        self._source_done_reported = False
        with self._lock:
            self._pending.clear()
            self._latest = None
            self._stats = WorkerStats()
        if source is not None:
            source.start()

    # --- deciding ----------------------------------------------------------------------
    def _apply_settings(self) -> None:
        with self._lock:
            if not self._settings_changed:
                return
            self._settings_changed = False
            settings = self._settings
        detector = self.detector
        if detector is not None and settings.threshold is not None:
            detector.threshold = float(settings.threshold)
        # Smoothing runs in the decider, after the zones changed the raw score; the detector's own
        # smoother is left at the checkpoint's value, it only reports it.
        fps = self._nominal_fps()
        self._ring.seconds = settings.pre_s
        self._ring.fps = fps
        if detector is not None:
            self._decider.configure(settings, detector.threshold, detector.combine, fps)

    def _nominal_fps(self) -> float:
        source = self.source
        if source is not None and source.fps > 0:
            return source.fps
        measured = self._processed_rate.rate()
        return measured if measured > 0 else 10.0

    def _begin(self, frame: SourceFrame) -> None:
        if frame.epoch != self._epoch:
            # A seek (or a new source): the model's previous frame is no longer the one before this.
            self._end_stream(final=False)
            self._epoch = frame.epoch
            if self.detector is not None:
                self.detector.reset()
            self._decider.reset()
            self._ring.clear()
        elif frame.reconnected and self.detector is not None:
            self.detector.restart_motion()  # no motion pair across the outage; the stream's history stays

    def _process(
        self, frame: SourceFrame, source: FrameSource, computed: tuple[FrameResult, float] | None = None
    ) -> None:
        """Decide, record and report one frame; ``computed``: its (result, seconds) from a batch."""
        with self._lock:
            settings = self._settings
        detector = self.detector
        if computed is not None:
            result, inference_s = computed
        else:
            self._begin(frame)
            started = time.monotonic()
            result = None
            if detector is not None:
                result = detector.process(frame.image, frame.time_s, previous=frame.previous)
            inference_s = time.monotonic() - started
        if frame.preroll:
            return  # only warmed up the causal model after a seek

        height, width = frame.image.shape[:2]
        alarm = False
        kept: list[RegionResult] = []
        ignored: list[RegionResult] = []
        threshold = float(settings.threshold or (detector.threshold if detector else 1.0) or 1.0)
        finished = None
        if result is not None:
            result = replace(result, frame_index=frame.index, time_s=frame.time_s)
            decision = self._decider.decide(result, width, height)
            result, kept, ignored, alarm, finished = (
                decision.result,
                decision.kept,
                decision.ignored,
                decision.alarm,
                decision.finished,
            )

        now = time.monotonic()
        self._processed_rate.tick(now)
        heat = heatmap_rgba(kept, threshold, width, height) if settings.heatmap and kept else None

        if result is not None:
            self._record(frame, result, kept, alarm, finished, threshold, settings, source)

        report = None
        if result is not None:
            report = FrameReport(
                frame.index,
                frame.time_s,
                result.score,
                result.raw_score,
                bool(alarm),
                result.top_attribute,
                frame.epoch,
            )
        display = DisplayFrame(
            frame.image,
            frame.index,
            frame.time_s,
            result,
            kept,
            ignored,
            bool(alarm),
            threshold,
            heat,
            self._open_event,
        )
        with self._lock:
            notify = not self._pending and self._latest is None
            if report is not None:
                self._pending.append(report)
                if len(self._pending) > 100_000:  # the window stopped draining (minimised for hours)
                    del self._pending[: len(self._pending) - 100_000]
            self._latest = display
            self._stats = WorkerStats(
                source_fps=source.source_fps,
                processed_fps=self._processed_rate.rate(),
                dropped=source.dropped,
                latency_ms=(now - frame.captured_at) * 1000.0,
                inference_ms=inference_s * 1000.0,
                frames_processed=self._stats.frames_processed + 1,
            )
        if notify:
            self.results_ready.emit()

    def _report_problem(self, message: str) -> None:
        # The same failure on every frame would flood the window: repeat it at most every 5 s.
        last, when = self._last_problem
        now = time.monotonic()
        if message != last or now - when > 5.0:
            self._last_problem = (message, now)
            self.problem.emit(message)
