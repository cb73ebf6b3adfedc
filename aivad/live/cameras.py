"""Cameras as a user sets them up: a name, a source, a checkpoint, a threshold and zones; no Qt.

Why here and not in the window: ``python -m aivad watch`` takes the same cameras as the window,
from the same ``--camera`` text and from the same JSON the window saves (its camera setup), so a
setup tried in the window runs unchanged on a camera PC without a screen.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aivad.errors import UserError

CAMERA_KEYS = ("name", "source", "checkpoint", "threshold", "enabled")


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
        if not sep or key not in CAMERA_KEYS:
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


def load_cameras_file(path: str | Path) -> list[CameraConfig]:
    """The cameras of a JSON file: the window's saved setup ``{"cameras": [{...}, ...]}`` or a bare list.

    Each camera is an object with the keys of :class:`CameraConfig` (name, source, checkpoint,
    threshold, zones, roi, enabled); only ``source`` is required.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UserError(f"--cameras {path} does not exist; check the path and run again.") from None
    except (OSError, ValueError) as error:
        raise UserError(f"--cameras {path} is not readable JSON ({error}).") from None
    items = data.get("cameras") if isinstance(data, dict) else data
    example = '[{"name": "Gate", "source": "rtsp://…", "checkpoint": "model.ckpt", "threshold": 0.5}]'
    if not isinstance(items, list) or not all(isinstance(item, dict) and item.get("source") for item in items):
        raise UserError(f"--cameras {path} must hold a list of cameras, each with a source, e.g. {example}.")
    try:
        return [CameraConfig.from_dict(item) for item in items]
    except (TypeError, ValueError) as error:
        raise UserError(f"--cameras {path}: a camera has a wrong value ({error}); e.g. {example}.") from None


def slug(name: str) -> str:
    """A folder name for a camera's evidence: letters, digits, '-' and '_' (Korean letters kept)."""
    return re.sub(r"[^\w\-]+", "_", name.strip(), flags=re.UNICODE).strip("_") or "camera"
