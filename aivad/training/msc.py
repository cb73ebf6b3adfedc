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
from torch.utils.data import Dataset, Sampler
from torchvision.transforms import v2

from aivad.features.encoders import AppearanceEncoder

TEMPERATURE = 0.25  # the MSC reference value
WEIGHT_DECAY = 5e-5  # the MSC reference value

# Colour augmentation: (hue jitter, share of crops turned grey). The lite encoder learns from 40 s to a few
# hours of one camera, which show a few dozen people; trained to tell their crops apart with little hue
# jitter, it tells them apart partly by the colour of their clothes, and then every person of the next
# hour in a new colour is as new to it as a car. With hue over the whole colour wheel and half the crops
# grey, colour no longer tells two crops apart and the encoder keeps what does: outline and texture.
# Measured on the seven development splits (the README's training command, docs/results.md): split
# f's crawling car 0.751 / 0.683 -> 0.923 / 0.907 (two training seeds each), f 0.828 / 0.815 -> 0.892 /
# 0.893 centred; appearance alone up on a-e (0.02-0.09); the frame AUROC of a-e within 0.009 (one seed
# each), g's within the spread of its two seeds. The full backend keeps the colour augmentation it was
# measured with (CLIP's features come pretrained; this was measured on the lite encoder only).
LITE_COLOUR = (0.5, 0.5)
FULL_COLOUR = (0.05, 0.2)


def colour_augmentation(backend: str) -> tuple[float, float]:
    """(hue jitter, greyscale share) of the appearance encoder's training crops for this backend."""
    return LITE_COLOUR if backend == "lite" else FULL_COLOUR


class CropPairs(Dataset):
    """Two random augmentations of each normal region crop (uint8 HWC RGB in, float CHW out); ``colour``:
    (hue jitter, greyscale share), :func:`colour_augmentation` of the model's backend.

    Indexed by ``(crop, epoch)`` (what :class:`GlobalBatches` yields): the augmentation is drawn
    from a generator seeded by the seed, the epoch and the crop, so it does not depend on which
    process or worker draws it, and several processes train exactly as one.
    """

    def __init__(self, crops: np.ndarray, seed: int = 0, *, colour: tuple[float, float]) -> None:
        self.crops = crops
        self.seed = seed
        size = crops.shape[1]
        hue, greyscale = colour
        self.augment = v2.Compose(
            [
                v2.RandomResizedCrop(size, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True),
                v2.RandomHorizontalFlip(),
                v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.3, hue)], p=0.8),
                v2.RandomGrayscale(p=greyscale),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, key) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        image = torch.from_numpy(np.ascontiguousarray(self.crops[index])).permute(2, 0, 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed((self.seed * 1_000_003 + epoch) * 10_000_019 + int(index))
            return self.augment(image), self.augment(image)


class GlobalBatches(Sampler):
    """The batches one process would draw (a seeded shuffle per epoch), each rank taking its slice.

    With ``world`` processes every global batch of ``batch_size`` crops is cut into ``world``
    equal slices, one per rank; the loss gathers the slices back (see
    :meth:`MeanShiftedTraining.training_step`), so DDP computes the single-process gradient.
    """

    def __init__(self, n_crops: int, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        if batch_size % world:
            raise ValueError("the batch size must be a multiple of the number of processes")
        self.n_crops, self.batch_size, self.seed, self.rank, self.world = n_crops, batch_size, seed, rank, world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:  # Lightning calls this at every epoch
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n_crops // self.batch_size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n_crops, generator=generator).tolist()
        share = self.batch_size // self.world
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = order[start : start + self.batch_size]
            yield [(index, self.epoch) for index in batch[self.rank * share : (self.rank + 1) * share]]


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
        a, b = self.mean_shifted(first), self.mean_shifted(second)
        if self.trainer.world_size > 1:
            # Every rank holds a slice of the global batch: gather them (gradients flow back to each
            # slice) so the contrastive loss sees the negatives a single process would see.
            a = self.all_gather(a, sync_grads=True).flatten(0, 1)
            b = self.all_gather(b, sync_grads=True).flatten(0, 1)
        loss = contrastive_loss(a, b)
        self.log("loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=first.shape[0])
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.encoder.parameters(), lr=self.lr, weight_decay=WEIGHT_DECAY)
