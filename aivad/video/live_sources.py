"""Webcams and network streams (RTSP, HTTP) as frame sources; reconnect with backoff."""

from __future__ import annotations

import os
import sys
import time

# Network cameras over UDP lose packets on Wi-Fi and show grey smears; TCP is what
# users expect from Frigate. OpenCV reads this variable every time it opens a stream.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402  (must come after the environment variable above)

from aivad.video.file_source import FileSource
from aivad.video.sources import FrameSource, SourceFrame, SourceStatus, StatusCallback, is_stream_url, redact_url


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
            self.slot.put(
                SourceFrame(
                    image,
                    self._count,
                    now - self._opened_at,
                    now,
                    previous=previous_image,
                    reconnected=previous_image is None,
                )
            )
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


def make_source(spec: str, on_status: StatusCallback | None = None, **file_options) -> FrameSource:
    """A source from what a user typed: a camera index, a URL, or the path of a file or a frame folder."""
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource(int(spec), on_status)
    if is_stream_url(spec):
        return StreamSource(spec, on_status)
    return FileSource(spec, on_status, **file_options)
