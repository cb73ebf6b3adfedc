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
"""

from __future__ import annotations

import math

import torch
from torchvision.ops import roi_align

SPEED_QUANTILE = 0.9  # of the flow magnitudes inside a box: its moving object, not its background
VELOCITY_FEATURES = ("histogram", "speed")


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


def region_speeds(flows: torch.Tensor, boxes: torch.Tensor, grid: int = 32) -> torch.Tensor:
    """flows: (B, 2, H, W); boxes: (K, 5) as above. Returns (K, 1): each box's 90th-percentile flow magnitude."""
    if boxes.shape[0] == 0:
        return torch.zeros(0, 1, device=flows.device)
    flow_regions = roi_align(flows.float(), boxes.float(), output_size=[grid, grid])
    magnitude = torch.hypot(flow_regions[:, 0], flow_regions[:, 1]).flatten(1)
    return torch.quantile(magnitude, SPEED_QUANTILE, dim=1, keepdim=True)


def velocity_features(flows: torch.Tensor, boxes: torch.Tensor, feature: str, n_bins: int, grid: int) -> torch.Tensor:
    """The velocity attribute's feature rows: ``feature`` is one of VELOCITY_FEATURES."""
    if feature == "speed":
        return region_speeds(flows, boxes, grid=grid)
    if feature == "histogram":
        return velocity_histograms(flows, boxes, n_bins, grid=grid)
    raise ValueError(f"unknown velocity feature {feature!r}, expected one of {VELOCITY_FEATURES}")
