"""What a training run reports: the JSON summary beside the checkpoint (and inside it)."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch


def training_summary(
    args, config, videos, footage, sample, footage_stats, base, calibration, device, precision, encoder_stats
) -> dict:
    from aivad.model.aivad_model import FORMAT, FORMAT_VERSION
    from aivad.training.extraction import SHARD_FRAMES

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backend": config.backend,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "videos": [
            {
                "path": str(v.path),
                "frames": v.n_frames,
                "fps": v.fps,
                "size": [v.width, v.height],
                "frame_pairs": int((footage.video_index == i).sum()),
                "regions": int(np.isin(footage.region_pair, np.flatnonzero(footage.video_index == i)).sum()),
            }
            for i, v in enumerate(videos)
        ],
        "base_checkpoint": str(args.init_checkpoint) if base is not None else None,
        "kept_from_base": calibration.get("kept_from_base", []),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("debug",)},
        "device": device,
        "precision": precision,
        "encoder_training": encoder_stats,
        "calibration": {k: v for k, v in calibration.items() if k != "kept_from_base"},
        "footage": {**footage_stats, "shard_frames": SHARD_FRAMES, "regions": int(len(footage.boxes))},
        "training_sample": len(sample),
        "versions": versions(),
    }


def plain(data: dict) -> dict:
    """Only JSON types, so the checkpoint loads with weights_only=True and nothing else allowed."""
    return json.loads(json.dumps(data, default=str))


def versions() -> dict:
    import lightning

    import aivad

    out = {
        "aivad": aivad.__version__,
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "python": platform.python_version(),
    }
    try:
        from importlib.metadata import version

        out["anomalib"] = version("anomalib")
        out["opencv"] = version("opencv-python-headless")
    except Exception:
        pass
    return out
