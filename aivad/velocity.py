"""Per-region velocity histograms: mean optical-flow magnitude per flow-direction bin.

Same definition as anomalib's ``VelocityExtractor`` (roi_align of the flow to a fixed grid,
direction ``atan2(u, v)`` split into ``n_bins`` equal bins over [-pi, pi), each bin holding the mean
magnitude of its pixels), computed for all boxes at once with ``scatter_add`` instead of one
``torch.histogram`` call per box on the CPU.
"""

from __future__ import annotations

import math

import torch
from torchvision.ops import roi_align


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
