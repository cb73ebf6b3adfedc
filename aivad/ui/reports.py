"""What the inference worker and the window hand each other: detection settings in; frame reports, the
newest frame to draw, statistics and the loaded checkpoint's card out. Plain data, no Qt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aivad.live.decision import DecisionSettings
from aivad.live.recording import EventRecord
from aivad.live.results import FrameResult, RegionResult


@dataclass
class DetectionSettings(DecisionSettings):
    """Everything the user can change about deciding (aivad.live.decision) and about keeping evidence;
    copied into the worker as a whole."""

    heatmap: bool = False
    save_events: bool = True
    output_dir: str = ""
    pre_s: float = 3.0
    post_s: float = 3.0


@dataclass
class FrameReport:
    """One processed frame, light enough to keep thousands of them for the chart."""

    index: int
    time_s: float
    score: float
    raw_score: float
    alarm: bool
    top_attribute: str
    epoch: int


@dataclass
class DisplayFrame:
    """The newest frame with everything the video view draws."""

    image: np.ndarray  # BGR
    index: int
    time_s: float
    result: FrameResult | None  # None while no checkpoint is loaded
    regions: list[RegionResult]  # regions that counted
    ignored: list[RegionResult]  # regions dropped by the ignore mask / outside the ROI
    alarm: bool
    threshold: float
    heatmap: np.ndarray | None  # RGBA, low resolution
    open_event: EventRecord | None


@dataclass
class WorkerStats:
    source_fps: float = 0.0
    processed_fps: float = 0.0
    dropped: int = 0
    latency_ms: float = 0.0  # decode to decision
    inference_ms: float = 0.0  # the model alone
    frames_processed: int = 0


def checkpoint_report(detector, path: str) -> dict:
    """A loaded checkpoint as the window shows it: its info, where it runs, its threshold and alarm rule."""
    info = {key: value for key, value in detector.info.items() if key != "config"}
    info.update(
        path=path,
        device=detector.device,
        threshold=float(detector.threshold),
        smoothing_sigma=float(detector.smoothing_sigma),
        alarm=detector.alarm_rule.to_dict(),
        false_alarm_model=detector.rate_model.to_dict() if detector.rate_model is not None else None,
    )
    return info
