"""Frame sources: a video file or frame folder, a webcam or a network stream, for the window and headless streams.

Each source decodes in its own daemon thread and hands frames over through a
``FrameSlot``. Live sources overwrite the slot (only the newest frame is kept, so
latency and memory stay bounded when the model is slower than the camera) and count
what they dropped. Files either play at their own frame rate (same newest-frame rule)
or, in "analyse every frame" mode, wait for the consumer so no frame is skipped.

Nothing here imports Qt: sources report their state through a plain callback, which
the UI turns into signals. Messages are codes plus parameters, never sentences, so the
UI can show them in the user's language.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass
class SourceFrame:
    """One decoded frame and where it came from."""

    image: np.ndarray  # BGR, uint8, H x W x 3
    index: int  # files: frame number in the file; live: frames grabbed since opening
    time_s: float  # files: media time; live: seconds since the source opened
    captured_at: float  # time.monotonic() when the frame was decoded (for latency)
    epoch: int = 0  # bumped on every seek: the consumer must restart its stream state
    preroll: bool = False  # decoded only to warm up a causal model after a seek; do not show
    # The frame decoded just before this one, when there is one. The model pairs each frame with
    # its true predecessor, so frames dropped while it was busy do not look like fast motion.
    previous: np.ndarray | None = None
    # Live: the first frame since the source (re)connected. The frame before the outage is not its
    # predecessor: the consumer starts a new motion pair (Detector.restart_motion) and keeps the rest.
    reconnected: bool = False


@dataclass
class SourceStatus:
    """What a source is doing, as a code the UI translates."""

    state: str  # "opening" | "playing" | "paused" | "reconnecting" | "ended" | "failed" | "stopped"
    detail: str = ""  # technical detail (OpenCV/FFmpeg message), shown as is
    retry_in_s: float = 0.0  # reconnecting: seconds until the next attempt
    attempt: int = 0  # reconnecting: attempt number


StatusCallback = Callable[[SourceStatus], None]


class FrameSlot:
    """Hand-over point between a decoding thread and the consumer.

    Holds at most one frame. ``put(block=False)`` replaces an untaken frame and counts it
    as dropped; ``put(block=True)`` waits until the consumer took the previous one.
    ``on_put`` (optional) is called after every stored frame, outside the lock: a consumer that
    shares threads with others (aivad.live.scheduler) is woken by it instead of polling.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: SourceFrame | None = None
        self.dropped = 0
        self._closed = False
        self.on_put: Callable[[], None] | None = None

    @property
    def has_frame(self) -> bool:
        """A frame is waiting (no lock: a scheduler asks this of every camera, many times a second)."""
        return self._frame is not None

    def put(self, frame: SourceFrame, block: bool = False, cancelled: Callable[[], bool] | None = None) -> bool:
        """Store a frame; returns False when a blocking put was cancelled."""
        with self._cond:
            if block:
                while self._frame is not None and not self._closed:
                    if cancelled is not None and cancelled():
                        return False
                    self._cond.wait(0.05)
            if self._frame is not None and not self._frame.preroll:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()
        listener = self.on_put
        if listener is not None:
            listener()
        return True

    def take(self, timeout: float = 0.1) -> SourceFrame | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            # Loop: clear() and close() also wake waiters without leaving a frame.
            while self._frame is None and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame

    @property
    def ready(self) -> bool:
        """A frame is waiting; read without the lock (a stale answer only costs one empty step)."""
        return self._frame is not None

    def clear(self) -> None:
        with self._cond:
            self._frame = None
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class RateMeter:
    """Events per second over a sliding window of recent timestamps."""

    def __init__(self, window_s: float = 2.0) -> None:
        self._window_s = window_s
        self._times: list[float] = []
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            cutoff = now - self._window_s
            while self._times and self._times[0] < cutoff:
                self._times.pop(0)

    def rate(self) -> float:
        with self._lock:
            if len(self._times) < 2:
                return 0.0
            span = time.monotonic() - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        with self._lock:
            self._times.clear()


class FrameSource:
    """Common part of all sources: thread, slot, status and statistics."""

    kind = "source"
    seekable = False

    def __init__(self, label: str, on_status: StatusCallback | None = None) -> None:
        self.label = label
        self.slot = FrameSlot()
        self.fps: float = 0.0  # nominal frame rate, 0 when unknown
        self.frame_count: int = 0  # files: number of frames, 0 when unknown
        self.size: tuple[int, int] = (0, 0)  # width, height once known
        self._on_status = on_status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rate = RateMeter()
        self.status = SourceStatus("opening")

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_safely, name=f"aivad-{self.kind}", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = 2.0) -> None:
        self._stop.set()
        self.slot.close()
        thread = self._thread
        # ident is None while a scheduler thread is between creating and starting it (the window
        # stops sources while their jobs may be switching); that thread sees the stop and ends.
        if thread is not None and thread.ident is not None and thread is not threading.current_thread():
            # Daemon thread: a camera stuck inside a driver call must not hang the UI.
            thread.join(wait_s)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        """True when no more frames will come (end of file, failure or stop)."""
        return self.status.state in ("ended", "failed", "stopped")

    def take(self, timeout: float = 0.1) -> SourceFrame | None:
        return self.slot.take(timeout)

    # --- statistics ------------------------------------------------------------------
    @property
    def source_fps(self) -> float:
        """Measured rate at which frames are decoded (live) or the file's own rate."""
        return self._rate.rate()

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    # --- for subclasses --------------------------------------------------------------
    def _report(self, status: SourceStatus) -> None:
        self.status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a broken listener must not kill decoding
                pass

    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception as error:  # anything unexpected still reaches the window
            self._report(SourceStatus("failed", detail=f"{type(error).__name__}: {error}"))
        finally:
            if not self.finished:
                self._report(SourceStatus("stopped"))

    def _run(self) -> None:
        raise NotImplementedError


def redact_url(url: str) -> str:
    """Hide the password of rtsp://user:password@host/ before showing or storing it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    credentials, host = rest.split("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def is_stream_url(text: str) -> bool:
    return text.strip().lower().startswith(STREAM_PREFIXES)


def format_time(seconds: float) -> str:
    """m:ss.t for the transport bar and the event list."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    minutes, rest = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{rest:04.1f}"
    return f"{minutes}:{rest:04.1f}"
