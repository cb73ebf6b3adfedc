"""Evidence for events: a ring buffer of recent frames, short clips, snapshots and the CSV.

Clips are encoded in their own thread so a slow disk never stalls detection; memory is
bounded by a byte budget on the ring buffer and a cap on clip length.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av  # at import time on the GUI thread, never first inside the clip thread
import numpy as np

from aivad.live.decision import event_csv_row
from aivad.live.decision import write_events_csv as write_rows
from aivad.live.render import annotate
from aivad.live.results import RegionResult


@dataclass
class BufferedFrame:
    image: np.ndarray  # BGR as decoded
    index: int
    time_s: float
    score: float
    alarm: bool
    regions: list[RegionResult]


class FrameRing:
    """The last few seconds of processed frames, limited by count and by bytes."""

    def __init__(self, seconds: float, fps: float, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.seconds = seconds
        self.fps = fps
        self.max_bytes = max_bytes
        self._frames: deque[BufferedFrame] = deque()
        self._bytes = 0

    def append(self, frame: BufferedFrame) -> None:
        if self._frames and frame.time_s < self._frames[-1].time_s:
            # A seek back or a file played again (watch --loop): the frames held no longer precede this one.
            # Kept, they were never pruned by age (each new frame looked older than them), so the ring sat at
            # max_bytes, and an event's clip began with frames from the other side of the jump.
            self.clear()
        self._frames.append(frame)
        self._bytes += frame.image.nbytes
        while self._frames and (self._bytes > self.max_bytes or frame.time_s - self._frames[0].time_s > self.seconds):
            self._bytes -= self._frames.popleft().image.nbytes

    def frames(self) -> list[BufferedFrame]:
        return list(self._frames)

    def clear(self) -> None:
        self._frames.clear()
        self._bytes = 0


class ClipRecorder:
    """Writes one event clip: pre-roll from the ring, then live frames until end + post-roll."""

    max_event_s = 60.0  # "short clip": a very long event is cut here instead of filling the disk

    def __init__(self, path: Path, threshold: float, pre_frames: list[BufferedFrame], post_s: float) -> None:
        self.path = path
        self.threshold = threshold
        self.post_s = post_s
        self.end_time_s: float | None = None  # set when the event ends
        self.closed = False
        self.error: str | None = None
        self.frames_written = 0
        self._first_time = pre_frames[0].time_s if pre_frames else None
        self._last_time: float | None = None
        self._queue: queue.Queue[BufferedFrame | None] = queue.Queue(maxsize=512)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._write, name="aivad-clip", daemon=True)
        self._fps_guess = _rate_of(pre_frames)
        self._thread.start()
        for frame in pre_frames:
            self.add(frame)

    def add(self, frame: BufferedFrame) -> None:
        """Queue a frame; closes the clip once the post-roll or the length cap is reached."""
        if self.closed:
            return
        if self._first_time is None:
            self._first_time = frame.time_s
        if self._last_time is not None and frame.time_s <= self._last_time:
            return  # after a seek back: not part of this clip
        self._last_time = frame.time_s
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            pass  # encoder cannot keep up: lose frames, never block detection
        past_post = self.end_time_s is not None and frame.time_s >= self.end_time_s + self.post_s
        too_long = frame.time_s - self._first_time > self.max_event_s
        if past_post or too_long:
            self.close()

    def finish_event(self, end_time_s: float) -> None:
        self.end_time_s = end_time_s

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put(None)

    def wait(self, timeout: float = 10.0) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """The clip is written (or failed); a non-blocking check for the scheduler."""
        return self._done.is_set()

    def _write(self) -> None:
        writer: _VideoWriter | None = None
        pending: list[BufferedFrame] = []
        try:
            while True:
                frame = self._queue.get()
                if frame is None:
                    break
                if writer is None:
                    # Wait for a few frames so the clip's frame rate matches what was processed.
                    pending.append(frame)
                    if len(pending) < 8:
                        continue
                    writer = _VideoWriter(
                        self.path, pending[0].image.shape, _rate_of(pending) or self._fps_guess or 10.0
                    )
                    for item in pending:
                        self._encode(writer, item)
                    pending.clear()
                else:
                    self._encode(writer, frame)
            if writer is None and pending:
                writer = _VideoWriter(self.path, pending[0].image.shape, _rate_of(pending) or self._fps_guess or 10.0)
                for item in pending:
                    self._encode(writer, item)
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
        finally:
            if writer is not None:
                try:
                    writer.close()
                except Exception as error:
                    self.error = self.error or f"{type(error).__name__}: {error}"
            self._done.set()

    def _encode(self, writer: _VideoWriter, frame: BufferedFrame) -> None:
        writer.write(annotate(frame.image, frame.regions, self.threshold, frame.alarm, caption=f"{frame.score:.2f}"))
        self.frames_written += 1


def _rate_of(frames: list[BufferedFrame]) -> float:
    if len(frames) < 2:
        return 0.0
    span = frames[-1].time_s - frames[0].time_s
    return (len(frames) - 1) / span if span > 0 else 0.0


class _VideoWriter:
    """H.264 MP4 through PyAV (plays everywhere, including Windows' own player); MPEG-4 Part 2 if x264 is missing."""

    def __init__(self, path: Path, shape: tuple[int, ...], fps: float) -> None:
        from fractions import Fraction

        path.parent.mkdir(parents=True, exist_ok=True)
        self._height = shape[0] - shape[0] % 2  # yuv420p needs even sizes
        self._width = shape[1] - shape[1] % 2
        self._container = av.open(str(path), mode="w")
        rate = Fraction(max(1.0, min(fps, 120.0))).limit_denominator(1001)
        try:
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.options = {"preset": "veryfast", "crf": "23"}
        except Exception:
            self._stream = self._container.add_stream("mpeg4", rate=rate)
        self._stream.width = self._width
        self._stream.height = self._height
        self._stream.pix_fmt = "yuv420p"

    def write(self, image_bgr: np.ndarray) -> None:
        image = np.ascontiguousarray(image_bgr[: self._height, : self._width])
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


@dataclass
class EventRecord:
    """One alarm as the event list, the CSV and the files on disk see it."""

    number: int
    source: str
    start_frame: int
    end_frame: int | None  # None while the event is still open
    start_time_s: float
    end_time_s: float | None
    peak_score: float
    peak_frame: int
    main_attribute: str
    started_at: datetime = field(default_factory=datetime.now)  # wall clock, for live cameras
    thumbnail: np.ndarray | None = None  # small annotated BGR image of the peak frame
    snapshot_path: str = ""
    clip_path: str = ""
    seekable: bool = False  # the source is a file: double-click can jump to it
    history_id: int | None = None  # its row in the event history database, once written there
    camera: str = ""  # the camera's name, so one list holds the events of every camera

    @property
    def ongoing(self) -> bool:
        return self.end_frame is None

    @property
    def duration_s(self) -> float:
        end = self.end_time_s if self.end_time_s is not None else self.start_time_s
        return max(0.0, end - self.start_time_s)


def events_csv_rows(events: list[EventRecord]) -> list[list]:
    return [
        event_csv_row(
            e.number,
            e.source,
            e,
            e.started_at.isoformat(timespec="seconds"),
            snapshot=e.snapshot_path,
            clip=e.clip_path,
            camera=e.camera,
        )
        for e in events
    ]


def write_events_csv(path: Path, events: list[EventRecord]) -> None:
    write_rows(path, events_csv_rows(events))


def session_folder(output_dir: Path) -> Path:
    """One folder per run so events of different sessions never overwrite each other."""
    return output_dir / datetime.now().strftime("%Y%m%d-%H%M%S")


def wait_for(recorders: list[ClipRecorder], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    for recorder in recorders:
        recorder.wait(max(0.0, deadline - time.monotonic()))
