"""The first pass over the footage: the frozen stages into a shard cache, and the crop sample.

The cache is a folder of shards, one per ``SHARD_FRAMES`` frames of each video, each written
atomically when complete. A crash, a power cut or Ctrl+C loses at most the shards in progress;
the same command run again reuses every finished shard (and the sample saved with it).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from aivad.errors import UserError
from aivad.training.footage import CropSample, Footage, region_keys
from aivad.video.files import content_stamp, iter_frame_pairs

SHARD_FRAMES = 500  # frames of one video per cache shard: the most work a crash can lose per reader
PROGRESS_EVERY_S = 5.0


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
        parts += [str(Path(info.path).resolve()), *content_stamp(Path(info.path))]
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
        from aivad.model.checkpoint import save_checkpoint

        save_checkpoint(self.shard_path(video, shard), part.to_state())

    def load_shard(self, video: int, shard: int) -> Footage:
        return Footage.from_state(torch.load(self.shard_path(video, shard), map_location="cpu", weights_only=True))

    def save_sample(self, sample: CropSample, rank: int = 0) -> None:
        from aivad.model.checkpoint import save_checkpoint

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

    from aivad.training.distributed import Ranks

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
            if "user_error" in item:
                raise UserError(item["user_error"])  # the shards finished so far stay for a rerun
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


class FramePairDataset(IterableDataset):
    """Consecutive frame pairs of several videos, for a ``torch.utils.data.DataLoader``.

    Yields one sample at a time (use ``batch_size=None`` or your own collate):
    ``{"video_index", "frame_index", "previous", "frame"}`` with uint8 HxWx3 BGR tensors, or, when a
    video turns out unreadable, ``{"video_index", "frame_index": -1, "user_error": message}`` and no more.
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
            try:
                for frame_index, previous, frame in pairs:
                    yield {
                        "video_index": video_index,
                        "frame_index": frame_index,
                        "previous": torch.from_numpy(previous),
                        "frame": torch.from_numpy(frame),
                    }
            except UserError as error:
                # Handed over as data: raised in a worker process, the DataLoader would wrap the user's
                # one sentence (a damaged image, say) in a traceback.
                yield {"video_index": video_index, "frame_index": -1, "user_error": str(error)}
                return
            if self.end_markers:
                yield {"video_index": video_index, "frame_index": -1}
