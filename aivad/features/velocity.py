"""Per-region velocity features from optical flow: AI-VAD's direction histogram, or the region's speed.

``velocity_histograms``: the mean optical-flow magnitude per flow-direction bin, the same definition
as anomalib's ``VelocityExtractor`` (roi_align of the flow to a fixed grid, direction ``atan2(u, v)``
split into ``n_bins`` equal bins over [-pi, pi), each bin holding the mean magnitude of its pixels),
computed for all boxes at once with ``scatter_add`` instead of one ``torch.histogram`` call per box.

``region_speeds``: one number per region, the 90th percentile of the flow magnitude inside its box.
Why the lite backend uses it (development set, both splits, velocity alone, causal scores): the
histogram's per-bin means are noisy where a direction holds few pixels, and background pixels
pointing the same way dilute the moving object's bin. With the histogram the weakest anomaly's
first-second peak stood only 1.01x (split a) and 1.19x (split b) above the highest normal score; with
the speed percentile 1.63x and 1.67x, and velocity alone ranks better (AUROC 0.946 / 0.958 against
0.927 / 0.942). It gives up the direction, which AI-VAD's histogram keeps: a person walking the wrong
way at a normal pace looks normal to it.

``region_displacements`` (lite models of this version, velocity feature ``speed_matched``: the larger
of the two): how far each box's content moved, found by matching it in the previous frame. Why: DIS
estimates flow coarse to fine, and at its coarse levels an object narrower than a patch is invisible,
so an object that moves more than its own width per frame is lost at the fine levels, where the search
is local. On the development set a pasted sprinter (35 px wide, 24-26 px a frame) got a flow of 3-9 px
on half of its frames, at every DIS preset and finest scale tried; the match found 24.1 / 26.3 px on
all of them. A match is trusted only where it is unambiguous (see the constants below); otherwise the
region keeps its flow speed.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
from torchvision.ops import roi_align

SPEED_QUANTILE = 0.9  # of the flow magnitudes inside a box: its moving object, not its background
VELOCITY_FEATURES = ("histogram", "speed", "speed_matched")
# A box's content is matched in the previous frame only when it can be told apart from its neighbourhood:
MATCH_MIN_SIDE = 12  # processing pixels on the shorter side (1.5 DIS patches): slivers of edges match anywhere
MATCH_SEARCH = 1.0  # search radius, in the box's longer side ...
MATCH_MAX_SEARCH = 48  # ... at most this many processing pixels per frame (bounded cost per box)
MATCH_GAIN = 0.5  # the match must at least halve the squared difference of staying put
MATCH_RETURN = 0.25  # matched back from there, the content must land within this share of the displacement


def velocity_histograms(flows: torch.Tensor, boxes: torch.Tensor, n_bins: int, grid: int = 224) -> torch.Tensor:
    """flows: (B, 2, H, W); boxes: (K, 5) rows of (batch_index, x0, y0, x1, y1). Returns (K, n_bins)."""
    if boxes.shape[0] == 0:
        return torch.zeros(0, n_bins, device=flows.device)
    flow_regions = roi_align(flows.float(), boxes.float(), output_size=[grid, grid])  # (K, 2, g, g)
    # hypot, not linalg.norm over dim 1: that strided reduction took 1.3 ms for 6 boxes at grid 32 and
    # 0.2 s for 25 boxes at grid 224 on one CPU thread (hypot: 0.03 / 4 ms), and hypot is the correctly
    # rounded one (norm differs from it by one float32 ulp in about a sixth of the pixels).
    magnitude = torch.hypot(flow_regions[:, 0], flow_regions[:, 1]).flatten(1)  # (K, g*g)
    theta = torch.atan2(flow_regions[:, 0], flow_regions[:, 1]).flatten(1)
    # torch.histogram puts theta == pi in the last bin; clamp does the same.
    bins = ((theta + math.pi) * (n_bins / (2 * math.pi))).long().clamp_(0, n_bins - 1)
    sums = torch.zeros(boxes.shape[0], n_bins, device=flows.device).scatter_add_(1, bins, magnitude)
    counts = torch.zeros(boxes.shape[0], n_bins, device=flows.device).scatter_add_(1, bins, torch.ones_like(magnitude))
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums))


def flow_magnitudes(flows: torch.Tensor, boxes: torch.Tensor, grid: int = 32) -> torch.Tensor:
    """(K, grid, grid): the flow's magnitude sampled on a grid inside each box (boxes as above).

    Region speeds and moving shares both read it: computed once per frame, passed to both.
    """
    flow_regions = roi_align(flows.float(), boxes.float(), output_size=[grid, grid])
    return torch.hypot(flow_regions[:, 0], flow_regions[:, 1])


def region_speeds(
    flows: torch.Tensor, boxes: torch.Tensor, grid: int = 32, magnitudes: torch.Tensor | None = None
) -> torch.Tensor:
    """flows: (B, 2, H, W); boxes: (K, 5) as above. Returns (K, 1): each box's 90th-percentile flow magnitude.

    ``magnitudes``: :func:`flow_magnitudes` of these boxes, where the caller has it already."""
    if boxes.shape[0] == 0:
        return torch.zeros(0, 1, device=flows.device)
    magnitude = (flow_magnitudes(flows, boxes, grid) if magnitudes is None else magnitudes).flatten(1)
    return torch.quantile(magnitude, SPEED_QUANTILE, dim=1, keepdim=True)


# A grid row belongs to the moving part when its fastest pixel reaches this share of the region's speed.
# 0.3 and 0.5 were tried too (docs/experiments.md): 0.3 counted the walker beside a car as moving and lost
# split e's car again; 0.7 was the best of the three on every split but b (within 0.001).
MOVING_LEVEL = 0.7


def moving_shares(
    flows: torch.Tensor,
    boxes: torch.Tensor,
    speeds: torch.Tensor,
    grid: int = 32,
    magnitudes: torch.Tensor | None = None,
) -> torch.Tensor:
    """(K,) share of each box's height spanned by the rows whose flow reaches MOVING_LEVEL of its speed.

    Why: frame-difference regions join objects that touch, and a region's speed is measured against its
    height. A car passing a walker is one box twice the car's height, so the car's speed counted half.
    The rows that move at the region's speed are the car's; a walker alone moves over his whole height.
    ``magnitudes``: as in :func:`region_speeds`.
    """
    if boxes.shape[0] == 0:
        return torch.zeros(0, device=flows.device)
    magnitude = flow_magnitudes(flows, boxes, grid) if magnitudes is None else magnitudes
    rows = magnitude.amax(dim=2)  # (K, grid): each row's fastest pixel
    fast = rows >= MOVING_LEVEL * speeds.reshape(-1, 1).clamp(min=1e-6)
    index = torch.arange(grid, device=flows.device).expand_as(rows)
    first = torch.where(fast, index, grid).amin(dim=1)
    last = torch.where(fast, index, -1).amax(dim=1)
    share = (last - first + 1).clamp(min=1).float() / grid
    return torch.where(fast.any(dim=1), share, torch.ones_like(share))


def matched_displacement(previous: np.ndarray, current: np.ndarray, box) -> float:
    """Pixels the content of ``box`` (x0, y0, x1, y1 in ``current``) moved since ``previous``; 0 where unsure.

    Both images are single-channel and the same size. The box's content is searched for in the previous
    frame (sum of squared differences); the displacement counts only if it fits clearly better than no
    motion and the match is consistent: the found patch of the previous frame, searched for in the current
    frame, leads back to the box.
    """
    height, width = current.shape[:2]
    x0, y0 = int(max(0, math.floor(box[0]))), int(max(0, math.floor(box[1])))
    x1, y1 = int(min(width, math.ceil(box[2]))), int(min(height, math.ceil(box[3])))
    box_w, box_h = x1 - x0, y1 - y0
    if min(box_w, box_h) < MATCH_MIN_SIDE:
        return 0.0
    search = int(min(math.ceil(MATCH_SEARCH * max(box_w, box_h)), MATCH_MAX_SEARCH))

    def best_shift(image: np.ndarray, template: np.ndarray, left: int, top: int) -> tuple[int, int, float, float]:
        """(dx, dy) of the best match of template (now at left, top) in image, its SSD, and the SSD of (0, 0)."""
        wx0, wy0 = max(0, left - search), max(0, top - search)
        wx1, wy1 = min(width, left + box_w + search), min(height, top + box_h + search)
        ssd = cv2.matchTemplate(image[wy0:wy1, wx0:wx1], template, cv2.TM_SQDIFF)
        low, _, at, _ = cv2.minMaxLoc(ssd)
        return at[0] + wx0 - left, at[1] + wy0 - top, float(low), float(ssd[top - wy0, left - wx0])

    dx, dy, fitted, still = best_shift(previous, current[y0:y1, x0:x1], x0, y0)
    if fitted >= MATCH_GAIN * still:  # no better than standing still (also: a textureless box, where all fit)
        return 0.0
    distance = math.hypot(dx, dy)
    back_x, back_y, _, _ = best_shift(current, previous[y0 + dy : y1 + dy, x0 + dx : x1 + dx], x0 + dx, y0 + dy)
    if math.hypot(dx + back_x, dy + back_y) > MATCH_RETURN * distance:
        return 0.0
    return distance


def region_displacements(previous: np.ndarray, current: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(K,) :func:`matched_displacement` of each box (x0, y0, x1, y1 in the images' pixels).

    The images are matched as float32, converted once for all boxes: OpenCV's 8-bit matchTemplate
    converts image and template to float for every call anyway, and took 1.5-2.8x as long at the
    sizes of people's boxes (docs/results.md, "Speed").
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.float32)
    previous, current = previous.astype(np.float32), current.astype(np.float32)
    return np.array([matched_displacement(previous, current, box) for box in boxes], dtype=np.float32)


def velocity_features(
    flows: torch.Tensor,
    boxes: torch.Tensor,
    feature: str,
    n_bins: int,
    grid: int,
    magnitudes: torch.Tensor | None = None,
) -> torch.Tensor:
    """The velocity attribute's feature rows: ``feature`` is one of VELOCITY_FEATURES (``magnitudes``: as in
    :func:`region_speeds`, for the speed features)."""
    if feature in ("speed", "speed_matched"):  # the match needs the images: the lite backend adds it
        return region_speeds(flows, boxes, grid=grid, magnitudes=magnitudes)
    if feature == "histogram":
        return velocity_histograms(flows, boxes, n_bins, grid=grid)
    raise ValueError(f"unknown velocity feature {feature!r}, expected one of {VELOCITY_FEATURES}")
