"""What the frozen stages of either backend hand to the rest: regions of one frame pair.

A backend turns a pair of consecutive frames into :class:`FrameRegions`: the object boxes, the
frozen attribute features of each box (velocity, pose or geometry) and the box crops that the
trainable appearance encoder embeds. Frames with no region get the whole frame as one region, as
the AI-VAD authors do, so that an anomaly in an empty scene is not invisible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per-region measurements a backend hands on beside the attribute features; no density scores them.
# "region_side": the box's shorter side at the backend's processing size (lite), which decides whether a
# region is large enough to have an appearance (aivad.model.aivad_model.appearance_rows).
REGION_SIDE = "region_side"
# "moving_share": the share of the box's height that its fast-moving part spans (lite models that measure
# speed against the moving part's height: aivad.features.velocity.moving_shares).
MOVING_SHARE = "moving_share"
REGION_MEASURES = (REGION_SIDE, MOVING_SHARE)


@dataclass
class FrameRegions:
    boxes: np.ndarray  # (N, 4) float32, x0 y0 x1 y1 in frame pixels; N >= 1
    whole_frame: bool  # True when no region was found and the whole frame stands in
    frozen: dict[str, np.ndarray]  # attribute name (or a REGION_MEASURES name) -> (N, D) float32
    crops: np.ndarray  # (N, S, S, 3) uint8 RGB, input of the appearance encoder
    camera: str = ""  # what the camera did (aivad.features.camera_motion.camera_state); "" where nothing or unknown


def too_thin_for_appearance(frozen: dict[str, np.ndarray], min_side: float) -> np.ndarray | None:
    """Regions whose shorter side at processing size is under ``min_side`` (None: no region is, or no gate)."""
    side = frozen.get(REGION_SIDE)
    if min_side <= 0 or side is None or len(side) == 0:
        return None
    thin = np.asarray(side)[:, 0] < min_side
    return thin if thin.any() else None


def whole_frame_box(height: int, width: int) -> np.ndarray:
    return np.array([[0, 0, width, height]], dtype=np.float32)


def filter_boxes(boxes: np.ndarray, min_area: float, max_overlap: float) -> np.ndarray:
    """Drop tiny boxes, then boxes mostly covered by a larger kept one (smallest first, as anomalib)."""
    if len(boxes) == 0:
        return boxes.reshape(0, 4).astype(np.float32)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    boxes, areas = boxes[areas > min_area], areas[areas > min_area]
    order = np.argsort(areas)
    keep = []
    for rank, i in enumerate(order):
        others = boxes[order[rank + 1 :]]
        if len(others):
            x0 = np.maximum(boxes[i, 0], others[:, 0])
            y0 = np.maximum(boxes[i, 1], others[:, 1])
            x1 = np.minimum(boxes[i, 2], others[:, 2])
            y1 = np.minimum(boxes[i, 3], others[:, 3])
            inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
            if np.any(inter / areas[i] > max_overlap):
                continue
        keep.append(i)
    return boxes[sorted(keep)].astype(np.float32)
