"""Training footage as the frozen stages see it: streamed once, cached in shards, memory bounded.

Users train on hours of video, so nothing here grows with the footage except what each region
needs for density fitting: its box and frozen features (velocity, pose or geometry), a few bytes
to a few hundred. Region crops are *not* kept:

* the appearance encoder trains on a bounded sample of crops drawn while extracting (priority
  sampling: every region gets a pseudo-random key from its video, frame and position, and the
  ``max_crops`` smallest keys are kept). The sample depends on the footage only, not on the order
  it was read in, how often extraction was interrupted, or how many processes read it;
* after training, :func:`embed_footage` decodes the videos a second time and embeds every cached
  box with the adapted encoder, in batches; the detectors are not run again.

The cache is a folder of shards, one per ``SHARD_FRAMES`` frames of each video, each written
atomically when complete. A crash, a power cut or Ctrl+C loses at most the shards in progress;
the same command run again reuses every finished shard (and the sample saved with it).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from aivad.errors import UserError
from aivad.videos import iter_frame_pairs

SHARD_FRAMES = 500  # frames of one video per cache shard: the most work a crash can lose per reader
GROUP_FRAMES = 50  # frames per leave-one-group-out chunk of the kNN memory (aivad.fitting)
DEFAULT_MAX_TRAIN_CROPS = 10_000  # crops the encoder trains on: an epoch of CLIP on one GPU in minutes
EMBED_BATCH = 128  # crops per encoder call in the embedding pass
PROGRESS_EVERY_S = 5.0


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


def footage_key(
    videos,
    backend_name: str,
    backend_settings: dict,
    weights: str,
    stride: int,
    max_pairs: int | None,
    seed: int,
    max_crops: int,
) -> str:
    parts = [
        backend_name,
        json.dumps(backend_settings, sort_keys=True),
        weights,
        stride,
        max_pairs,
        seed,
        max_crops,
        SHARD_FRAMES,
    ]
    for info in videos:
        stat = Path(info.path).stat()
        parts += [str(Path(info.path).resolve()), stat.st_size, stat.st_mtime_ns]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


class ShardStore:
    """``footage-<key>/``: one file per finished shard, plus the crop sample of the finished shards."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def shard_path(self, video: int, shard: int) -> Path:
        return self.folder / f"v{video:05d}-s{shard:06d}.pt"

    def sample_path(self, rank: int = 0) -> Path:
        return self.folder / ("train-sample.pt" if rank == 0 else f"train-sample-r{rank}.pt")

    def done_path(self, video: int) -> Path:
        return self.folder / f"v{video:05d}-done"

    def finished(self) -> set[tuple[int, int]]:
        out = set()
        for path in self.folder.glob("v*-s*.pt"):
            video, shard = path.stem.split("-")
            out.add((int(video[1:]), int(shard[1:])))
        return out

    def save_shard(self, video: int, shard: int, part: Footage) -> None:
        from aivad.checkpoint import save_checkpoint

        save_checkpoint(self.shard_path(video, shard), part.to_state())

    def load_shard(self, video: int, shard: int) -> Footage:
        return Footage.from_state(torch.load(self.shard_path(video, shard), map_location="cpu", weights_only=True))

    def save_sample(self, sample: CropSample, rank: int = 0) -> None:
        from aivad.checkpoint import save_checkpoint

        save_checkpoint(self.sample_path(rank), sample.to_state())

    def load_sample(self, capacity: int) -> CropSample:
        """The samples every process saved, merged (merging is order-free, so any split merges alike)."""
        sample = CropSample(capacity)
        for path in sorted(self.folder.glob("train-sample*.pt")):
            try:
                sample.merge(CropSample.from_state(torch.load(path, map_location="cpu", weights_only=True)))
            except Exception:  # a damaged sample is rebuilt from the shards that get extracted again
                continue
        return sample

    def load_footage(self) -> Footage | None:
        """Every finished shard, in (video, frame) order; None when they hold no frame pair."""
        parts = [self.load_shard(v, s) for v, s in sorted(self.finished())]
        parts = [p for p in parts if len(p.video_index)]
        return Footage.concatenate(parts) if parts else None

    def bytes_on_disk(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("*.pt"))


class _ShardBuffer:
    """Regions of one shard in progress."""

    def __init__(self, video: int, shard: int) -> None:
        self.video, self.shard = video, shard
        self.frame_index: list[int] = []
        self.whole: list[bool] = []
        self.region_pair: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []
        self.frozen: dict[str, list[np.ndarray]] = {}

    def add(self, frame_index: int, regions) -> None:
        pair = len(self.frame_index)
        self.frame_index.append(frame_index)
        self.whole.append(bool(regions.whole_frame))
        self.region_pair.append(np.full(len(regions.boxes), pair, np.int64))
        self.boxes.append(np.asarray(regions.boxes, np.float32))
        for name, values in regions.frozen.items():
            self.frozen.setdefault(name, []).append(np.asarray(values, np.float32))

    def footage(self) -> Footage:
        return Footage(
            video_index=np.full(len(self.frame_index), self.video, np.int64),
            frame_index=np.array(self.frame_index, np.int64),
            region_pair=np.concatenate(self.region_pair) if self.region_pair else np.zeros(0, np.int64),
            boxes=np.concatenate(self.boxes) if self.boxes else np.zeros((0, 4), np.float32),
            whole_frame=np.array(self.whole, bool),
            frozen={k: np.concatenate(v) for k, v in self.frozen.items()},
        )


def shard_of(frame_index: int) -> int:
    return frame_index // SHARD_FRAMES


def shards_of_video(n_frames: int) -> int:
    return max(1, (max(n_frames, 1) - 1) // SHARD_FRAMES + 1)


def extract_footage(
    videos,
    backend,
    store: ShardStore,
    max_crops: int,
    seed: int,
    stride: int = 1,
    max_pairs: int | None = None,
    num_workers: int = 0,
    batch_size: int = 1,
    log=print,
    ranks=None,
) -> tuple[Footage, CropSample, dict]:
    """Run the frozen stages over every unfinished shard; returns all shards' footage and the crop sample.

    With several processes (``ranks``) each extracts the videos that are its own, then all wait for
    each other and read the whole cache.
    """
    from torch.utils.data import DataLoader

    from aivad.distributed import Ranks

    ranks = ranks or Ranks()

    store.folder.mkdir(parents=True, exist_ok=True)
    finished = store.finished()
    sample = store.load_sample(max_crops)
    starts: list[int | None] = []
    for v in range(len(videos)):
        first_missing = next(s for s in range(len(finished) + 1) if (v, s) not in finished)
        starts.append(None if store.done_path(v).exists() or not ranks.mine(v) else first_missing * SHARD_FRAMES)
    reused = len(finished)
    if reused:
        log(f"regions: reusing {reused} finished shard(s) cached in {store.folder}")
    total_frames = sum(max(info.n_frames - starts[v], 0) for v, info in enumerate(videos) if starts[v] is not None)
    stats = {"shards_reused": reused, "shards_extracted": 0}
    if any(s is not None for s in starts):
        dataset = FramePairDataset(
            [v.path for v in videos], stride=stride, max_pairs_per_video=max_pairs, starts=starts, end_markers=True
        )
        loader = DataLoader(
            dataset,
            batch_size=None,
            num_workers=num_workers,
            multiprocessing_context="spawn" if num_workers > 0 else None,
        )
        open_shards: dict[int, _ShardBuffer] = {}
        pending: list = []
        done_frames, started, last_report = 0, time.time(), time.time()

        def close(buffer: _ShardBuffer) -> None:
            # The sample first: if the shard file is then lost, the shard is extracted again and its
            # crops offered again, which changes nothing (CropSample.offer is idempotent).
            store.save_sample(sample, ranks.rank)
            store.save_shard(buffer.video, buffer.shard, buffer.footage())
            stats["shards_extracted"] += 1

        def flush() -> None:
            if not pending:
                return
            results = backend.extract([(p["previous"].numpy(), p["frame"].numpy()) for p in pending])
            for item, regions in zip(pending, results):
                video, frame_index = int(item["video_index"]), int(item["frame_index"])
                open_shards[video].add(frame_index, regions)
                keys = region_keys(video, frame_index, len(regions.boxes), seed)
                ids = np.stack(
                    [np.full(len(keys), video), np.full(len(keys), frame_index), np.arange(len(keys))], axis=1
                )
                sample.offer(keys, ids, regions.crops)
            pending.clear()

        for item in loader:
            video, frame_index = int(item["video_index"]), int(item["frame_index"])
            current = open_shards.get(video)
            if frame_index < 0 or (current is not None and shard_of(frame_index) != current.shard):
                flush()  # everything decoded so far belongs to the shards still open
                if current is not None:
                    close(open_shards.pop(video))
                if frame_index < 0:
                    store.done_path(video).touch()  # every shard of this video is on disk
                    continue
            if video not in open_shards:
                open_shards[video] = _ShardBuffer(video, shard_of(frame_index))
            pending.append(item)
            done_frames += stride
            if len(pending) >= batch_size:
                flush()
            now = time.time()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                rate = done_frames / max(now - started, 1e-6)
                left = max(total_frames - done_frames, 0) / max(rate, 1e-6)
                log(
                    f"  regions: {done_frames}/{total_frames} frames "
                    f"({100 * done_frames / max(total_frames, 1):.0f}%), {rate:.1f} frames/s, {left:.0f} s left"
                )
        flush()
        for buffer in list(open_shards.values()):
            close(buffer)
        store.save_sample(sample, ranks.rank)
    if ranks.world > 1:
        ranks.barrier()  # every rank's shards and sample are on disk
        sample = store.load_sample(max_crops)
    footage = store.load_footage()
    if footage is None:
        raise UserError(
            "no frame pairs could be read from the videos; check --frame-stride and --max-frames-per-video."
        )
    stats.update(shards=len(store.finished()), bytes_on_disk=store.bytes_on_disk())
    return footage, sample, stats


def embed_footage(
    footage: Footage,
    videos,
    backend,
    encoder,
    device: str,
    precision: str,
    normalise: bool = True,
    log=print,
    ranks=None,
    folder: Path | None = None,
) -> np.ndarray | None:
    """Second pass: decode the videos again and embed every cached box with the (adapted) encoder.

    With several processes each embeds its own videos and writes them to ``folder``; rank 0
    returns every region's features, the other ranks None.
    """
    from aivad.distributed import Ranks
    from aivad.videos import read_frames

    ranks = ranks or Ranks()
    ranges = footage.region_ranges()
    out = np.zeros((len(footage.boxes), encoder.output_dim), np.float32)
    crops, rows = [], []

    def flush() -> None:
        if crops:
            features = encoder.embed(np.concatenate(crops), device=device, precision=precision, normalise=normalise)
            out[np.concatenate(rows)] = features
            crops.clear()
            rows.clear()

    started = time.time()
    for v, info in enumerate(videos):
        pairs = np.flatnonzero(footage.video_index == v)
        if len(pairs) == 0 or not ranks.mine(v):
            continue
        by_frame = dict(zip(footage.frame_index[pairs].tolist(), pairs.tolist()))
        last = max(by_frame)
        for index, frame in read_frames(Path(info.path)):
            pair = by_frame.get(index)
            if pair is not None:
                first, end = ranges[pair], ranges[pair + 1]
                if end > first:
                    crops.append(backend.crops(frame, footage.boxes[first:end]))
                    rows.append(np.arange(first, end))
                    if sum(len(c) for c in crops) >= EMBED_BATCH:
                        flush()
            if index >= last:
                break
    flush()
    if ranks.world > 1:
        mine = np.isin(footage.video_index[footage.region_pair], [v for v in range(len(videos)) if ranks.mine(v)])
        np.save(folder / f"appearance-r{ranks.rank}.npy", out[mine])
        ranks.barrier()
        if not ranks.is_main:
            return None
        for rank in range(1, ranks.world):
            theirs = np.isin(
                footage.video_index[footage.region_pair], [v for v in range(len(videos)) if v % ranks.world == rank]
            )
            out[theirs] = np.load(folder / f"appearance-r{rank}.npy")
        for rank in range(ranks.world):  # only passed between processes: not kept
            (folder / f"appearance-r{rank}.npy").unlink(missing_ok=True)
    log(f"appearance: embedded {len(out)} regions in {time.time() - started:.1f} s")
    return out


class FramePairDataset(IterableDataset):
    """Consecutive frame pairs of several videos, for a ``torch.utils.data.DataLoader``.

    Yields one sample at a time (use ``batch_size=None`` or your own collate):
    ``{"video_index", "frame_index", "previous", "frame"}`` with uint8 HxWx3 BGR tensors.
    With several workers each video is decoded by exactly one worker. Only plain data is
    stored, so the dataset pickles into "spawn" workers as on Windows.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        stride: int = 1,
        max_pairs_per_video: int | None = None,
        starts: Sequence[int | None] | None = None,
        end_markers: bool = False,
    ):
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.stride = stride
        self.max_pairs_per_video = max_pairs_per_video
        # per video: first frame to yield (a resumed extraction), or None to skip the video
        self.starts = list(starts) if starts is not None else [0] * len(self.paths)
        self.end_markers = end_markers  # after each video, {"video_index": v, "frame_index": -1}

    def __iter__(self) -> Iterator[dict[str, int | torch.Tensor]]:
        worker = get_worker_info()
        worker_id, n_workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        for video_index in range(worker_id, len(self.paths), n_workers):
            if self.starts[video_index] is None:
                continue
            pairs = iter_frame_pairs(
                self.paths[video_index], self.stride, self.max_pairs_per_video, start=self.starts[video_index]
            )
            for frame_index, previous, frame in pairs:
                yield {
                    "video_index": video_index,
                    "frame_index": frame_index,
                    "previous": torch.from_numpy(previous),
                    "frame": torch.from_numpy(frame),
                }
            if self.end_markers:
                yield {"video_index": video_index, "frame_index": -1}
