"""Appearance encoders: the part of AI-VAD that learns in this product.

- full backend: CLIP ViT-B/16's image tower, as in AI-VAD (pretrained, adapted to the footage);
- lite backend: a small CNN trained from random initialisation on the footage's region crops.
Both take uint8 RGB crops and return L2-normalised features, the space in which the
Mean-Shifted Contrastive loss trains them and in which the appearance kNN measures distance.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class AppearanceEncoder(nn.Module):
    """Common interface: ``forward`` takes float (N, 3, S, S) in [0, 1], returns (N, D)."""

    crop_size: int
    output_dim: int

    @torch.no_grad()
    def embed(
        self,
        crops: np.ndarray,
        device: str = "cpu",
        batch_size: int = 64,
        normalise: bool = True,
        precision: str = "auto",
    ) -> np.ndarray:
        """uint8 (N, S, S, 3) RGB crops -> float32 (N, D), L2-normalised unless told otherwise.

        ``precision`` is an inference precision of :mod:`aivad.devices` (auto, fp32, bf16).
        """
        from aivad.devices import inference_autocast

        was_training = self.training
        if was_training:  # train()/eval() walk every submodule: a per-frame cost when nothing changes
            self.eval()
        out = []
        for start in range(0, len(crops), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(crops[start : start + batch_size])).to(device)
            batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
            with inference_autocast(precision, device, encoder=True):
                features = self(batch).float()
            out.append((F.normalize(features, dim=1) if normalise else features).cpu())
        if was_training:
            self.train()
        return torch.cat(out).numpy() if out else np.zeros((0, self.output_dim), np.float32)


class ClipAppearanceEncoder(AppearanceEncoder):
    crop_size = 224

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual
        self.output_dim = int(visual.output_dim)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.visual((images - self.mean) / self.std)


class SmallCnnEncoder(AppearanceEncoder):
    """Four strided conv blocks (GroupNorm: batch statistics would leak between contrastive views)."""

    crop_size = 64

    def __init__(self, output_dim: int = 128, width: int = 32) -> None:
        super().__init__()
        self.output_dim = output_dim
        layers, channels = [], 3
        for multiplier in (1, 2, 4, 4):
            layers += [
                nn.Conv2d(channels, width * multiplier, 3, stride=2, padding=1, bias=False),
                nn.GroupNorm(8, width * multiplier),
                nn.ReLU(inplace=True),
            ]
            channels = width * multiplier
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, output_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        pooled = self.features(images * 2.0 - 1.0).mean(dim=(2, 3))
        return self.head(pooled)


def build_encoder(kind: str, weights_source=None) -> AppearanceEncoder:
    if kind == "small_cnn":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return SmallCnnEncoder()
    if kind == "clip_vit_b16":
        from aivad.features.weights import build_clip_visual

        return ClipAppearanceEncoder(build_clip_visual(weights_source))
    raise ValueError(f"unknown encoder {kind}")
