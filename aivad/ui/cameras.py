"""Cameras: what a user set up (saved between sessions) and what the window keeps about each one.

A CCTV team watches several cameras at once, each with its own source, checkpoint, zones and
threshold. :class:`aivad.live.cameras.CameraConfig` is the part that is saved (JSON in the window's QSettings, so
the settings file stays the one place a setup lives); :class:`Camera` adds the running parts:
its inference job, its source and the newest results the grid draws. No widgets here.
"""

from __future__ import annotations

import json
from collections import deque

from aivad.live.cameras import CameraConfig, parse_camera_arg, slug  # noqa: F401  (the window's names for them)
from aivad.ui.reports import DetectionSettings, DisplayFrame, FrameReport, WorkerStats
from aivad.ui.worker import InferenceWorker
from aivad.video.sources import FrameSource, SourceStatus

LAYOUTS = {"1": 1, "2x2": 2, "3x3": 3}  # name -> tiles per side; "1" is the selected camera alone
SETTINGS_KEY = "cameras/setup"
HISTORY = 20_000  # chart points kept per camera, so selecting a camera shows its recent past


def save_setup(settings, cameras: list[CameraConfig], layout: str, selected: str) -> None:
    data = {"layout": layout, "selected": selected, "cameras": [camera.to_dict() for camera in cameras]}
    settings.setValue(SETTINGS_KEY, json.dumps(data))


def load_setup(settings) -> tuple[list[CameraConfig], str, str]:
    """The saved cameras, layout and selected camera's name; nothing saved (or unreadable): ``([], "1", "")``."""
    try:
        data = json.loads(str(settings.value(SETTINGS_KEY, "") or "{}"))
        cameras = [CameraConfig.from_dict(item) for item in data.get("cameras", [])]
        layout = str(data.get("layout", "1"))
        return cameras, layout if layout in LAYOUTS else "1", str(data.get("selected", ""))
    except (ValueError, TypeError, AttributeError):
        return [], "1", ""


class Camera:
    """A camera while the window runs: its configuration, its inference job, its source, its newest state."""

    def __init__(self, config: CameraConfig, worker: InferenceWorker) -> None:
        self.config = config
        self.worker = worker
        self.source: FrameSource | None = None
        self.checkpoint_info: dict | None = None
        self.settings: DetectionSettings | None = None  # last pushed to the worker
        self.status: SourceStatus | None = None
        self.latest: DisplayFrame | None = None
        self.stats = WorkerStats()
        self.history: deque[FrameReport] = deque(maxlen=HISTORY)
        self.frames_processed = 0
        self.alarm = False
        self.source_configured = False  # chart and transport sized from the opened source
        self.stream_done = False  # end of file reached and every event closed

    @property
    def name(self) -> str:
        return self.config.name

    def absorb(self, reports: list[FrameReport], latest: DisplayFrame | None, stats: WorkerStats) -> None:
        """What one drain of the worker brought."""
        self.history.extend(reports)
        self.frames_processed += len(reports)
        self.stats = stats
        if latest is not None:
            self.latest = latest
            self.alarm = bool(latest.alarm)

    def reset_stream(self) -> None:
        """A new source: the old one's results no longer describe this camera."""
        self.latest = None
        self.alarm = False
        self.history.clear()
        self.frames_processed = 0
        self.stats = WorkerStats()
        self.status = None
        self.source_configured = False
        self.stream_done = False
