"""What the pose stage costs per frame and per region: what ``--pose-boxes persons`` can save.

Keypoint R-CNN runs its ResNet-50-FPN backbone once per frame and its keypoint head (eight 3x3
convolutions with 512 channels on a 14x14 grid, then upsampling) once per region. With
``--pose-boxes persons`` the head runs only on person boxes, and nothing runs at all on frames
without a person. This times the full backend's pose stage on one frame with 0 (skipped), 1, 4, 8
and 16 boxes, interleaved over several repeats so machine load hits all counts alike, and fits
time = per_frame + per_box * boxes. Random weights: the same arithmetic as the pretrained network.

How many regions are persons depends on your footage (training logs "pose: N of M regions are
persons"); the saving is roughly per_box x (non-person regions per frame), plus the whole stage on
frames with no person.

Usage: python benchmarks/pose_cost.py [--size 768x576] [--detector-size 512] [--repeats 3] [--inference-precision fp32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BOX_COUNTS = (0, 1, 4, 8, 16)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="768x576")
    parser.add_argument("--detector-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inference-precision", choices=("fp32", "bf16"), default="fp32")
    args = parser.parse_args()

    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource

    width, height = (int(v) for v in args.size.lower().split("x"))
    settings = FullSettings(
        flow_model="raft_small",
        flow_size=(128, 128),
        detector_size=args.detector_size,
        pose_boxes="persons",
        inference_precision=args.inference_precision,
    )
    backend = FullBackend(settings, WeightsSource("random"))
    rng = np.random.default_rng(0)
    frame = torch.from_numpy(rng.random((1, 3, height, width), dtype=np.float32))
    # person-sized boxes spread over the frame
    x0 = rng.uniform(0, width - 80, 16)
    y0 = rng.uniform(0, height - 160, 16)
    all_boxes = torch.from_numpy(np.stack([x0, y0, x0 + 60, y0 + 150], axis=1).astype(np.float32))

    def pose_stage(n: int) -> float:
        boxes = [all_boxes[:n]]
        started = time.perf_counter()
        with torch.no_grad():
            backend._poses(frame, boxes, [torch.ones(n, dtype=torch.bool)])
        return time.perf_counter() - started

    pose_stage(1)  # warm-up
    timings: dict[int, list[float]] = {n: [] for n in BOX_COUNTS}
    for _ in range(args.repeats):
        for n in BOX_COUNTS:
            timings[n].append(pose_stage(n))
    medians = {n: float(np.median(t)) for n, t in timings.items()}
    counts = [n for n in BOX_COUNTS if n > 0]
    per_box, per_frame = np.polyfit(counts, [medians[n] for n in counts], 1)
    print(
        f"pose stage, one {width}x{height} frame, Keypoint R-CNN at {args.detector_size} px, "
        f"{args.inference_precision}, {torch.get_num_threads()} threads; median of {args.repeats}"
    )
    for n in BOX_COUNTS:
        note = " (no person: Keypoint R-CNN skipped)" if n == 0 else ""
        print(f"  {n:2d} boxes: {medians[n] * 1000:8.1f} ms{note}")
    print(f"fit: {per_frame * 1000:.1f} ms per frame + {per_box * 1000:.1f} ms per box")
    return 0


if __name__ == "__main__":
    sys.exit(main())
