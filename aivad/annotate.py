"""Draw a frame's regions and score onto the picture (annotated videos; the UI draws its own)."""

from __future__ import annotations

import cv2
import numpy as np

from aivad.results import FrameResult


def score_colour(score: float, threshold: float) -> tuple[int, int, int]:
    """Green below half the threshold, through yellow, to red at and above it (BGR)."""
    t = float(np.clip(score / threshold if threshold > 0 else 0.0, 0.0, 1.0))
    return (0, int(255 * min(1.0, 2 * (1 - t))), int(255 * min(1.0, 2 * t)))


def draw_result(frame: np.ndarray, result: FrameResult, threshold: float) -> np.ndarray:
    canvas = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    for region in result.regions:
        if region.whole_frame:
            continue
        x0, y0, x1, y1 = region.box
        colour = score_colour(region.score, threshold)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, 2)
        cv2.putText(
            canvas,
            f"{region.top_attribute[:4]} {region.score:.2f}",
            (x0, max(12, y0 - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            colour,
            1,
            cv2.LINE_AA,
        )
    label = f"{'ANOMALY' if result.is_anomaly else 'normal'}  score {result.score:.3f} / {threshold:.3f}"
    cv2.rectangle(canvas, (0, 0), (canvas.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(
        canvas,
        label,
        (6, 16),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 255) if result.is_anomaly else (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return canvas
