"""Frame sources for the realtime UI: a video file, a webcam or a network stream.

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
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av  # imported here, not in the decoding thread: see worker.preload_model_modules
import numpy as np

# Network cameras over UDP lose packets on Wi-Fi and show grey smears; TCP is what
# users expect from Frigate. OpenCV reads this variable every time it opens a stream.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402  (must come after the environment variable above)

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
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: SourceFrame | None = None
        self.dropped = 0
        self._closed = False

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
        if self._thread is not None and self._thread is not threading.current_thread():
            # Daemon thread: a camera stuck inside a driver call must not hang the UI.
            self._thread.join(wait_s)

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


# ------------------------------------------------------------------------------------
# Video files
# ------------------------------------------------------------------------------------
class _PyAVReader:
    """Sequential decoder with keyframe seeking; yields (index, time_s, bgr)."""

    def __init__(self, path: str) -> None:
        self._container = av.open(path)
        if not self._container.streams.video:
            self._container.close()
            raise ValueError("no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"  # frame-threaded decoding: several times faster for H.264
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 25.0
        frames = int(self._stream.frames or 0)
        if frames <= 0:
            duration = self._stream.duration
            if duration is not None and self._stream.time_base is not None:
                frames = int(round(float(duration * self._stream.time_base) * self.fps))
            elif self._container.duration:
                frames = int(round(self._container.duration / 1_000_000 * self.fps))
        self.frame_count = max(frames, 0)
        self.width = self._stream.codec_context.width
        self.height = self._stream.codec_context.height
        self._start_time = float(self._stream.start_time * self._stream.time_base) if self._stream.start_time else 0.0
        self._iterator = None
        self._next_index = 0

    def seek(self, index: int) -> None:
        """Position so that the next frame returned has index >= ``index``."""
        index = max(0, index)
        target_s = index / self.fps + self._start_time
        offset = int(target_s / self._stream.time_base) if self._stream.time_base else 0
        self._container.seek(offset, stream=self._stream, backward=True, any_frame=False)
        self._iterator = self._container.decode(self._stream)
        self._skip_until = index

    def frames(self):
        if self._iterator is None:
            self._iterator = self._container.decode(self._stream)
            self._skip_until = 0
        sequential_index = 0
        for frame in self._iterator:
            if frame.pts is not None and frame.time is not None:
                index = int(round((frame.time - self._start_time) * self.fps))
            else:
                index = sequential_index
            sequential_index = index + 1
            if index < self._skip_until:
                continue
            yield index, index / self.fps, frame.to_ndarray(format="bgr24")

    def close(self) -> None:
        self._container.close()


def _open_reader(path: str) -> _PyAVReader:
    return _PyAVReader(path)


@dataclass
class _FileCommand:
    name: str  # "play" | "pause" | "seek" | "step" | "every_frame"
    value: float | int | bool = 0


class FileSource(FrameSource):
    """A video file decoded with PyAV, played at its own rate or frame by frame."""

    kind = "file"
    seekable = True

    def __init__(
        self,
        path: str | Path,
        on_status: StatusCallback | None = None,
        every_frame: bool = False,
        start_paused: bool = False,
        preroll_frames: int = 1,
    ) -> None:
        super().__init__(Path(path).name, on_status)
        self.path = str(path)
        self.every_frame = every_frame
        self.preroll_frames = preroll_frames  # frames decoded before a seek target to warm the model
        self._paused = start_paused
        self._commands: queue.Queue[_FileCommand] = queue.Queue()
        self._epoch = 0
        self.position = 0  # index of the last frame handed over

    # --- controls (any thread) -------------------------------------------------------
    def play(self) -> None:
        self._commands.put(_FileCommand("play"))

    def pause(self) -> None:
        self._commands.put(_FileCommand("pause"))

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    @property
    def playing(self) -> bool:
        return not self._paused and self.status.state == "playing"

    @property
    def paused(self) -> bool:
        return self._paused

    def seek(self, index: int) -> None:
        self._commands.put(_FileCommand("seek", int(index)))

    def step(self, delta: int = 1) -> None:
        self._commands.put(_FileCommand("step", int(delta)))

    def set_every_frame(self, enabled: bool) -> None:
        self._commands.put(_FileCommand("every_frame", bool(enabled)))

    @property
    def source_fps(self) -> float:
        return self.fps

    # --- decoding thread -------------------------------------------------------------
    def _run(self) -> None:
        self._report(SourceStatus("opening"))
        if not os.path.isfile(self.path):
            self._report(SourceStatus("failed", detail=f"not found: {self.path}"))
            return
        try:
            reader = _open_reader(self.path)
        except Exception as error:
            self._report(SourceStatus("failed", detail=f"{type(error).__name__}: {error}"))
            return
        self.fps = reader.fps
        self.frame_count = reader.frame_count
        self.size = (reader.width, reader.height)
        try:
            self._play_loop(reader)
        finally:
            reader.close()

    def _play_loop(self, reader: _PyAVReader) -> None:
        frames = reader.frames()
        # Wall-clock anchor for real-time pacing: media time t is due at anchor_wall + (t - anchor_media).
        anchor_wall, anchor_media = time.monotonic(), 0.0
        pending_steps = (
            1 if self._paused else 0
        )  # single steps requested while paused; a paused start still shows frame 0
        target: int | None = None  # seek target: frames before it are preroll
        ended = False
        previous_decoded: tuple[tuple[int, int], np.ndarray] | None = None  # ((epoch, index), image)
        self._report(SourceStatus("paused" if self._paused else "playing"))

        while not self._stop.is_set():
            # 1. Commands. A burst of seeks (dragging the slider) collapses to the last one.
            seek_to: int | None = None
            try:
                while True:
                    command = self._commands.get_nowait()
                    if command.name == "play":
                        if ended:
                            seek_to = 0
                        self._paused = False
                        pending_steps = 0
                    elif command.name == "pause":
                        self._paused = True
                    elif command.name == "seek":
                        seek_to = int(command.value)
                    elif command.name == "step":
                        self._paused = True
                        if command.value >= 0:
                            pending_steps += int(command.value)
                        else:
                            seek_to = max(0, self.position + int(command.value))
                    elif command.name == "every_frame":
                        self.every_frame = bool(command.value)
                    self._report(SourceStatus("paused" if self._paused else "playing"))
            except queue.Empty:
                pass

            if seek_to is not None:
                if self.frame_count:
                    seek_to = min(seek_to, self.frame_count - 1)
                target = max(0, seek_to)
                reader.seek(max(0, target - self.preroll_frames))
                frames = reader.frames()
                self._epoch += 1
                self.slot.clear()
                ended = False
                pending_steps = max(pending_steps, 1) if self._paused else 0
                anchor_wall = time.monotonic()
                anchor_media = target / self.fps
                self._report(SourceStatus("paused" if self._paused else "playing"))

            if ended or (self._paused and pending_steps == 0):
                time.sleep(0.02)
                anchor_wall, anchor_media = time.monotonic(), (self.position + 1) / self.fps
                continue

            # 2. Decode the next frame.
            try:
                index, time_s, image = next(frames)
            except StopIteration:
                ended = True
                self._report(SourceStatus("ended"))
                continue
            except Exception as error:  # corrupt data mid-file
                self._report(SourceStatus("failed", detail=f"{type(error).__name__}: {error}"))
                return
            is_preroll = target is not None and index < target
            if not is_preroll:
                target = None

            # 3. Real-time pacing (not for preroll, single steps or every-frame mode).
            if not is_preroll and not self.every_frame and not self._paused:
                due = anchor_wall + (time_s - anchor_media)
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                elif delay < -0.5:
                    # Decoding itself fell behind (slow disk, 4K file): re-anchor instead of racing.
                    anchor_wall, anchor_media = time.monotonic(), time_s

            follows = previous_decoded is not None and previous_decoded[0] == (self._epoch, index - 1)
            frame = SourceFrame(
                image,
                index,
                time_s,
                time.monotonic(),
                self._epoch,
                is_preroll,
                previous_decoded[1] if follows else None,
            )
            previous_decoded = ((self._epoch, index), image)
            block = self.every_frame or self._paused or is_preroll
            delivered = self.slot.put(frame, block=block, cancelled=self._interrupted)
            if not delivered:
                continue  # a seek or stop arrived while waiting; the loop handles it
            if not is_preroll:
                self.position = index
                self._rate.tick()
                if self._paused and pending_steps > 0:
                    pending_steps -= 1

    def _interrupted(self) -> bool:
        return self._stop.is_set() or not self._commands.empty()


# ------------------------------------------------------------------------------------
# Cameras and network streams (OpenCV)
# ------------------------------------------------------------------------------------
def camera_backend() -> int:
    """DirectShow on Windows: it opens in about a second where MSMF can take minutes."""
    return cv2.CAP_DSHOW if sys.platform == "win32" else cv2.CAP_ANY


def list_cameras(max_index: int = 6, stop_after_misses: int = 2) -> list[int]:
    """Indices of cameras that open and deliver a frame.

    Probing stops after ``stop_after_misses`` consecutive failures because device
    numbers are dense on every platform; that keeps the scan to a second or two.
    """
    found: list[int] = []
    misses = 0
    previous_level = _quiet_opencv()
    try:
        for index in range(max_index):
            capture = cv2.VideoCapture(index, camera_backend())
            ok = capture.isOpened() and capture.read()[0]
            capture.release()
            if ok:
                found.append(index)
                misses = 0
            else:
                misses += 1
                if misses >= stop_after_misses:
                    break
    finally:
        _restore_opencv_log(previous_level)
    return found


def _quiet_opencv() -> int | None:
    """Probing missing cameras prints warnings on stderr; silence them while we do."""
    try:
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        return previous
    except Exception:
        return None


def _restore_opencv_log(level: int | None) -> None:
    if level is not None:
        try:
            cv2.utils.logging.setLogLevel(level)
        except Exception:
            pass


class _CaptureSource(FrameSource):
    """Shared loop of cameras and streams: open, grab newest frames, reconnect with backoff."""

    first_retry_s = 1.0
    max_retry_s = 30.0

    def __init__(self, label: str, on_status: StatusCallback | None = None) -> None:
        super().__init__(label, on_status)
        self._opened_at = 0.0
        self._count = 0

    def _open(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def _run(self) -> None:
        attempt = 0
        retry_s = self.first_retry_s
        self._opened_at = time.monotonic()
        while not self._stop.is_set():
            self._report(SourceStatus("opening", attempt=attempt))
            previous_level = _quiet_opencv()
            try:
                capture = self._open()
            finally:
                _restore_opencv_log(previous_level)
            if capture is not None and capture.isOpened():
                fps = capture.get(cv2.CAP_PROP_FPS)
                self.fps = float(fps) if fps and 0 < fps < 1000 else 0.0
                got_frame = self._grab_loop(capture)
                capture.release()
                if self._stop.is_set():
                    break
                if got_frame:
                    attempt, retry_s = 0, self.first_retry_s  # it worked for a while: start the backoff over
                detail = "stream stopped delivering frames"
            else:
                if capture is not None:
                    capture.release()
                detail = "could not open"
            attempt += 1
            if not self._retry_forever() and attempt >= 3:
                self._report(SourceStatus("failed", detail=detail))
                return
            self._report(SourceStatus("reconnecting", detail=detail, retry_in_s=retry_s, attempt=attempt))
            if self._stop.wait(retry_s):
                break
            retry_s = min(retry_s * 2, self.max_retry_s)
        self._report(SourceStatus("stopped"))

    def _retry_forever(self) -> bool:
        return True

    def _grab_loop(self, capture: cv2.VideoCapture) -> bool:
        got_frame = False
        failures = 0
        previous_image = None
        while not self._stop.is_set():
            ok, image = capture.read()
            if not ok or image is None:
                failures += 1
                if failures >= 5:
                    return got_frame
                time.sleep(0.05)
                continue
            if not got_frame:
                got_frame = True
                self.size = (image.shape[1], image.shape[0])
                self._report(SourceStatus("playing"))
            failures = 0
            now = time.monotonic()
            self._rate.tick(now)
            self.slot.put(SourceFrame(image, self._count, now - self._opened_at, now, previous=previous_image))
            previous_image = image
            self._count += 1
        return got_frame


class CameraSource(_CaptureSource):
    """A local camera by index (DirectShow on Windows)."""

    kind = "camera"

    def __init__(self, index: int, on_status: StatusCallback | None = None) -> None:
        super().__init__(f"camera {index}", on_status)
        self.index = index

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.index, camera_backend())
        # Keep the driver's own queue short: we want the newest frame, not a backlog.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    def _retry_forever(self) -> bool:
        # A camera that never opened is most likely the wrong index; give up after a few tries.
        return self.size != (0, 0)


class StreamSource(_CaptureSource):
    """An RTSP/HTTP URL through OpenCV's FFmpeg backend, over TCP, reconnecting with backoff."""

    kind = "stream"
    open_timeout_ms = 8000
    read_timeout_ms = 8000

    def __init__(self, url: str, on_status: StatusCallback | None = None) -> None:
        super().__init__(redact_url(url), on_status)
        self.url = url

    def _open(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            self.open_timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            self.read_timeout_ms,
        ]
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture


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


def make_source(spec: str, on_status: StatusCallback | None = None, **file_options) -> FrameSource:
    """A source from what a user typed: a camera index, a URL or a file path."""
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource(int(spec), on_status)
    if is_stream_url(spec):
        return StreamSource(spec, on_status)
    return FileSource(spec, on_status, **file_options)


def format_time(seconds: float) -> str:
    """m:ss.t for the transport bar and the event list."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    minutes, rest = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{rest:04.1f}"
    return f"{minutes}:{rest:04.1f}"


__all__ = [
    "CameraSource",
    "FileSource",
    "FrameSlot",
    "FrameSource",
    "RateMeter",
    "SourceFrame",
    "SourceStatus",
    "StreamSource",
    "format_time",
    "is_stream_url",
    "list_cameras",
    "make_source",
    "redact_url",
]
