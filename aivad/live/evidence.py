"""Evidence of each alarm: a snapshot of its peak frame, a clip around it, its row in the history, the webhook.

Kept apart from the camera's thread: these methods run on it but only write files and report. Qt-free,
so that the window's inference worker (aivad.ui.worker) and ``python -m aivad watch`` (aivad.live.watch)
keep evidence the same way. The class that mixes it in provides ``_decider``, ``detector``, ``_lock``,
``_settings`` (with ``save_events``, ``output_dir``, ``pre_s`` and ``post_s``, as
aivad.ui.reports.DetectionSettings has them), ``_report_problem(message)`` and the three announcements
``event_started``, ``event_finished`` and ``event_saved``: anything with ``emit(event)``, a Qt signal in
the window, a :class:`Announcement` without one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aivad.live import recording
from aivad.live.event_store import StoredEvent, peak_region
from aivad.live.recording import BufferedFrame, ClipRecorder, EventRecord, FrameRing
from aivad.live.render import annotate, encode_png, thumbnail
from aivad.live.results import FrameResult, RegionResult
from aivad.video.sources import FrameSource, SourceFrame

if TYPE_CHECKING:
    from aivad.live.event_store import EventStore
    from aivad.live.webhook import Webhook


class Announcement:
    """A Qt signal's ``emit`` without Qt: calls each listener, in the emitting thread."""

    def __init__(self) -> None:
        self.listeners: list = []

    def connect(self, listener) -> None:
        self.listeners.append(listener)

    def emit(self, *values) -> None:
        for listener in self.listeners:
            listener(*values)


class EvidenceRecorder:
    """Snapshots and clips of the events the decider raises; mixed into the inference worker."""

    # Set by the window (None: off): where finished events are kept and posted, and the camera's name
    # in them (empty: the source's label). One store and one webhook can serve every camera's worker.
    event_store: EventStore | None = None
    webhook: Webhook | None = None
    camera_name: str = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._ring = FrameRing(3.0, 25.0)
        self._recorders: list[tuple[ClipRecorder, EventRecord]] = []
        self._open_event: EventRecord | None = None
        self._peak_image: np.ndarray | None = None
        self._peak_regions: list[RegionResult] = []
        self._events_seen = 0
        self._session_dir: Path | None = None

    def _record(
        self,
        frame: SourceFrame,
        result: FrameResult,
        regions: list[RegionResult],
        alarm: bool,
        finished,
        threshold: float,
        settings,
        source: FrameSource,
    ) -> None:
        buffered = BufferedFrame(frame.image, frame.index, frame.time_s, result.score, alarm, regions)
        for recorder, _ in self._recorders:
            recorder.add(buffered)

        if finished is not None:
            self._close_event(finished, threshold)

        current = self._decider.current
        if current is not None and self._open_event is None:
            self._open_new_event(current, buffered, threshold, settings, source)
        if self._open_event is not None and current is not None:
            event = self._open_event
            if result.score >= event.peak_score or self._peak_image is None:
                event.peak_score = float(result.score)
                event.peak_frame = frame.index
                event.main_attribute = getattr(current, "main_attribute", "") or result.top_attribute
                self._peak_image = frame.image
                self._peak_regions = regions
        self._ring.append(buffered)

    def _open_new_event(self, current, buffered: BufferedFrame, threshold, settings, source: FrameSource) -> None:
        self._events_seen += 1
        event = EventRecord(
            number=self._events_seen,
            source=source.label,
            start_frame=int(current.start_frame),
            end_frame=None,
            start_time_s=float(current.start_time_s),
            end_time_s=None,
            peak_score=float(buffered.score),
            peak_frame=buffered.index,
            main_attribute=getattr(current, "main_attribute", ""),
            seekable=source.seekable,
            camera=self.camera_name,
        )
        picture = annotate(buffered.image, buffered.regions, threshold, True, caption=f"{buffered.score:.2f}")
        event.thumbnail = thumbnail(picture, 160)
        self._open_event = event
        self._peak_image = buffered.image
        self._peak_regions = buffered.regions
        if settings.save_events and settings.output_dir:
            folder = self._events_dir(settings)
            clip = folder / f"event_{event.number:04d}.mp4"
            pre = [f for f in self._ring.frames() if f.time_s >= buffered.time_s - settings.pre_s] + [buffered]
            recorder = ClipRecorder(clip, threshold, pre, settings.post_s)
            event.clip_path = str(clip)
            self._recorders.append((recorder, event))
        self.event_started.emit(replace(event))

    def _close_event(self, finished, threshold: float) -> None:
        event = self._open_event
        if event is None:
            return
        event.start_frame = int(finished.start_frame)
        event.start_time_s = float(finished.start_time_s)
        event.end_frame = int(finished.end_frame)
        event.end_time_s = float(finished.end_time_s)
        event.peak_score = float(finished.peak_score)
        event.peak_frame = int(finished.peak_frame)
        event.main_attribute = finished.main_attribute or event.main_attribute
        if self._peak_image is not None:
            picture = annotate(self._peak_image, self._peak_regions, threshold, True, caption=f"{event.peak_score:.2f}")
            event.thumbnail = thumbnail(picture, 160)
            with self._lock:
                settings = self._settings
            if settings.save_events and settings.output_dir:
                try:
                    path = self._events_dir(settings) / f"event_{event.number:04d}.png"
                    path.write_bytes(encode_png(picture))
                    event.snapshot_path = str(path)
                except OSError as error:
                    self._report_problem(f"snapshot: {error}")
        for recorder, recorded in self._recorders:
            if recorded is event:
                recorder.finish_event(event.end_time_s)
        self._keep_event(event)
        self._open_event = None
        self._peak_image = None
        self.event_finished.emit(replace(event))

    def _end_stream(self, final: bool) -> None:
        """Close the open event (seek, new source, end of file) and finish the clips."""
        flushed = self._decider.flush()
        if flushed is not None:
            self._close_event(flushed, self._decider.threshold)
        self._open_event = None
        for recorder, _ in self._recorders:
            recorder.close()
        if final and self.detector is not None:
            self.detector.reset()

    def _poll_recorders(self) -> None:
        still_open = []
        for recorder, event in self._recorders:
            # A clip cut by the length cap is done before its event ends: report it with the event.
            if recorder.wait(0) and event.end_frame is not None:
                if recorder.error:
                    self._report_problem(f"clip {Path(recorder.path).name}: {recorder.error}")
                    event.clip_path = ""
                if event.end_frame is not None:
                    self._keep_clip(event)
                    self.event_saved.emit(replace(event))
            else:
                still_open.append((recorder, event))
        self._recorders = still_open

    def _keep_event(self, event: EventRecord) -> None:
        """The finished event into the history and to the webhook; its clip is still encoding, so none yet."""
        if self.event_store is None and self.webhook is None:
            return
        stored = StoredEvent.of(
            event,
            self.camera_name or event.source,
            event.started_at,
            region=peak_region(self._peak_regions),
            source=event.source,
            snapshot_path=event.snapshot_path,
        )
        if self.event_store is not None:
            try:
                event.history_id = self.event_store.add(stored).id
            except sqlite3.Error as error:  # a full disk must not stop detection
                self._report_problem(f"event history: {error}")
        if self.webhook is not None:
            self.webhook.post(stored.to_dict())  # queued: never waits for the network

    def _keep_clip(self, event: EventRecord) -> None:
        if self.event_store is not None and event.history_id is not None and event.clip_path:
            try:
                self.event_store.update_clip(event.history_id, event.clip_path)
            except sqlite3.Error as error:
                self._report_problem(f"event history: {error}")

    def _events_dir(self, settings) -> Path:
        if self._session_dir is None or self._session_dir.parent != Path(settings.output_dir):
            self._session_dir = recording.session_folder(Path(settings.output_dir))
        self._session_dir.mkdir(parents=True, exist_ok=True)
        return self._session_dir
