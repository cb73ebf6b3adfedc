"""Cameras: what a user set up (saved between sessions) and what the window keeps about each one.

A CCTV team watches several cameras at once, each with its own source, checkpoint, zones and
threshold. :class:`CameraConfig` is the part that is saved (JSON in the window's QSettings, so
the settings file stays the one place a setup lives); :class:`Camera` adds the running parts:
its inference job, its source and the newest results the grid draws. No widgets here.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import asdict, dataclass, field

from aivad.ui.reports import DetectionSettings, DisplayFrame, FrameReport, WorkerStats
from aivad.ui.worker import InferenceWorker
from aivad.video.sources import FrameSource, SourceStatus

LAYOUTS = {"1": 1, "2x2": 2, "3x3": 3}  # name -> tiles per side; "1" is the selected camera alone
SETTINGS_KEY = "cameras/setup"
HISTORY = 20_000  # chart points kept per camera, so selecting a camera shows its recent past


@dataclass
class CameraConfig:
    """One camera as the user set it up."""

    name: str
    source: str = ""  # file path, webcam index or rtsp:// / http:// URL
    checkpoint: str = ""
    zones: list[list[tuple[float, float]]] = field(default_factory=list)  # 0..1 frame coordinates
    roi: bool = False  # zones are the only watched area (else: ignored areas)
    threshold: float | None = None  # None: the checkpoint's calibrated threshold
    enabled: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CameraConfig:
        threshold = data.get("threshold")
        return cls(
            name=str(data.get("name", "")) or "Camera",
            source=str(data.get("source", "")),
            checkpoint=str(data.get("checkpoint", "")),
            zones=[[(float(x), float(y)) for x, y in zone] for zone in data.get("zones") or []],
            roi=bool(data.get("roi", False)),
            threshold=None if threshold is None else float(threshold),
            enabled=bool(data.get("enabled", True)),
        )


def parse_camera_arg(text: str) -> CameraConfig:
    """``name=Gate;source=video.mp4;checkpoint=model.ckpt;threshold=0.5`` (the command line's --camera).

    ``;`` separates fields because paths and URLs contain ``,`` and ``:``. Unknown keys are refused by name.
    """
    values: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("name", "source", "checkpoint", "threshold", "enabled"):
            raise ValueError(f"--camera: expected name=…;source=…;checkpoint=…;threshold=…, got {part.strip()!r}")
        values[key] = value.strip()
    if not values.get("source"):
        raise ValueError(f"--camera needs source=…: {text!r}")
    try:
        threshold = float(values["threshold"]) if values.get("threshold") else None
    except ValueError:
        raise ValueError(f"--camera: threshold must be a number, got {values['threshold']!r}") from None
    return CameraConfig(
        name=values.get("name") or values["source"],
        source=values["source"],
        checkpoint=values.get("checkpoint", ""),
        threshold=threshold,
        enabled=values.get("enabled", "1").lower() not in ("0", "false", "no", "off"),
    )


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


def slug(name: str) -> str:
    """A folder name for a camera's evidence: letters, digits, '-' and '_' (Korean letters kept)."""
    return re.sub(r"[^\w\-]+", "_", name.strip(), flags=re.UNICODE).strip("_") or "camera"


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
