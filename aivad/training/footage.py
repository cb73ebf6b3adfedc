"""Training footage as the frozen stages see it: streamed once, cached in shards, memory bounded.

Users train on hours of video, so nothing here grows with the footage except what each region
needs for density fitting: its box and frozen features (velocity, pose or geometry), a few bytes
to a few hundred. Region crops are *not* kept:

* the appearance encoder trains on a bounded sample of crops drawn while extracting (priority
  sampling: every region gets a pseudo-random key from its video, frame and position, and the
  ``max_crops`` smallest keys are kept). The sample depends on the footage only, not on the order
  it was read in, how often extraction was interrupted, or how many processes read it;
* after training, :func:`aivad.training.embedding.embed_footage` decodes the videos a second time
  and embeds every cached box with the adapted encoder, in batches; the detectors are not run again.

The two passes over the videos are :mod:`aivad.training.extraction` (the frozen stages, into a
shard cache) and :mod:`aivad.training.embedding` (the adapted encoder over every cached box).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

GROUP_FRAMES = 50  # frames per leave-one-group-out chunk of the kNN memory (aivad.training.fitting)
DEFAULT_MAX_TRAIN_CROPS = 10_000  # crops the encoder trains on: an epoch of CLIP on one GPU in minutes


@dataclass
class Footage:
    """The frozen stages' output over all training pairs, in (video, frame) order. No crops."""

    video_index: np.ndarray  # (P,) per frame pair
    frame_index: np.ndarray  # (P,)
    region_pair: np.ndarray  # (R,) which pair each region belongs to
    boxes: np.ndarray  # (R, 4)
    whole_frame: np.ndarray  # (P,) bool
    frozen: dict[str, np.ndarray]  # attribute -> (R, D)

    def to_state(self) -> dict:
        state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in vars(self).items() if k != "frozen"}
        state.update({f"frozen.{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.frozen.items()})
        return state

    @classmethod
    def from_state(cls, state: dict) -> "Footage":
        frozen = {k.split(".", 1)[1]: v.numpy() for k, v in state.items() if k.startswith("frozen.")}
        plain = {k: v.numpy() for k, v in state.items() if not k.startswith("frozen.")}
        return cls(frozen=frozen, **plain)

    @classmethod
    def concatenate(cls, parts: list["Footage"]) -> "Footage":
        offsets = np.cumsum([0] + [len(p.video_index) for p in parts[:-1]])
        names = parts[0].frozen.keys() if parts else []
        return cls(
            video_index=np.concatenate([p.video_index for p in parts]).astype(np.int64),
            frame_index=np.concatenate([p.frame_index for p in parts]).astype(np.int64),
            region_pair=np.concatenate([p.region_pair + o for p, o in zip(parts, offsets)]).astype(np.int64),
            boxes=np.concatenate([p.boxes for p in parts]).astype(np.float32),
            whole_frame=np.concatenate([p.whole_frame for p in parts]).astype(bool),
            frozen={name: np.concatenate([p.frozen[name] for p in parts]).astype(np.float32) for name in names},
        )

    def region_ranges(self) -> np.ndarray:
        """(P + 1,) offsets: the regions of pair p are rows ``ranges[p]:ranges[p + 1]``."""
        return np.searchsorted(self.region_pair, np.arange(len(self.video_index) + 1))


def region_keys(video_index: int, frame_index: int, n_regions: int, seed: int) -> np.ndarray:
    """Uniform pseudo-random keys in [0, 1), a pure function of (seed, video, frame, region)."""
    with np.errstate(over="ignore"):  # wrap-around is the point of the hash
        x = (
            (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
            ^ (np.uint64(video_index) << np.uint64(40))
            ^ (np.uint64(frame_index) << np.uint64(12))
        )
        x = x + np.arange(n_regions, dtype=np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class CropSample:
    """The ``capacity`` region crops with the smallest keys offered so far (priority sampling).

    Offering the same region twice changes nothing and the result does not depend on the order of
    offers, so a resumed or multi-process extraction draws exactly the sample of a single run.
    Offers wait in a pending list and are merged a capacity's worth at a time: merging copies the
    whole sample, which per frame would cost more than extracting the frame.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._keys = np.zeros(0, np.float64)
        self._ids = np.zeros((0, 3), np.int64)  # video, frame, region within the frame
        self._crops: np.ndarray | None = None
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending_rows = 0

    @property
    def keys(self) -> np.ndarray:
        self._merge()
        return self._keys

    @property
    def ids(self) -> np.ndarray:
        self._merge()
        return self._ids

    @property
    def crops(self) -> np.ndarray | None:
        self._merge()
        return self._crops

    def __len__(self) -> int:
        return len(self.keys)

    def cutoff(self) -> float:
        """Keys at or above this cannot enter any more (judged on the merged sample: conservative)."""
        return float(self._keys[-1]) if len(self._keys) >= self.capacity else np.inf

    def offer(self, keys: np.ndarray, ids: np.ndarray, crops: np.ndarray) -> None:
        take = keys < self.cutoff()
        if not take.any():
            return
        self._pending.append((keys[take], ids[take], crops[take]))
        self._pending_rows += int(take.sum())
        if self._pending_rows >= self.capacity:
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self._keys, *(k for k, _, _ in self._pending)])
        ids = np.concatenate([self._ids, *(i for _, i, _ in self._pending)])
        crops = [c for _, _, c in self._pending]
        if self._crops is not None:
            crops.insert(0, self._crops)
        self._pending, self._pending_rows = [], 0
        order = np.lexsort((ids[:, 2], ids[:, 1], ids[:, 0], keys))
        _, first = np.unique(ids[order], axis=0, return_index=True)  # drop regions offered twice
        order = order[np.sort(first)][: self.capacity]
        self._keys, self._ids, self._crops = keys[order], ids[order], np.concatenate(crops)[order]

    def merge(self, other: "CropSample") -> None:
        if len(other):
            self.offer(other.keys, other.ids, other.crops)

    def to_state(self) -> dict:
        crops = self.crops
        return {
            "keys": torch.from_numpy(self.keys),
            "ids": torch.from_numpy(self.ids),
            "crops": torch.from_numpy(crops if crops is not None else np.zeros((0, 1, 1, 3), np.uint8)),
            "capacity": torch.tensor(self.capacity),
        }

    @classmethod
    def from_state(cls, state: dict) -> "CropSample":
        sample = cls(int(state["capacity"]))
        sample._keys, sample._ids = state["keys"].numpy(), state["ids"].numpy()
        sample._crops = state["crops"].numpy() if len(sample._keys) else None
        return sample
