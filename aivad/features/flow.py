"""Full backend, stage 1: RAFT optical flow between the two frames of a pair."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RaftFlow(nn.Module):
    """RAFT at a fixed working size (anomalib uses 520x960), flow returned in frame pixels.

    anomalib resizes the flow field back to the frame without rescaling the vectors, so its
    velocities are in working-size pixels; here they are scaled to frame pixels, which keeps
    velocity histograms comparable when the working size is changed for speed.
    """

    def __init__(self, raft: nn.Module, size: tuple[int, int] = (520, 960), iterations: int = 12) -> None:
        super().__init__()
        if size[0] % 8 or size[1] % 8:
            raise ValueError("RAFT's working size must be a multiple of 8 on both sides")
        self.raft = raft
        self.size = tuple(size)
        self.iterations = iterations

    @torch.no_grad()
    def forward(self, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """previous, current: (B, 3, H, W) float in [0, 1]. Returns (B, 2, H, W)."""
        height, width = previous.shape[-2:]
        a = F.interpolate(previous, size=self.size, mode="bilinear", align_corners=False) * 2 - 1
        b = F.interpolate(current, size=self.size, mode="bilinear", align_corners=False) * 2 - 1
        flow = self.raft(a, b, num_flow_updates=self.iterations)[-1]
        flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
        scale = torch.tensor([width / self.size[1], height / self.size[0]], device=flow.device).view(1, 2, 1, 1)
        return flow * scale
