"""Mean-Shifted Contrastive (MSC) adaptation of the appearance encoder to normal footage.

Reiss & Hoshen, "Mean-Shifted Contrastive Loss for Anomaly Detection" (AAAI 2023), by the AI-VAD
authors: features are L2-normalised, shifted by the normalised mean ("center") of the normal
features computed once with the initial encoder, re-normalised, and trained with a contrastive
loss between two augmentations of each region crop. Unlike a pull-to-center objective it cannot
collapse to a constant: every crop must stay distinguishable from the others in the batch.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from torchvision.transforms import v2

from aivad.encoders import AppearanceEncoder

TEMPERATURE = 0.25  # the MSC reference value
WEIGHT_DECAY = 5e-5  # the MSC reference value


class CropPairs(Dataset):
    """Two random augmentations of each normal region crop (uint8 HWC RGB in, float CHW out)."""

    def __init__(self, crops: np.ndarray) -> None:
        self.crops = crops
        size = crops.shape[1]
        self.augment = v2.Compose(
            [
                v2.RandomResizedCrop(size, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True),
                v2.RandomHorizontalFlip(),
                v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.3, 0.05)], p=0.8),
                v2.RandomGrayscale(p=0.2),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = torch.from_numpy(np.ascontiguousarray(self.crops[index])).permute(2, 0, 1)
        return self.augment(image), self.augment(image)


def contrastive_loss(a: torch.Tensor, b: torch.Tensor, temperature: float = TEMPERATURE) -> torch.Tensor:
    """NT-Xent over the 2B views: each view's positive is its twin, the 2B-2 others are negatives."""
    views = torch.cat([F.normalize(a, dim=1), F.normalize(b, dim=1)])
    logits = views @ views.t() / temperature
    logits.fill_diagonal_(float("-inf"))
    n = a.shape[0]
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(a.device)
    return F.cross_entropy(logits, targets)


def feature_center(encoder: AppearanceEncoder, crops: np.ndarray, device: str) -> torch.Tensor:
    features = torch.from_numpy(encoder.embed(crops, device=device))
    return F.normalize(features.mean(dim=0), dim=0)


class MeanShiftedTraining(L.LightningModule):
    def __init__(self, encoder: AppearanceEncoder, center: torch.Tensor, lr: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.register_buffer("center", center.clone().float())
        self.lr = lr

    def mean_shifted(self, images: torch.Tensor) -> torch.Tensor:
        features = F.normalize(self.encoder(images).float(), dim=1)
        return F.normalize(features - self.center, dim=1)

    def training_step(self, batch, batch_index):
        first, second = batch
        loss = contrastive_loss(self.mean_shifted(first), self.mean_shifted(second))
        self.log("loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=first.shape[0])
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.encoder.parameters(), lr=self.lr, weight_decay=WEIGHT_DECAY)
