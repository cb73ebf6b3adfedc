"""The one drawing module: the window, its snapshots and clips, and ``score --annotated`` videos; no Qt.

The colour of a region says how close its score is to the alarm threshold, so the
same colours mean the same thing on screen, in snapshots and in clips.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from aivad.errors import UserError
from aivad.live.results import RegionResult

# (ratio of score to threshold, RGB). Below half the threshold is calm green, at the
# threshold amber turns red, far above it stays a saturated red.
_SCALE: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (46, 204, 113)),
    (0.6, (46, 204, 113)),
    (0.85, (245, 166, 35)),
    (1.0, (255, 77, 79)),
    (2.0, (220, 20, 60)),
)

SHORT_ATTRIBUTE = {
    "velocity": "VEL",
    "pose": "POSE",
    "person": "PERS",
    "shape": "SHP",
    "appearance": "APP",
    "geometry": "GEO",
}


def score_rgb(score: float, threshold: float) -> tuple[int, int, int]:
    """Colour for a score, judged against the current threshold."""
    ratio = score / threshold if threshold > 0 else 0.0
    if ratio <= _SCALE[0][0]:
        return _SCALE[0][1]
    for (r0, c0), (r1, c1) in zip(_SCALE, _SCALE[1:]):
        if ratio <= r1:
            t = (ratio - r0) / (r1 - r0) if r1 > r0 else 1.0
            return tuple(int(round(a + (b - a) * t)) for a, b in zip(c0, c1))  # type: ignore[return-value]
    return _SCALE[-1][1]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1

LABEL_SHARE_OF_THRESHOLD = 0.5  # regions scoring at least half the threshold are labelled


def worth_a_label(score: float, threshold: float) -> bool:
    if not np.isfinite(threshold) or threshold <= 0:
        return True  # no usable threshold: label everything, as before a checkpoint has one
    return score >= LABEL_SHARE_OF_THRESHOLD * threshold


def place_labels(boxes: list[Box], sizes: list[tuple[float, float]], bounds: Box) -> list[Box]:
    """Where each box's label goes, in order of importance: the first of these places that stays in
    ``bounds`` and covers no label placed before it: above the box, below it, inside its top, then
    the same rows stacked further up or down. Boxes of people walking side by side would otherwise
    hide each other's labels. If every place is taken, the label takes the first place in ``bounds``."""
    placed: list[Box] = []
    for (x0, y0, _, y1), (width, height) in zip(boxes, sizes):
        left = min(max(x0, bounds[0]), bounds[2] - width)
        rows = [y0 - height, y1, y0]
        rows += [y0 - height * (k + 1) for k in range(1, 4)] + [y1 + height * k for k in range(1, 4)]
        candidates = [(left, top, left + width, top + height) for top in rows]
        inside = [c for c in candidates if c[1] >= bounds[1] and c[3] <= bounds[3]] or candidates
        free = [c for c in inside if not any(boxes_overlap(c, other) for other in placed)]
        placed.append((free or inside)[0])
    return placed


def boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def label_layout(
    boxes: list[Box], scores: list[float], threshold: float, sizes: list[tuple[float, float]], bounds: Box
) -> dict[int, Box]:
    """Which regions get a label, and where (region index -> label box).

    Only regions worth a look get one, and the frame's most unusual region always: a green box
    already says "normal", and a score on every passer-by buries the one that matters. Placed
    strongest first, so where people walk side by side the most suspicious label keeps its place.
    """
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    chosen = [i for rank, i in enumerate(order) if rank == 0 or worth_a_label(scores[i], threshold)]
    return dict(zip(chosen, place_labels([boxes[i] for i in chosen], [sizes[i] for i in chosen], bounds)))


def heatmap_rgba(
    regions: list[RegionResult], threshold: float, width: int, height: int, cell: int = 8
) -> np.ndarray | None:
    """A soft low-resolution map of region scores: where in the picture the model is worried.

    Each region spreads its score over its box; overlapping boxes keep the maximum. The
    result is RGBA at 1/``cell`` of the frame size; the view scales it up smoothly.
    """
    if not regions or width <= 0 or height <= 0 or threshold <= 0:
        return None
    w, h = max(1, width // cell), max(1, height // cell)
    grid = np.zeros((h, w), np.float32)
    for region in regions:
        if region.whole_frame:
            continue
        x0, y0, x1, y1 = (int(v) // cell for v in region.box)
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        ratio = float(region.score) / threshold
        patch = grid[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
        np.maximum(patch, ratio, out=patch)
    if not grid.any():
        return None
    grid = cv2.GaussianBlur(grid, (0, 0), sigmaX=1.5)
    # Ratio 0.3 starts to show, the threshold is clearly warm, 1.5x and above is fully hot.
    level = np.clip((grid - 0.3) / 1.2, 0.0, 1.0)
    colour = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)  # BGR
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = colour[..., ::-1]
    rgba[..., 3] = (np.sqrt(level) * 190).astype(np.uint8)  # sqrt: mid scores still visible
    return rgba


def annotate(
    image_bgr: np.ndarray,
    regions: list[RegionResult],
    threshold: float,
    alarm: bool,
    caption: str = "",
) -> np.ndarray:
    """A copy of the frame with region boxes, their main attribute and the state; for snapshots and clips."""
    out = image_bgr.copy()
    height, width = out.shape[:2]
    thickness = max(1, round(min(width, height) / 300))
    font_scale = max(0.35, min(width, height) / 900)
    shown = sorted((region for region in regions if not region.whole_frame), key=lambda region: region.score)
    labels, sizes, text_heights = [], [], []
    for region in shown:  # weakest first, so the most suspicious box is drawn on top
        r, g, b = score_rgb(region.score, threshold)
        x0, y0, x1, y1 = (int(v) for v in region.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (b, g, r), thickness, cv2.LINE_AA)
        labels.append(f"{SHORT_ATTRIBUTE.get(region.top_attribute, region.top_attribute)} {region.score:.1f}")
        (tw, th), base = cv2.getTextSize(labels[-1], cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        sizes.append((tw + 4, th + base + 4))
        text_heights.append(th)
    # The window's rule (label_layout): labels after all boxes, apart, only where they matter.
    layout = label_layout(
        [region.box for region in shown], [region.score for region in shown], threshold, sizes, (0, 0, width, height)
    )
    for i in sorted(layout):
        r, g, b = score_rgb(shown[i].score, threshold)
        lx0, ly0, lx1, ly1 = (int(round(v)) for v in layout[i])
        cv2.rectangle(out, (lx0, ly0), (lx1 - 1, ly1 - 1), (b, g, r), -1)
        cv2.putText(
            out,
            labels[i],
            (lx0 + 2, ly0 + 2 + text_heights[i]),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (20, 20, 20),
            1,
            cv2.LINE_AA,
        )
    state = "ANOMALY" if alarm else "NORMAL"
    colour = (79, 77, 255) if alarm else (113, 204, 46)
    text = f"{state}  {caption}".strip()
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale * 1.1, 1)
    cv2.rectangle(out, (0, 0), (tw + 12, th + base + 10), (24, 24, 24), -1)
    cv2.putText(out, text, (6, th + 5), cv2.FONT_HERSHEY_SIMPLEX, font_scale * 1.1, colour, 1, cv2.LINE_AA)
    return out


def encode_png(image_bgr: np.ndarray) -> bytes:
    """PNG bytes; written with Path.write_bytes because cv2.imwrite fails on non-ASCII Windows paths."""
    ok, data = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def thumbnail(image_bgr: np.ndarray, width: int = 128) -> np.ndarray:
    height = max(1, round(image_bgr.shape[0] * width / image_bgr.shape[1]))
    return cv2.resize(image_bgr, (width, height), interpolation=cv2.INTER_AREA)


def write_annotated(path: Path, video: Path, results, threshold: float, fps: float) -> None:
    from aivad.video.files import read_frames

    by_index = {r.frame_index: r for r in results}
    writer = None
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)  # as the other outputs' writers do; OpenCV would not
    try:
        for index, frame in read_frames(video):
            result = by_index.get(index)
            if result is None:
                continue
            canvas = annotate(
                frame, result.regions, threshold, result.is_anomaly, caption=f"{result.score:.3f} / {threshold:.3f}"
            )
            if writer is None:
                height, width = canvas.shape[:2]
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps or 10.0, (width, height))
                if not writer.isOpened():
                    raise UserError(
                        f"cannot write the annotated video {path}; check the folder exists and is writable."
                    )
            writer.write(canvas)
    finally:
        if writer is not None:
            writer.release()
    tmp.replace(path)
