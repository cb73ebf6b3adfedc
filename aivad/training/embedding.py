"""The second pass over the footage: every cached region's box embedded with the adapted encoder."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from aivad.training.footage import Footage

EMBED_BATCH = 128  # crops per encoder call in the embedding pass


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
    from aivad.training.distributed import Ranks
    from aivad.video.files import read_frames

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
