"""How much ``--inference-precision bf16`` changes the full backend's features, stage by stage.

Runs the full backend twice on the same frame pairs of a synthetic scene, float32 and bfloat16, with
the same (random) networks, and prints:
- regions: share of float32 boxes that have a bfloat16 box with IoU >= 0.9;
- velocity: mean absolute difference of the histograms, relative to their mean magnitude, on the
  float32 boxes (the same boxes for both, so only the flow differs);
- pose: mean absolute keypoint difference on the same boxes (keypoints are in box-relative units);
- appearance: cosine similarity of the CLIP features of the same crops (minimum and mean).
Random weights (the default: nothing to download) are a harsh case for the detector: an untrained
ResNet-50 amplifies rounding through its 50 layers and its box scores sit near the 0.7 threshold, so
boxes move in and out. Pretrained networks are far better conditioned; with internet or a weights
folder, measure them with ``--weights pretrained [--weights-dir DIR]`` and, better, your own footage
(``--video``).

Usage: python benchmarks/precision_agreement.py [--size 768x576] [--pairs 3] [--fast]
                                                [--video PATH] [--weights pretrained --weights-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="768x576")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument(
        "--fast",
        action="store_true",
        help="the fast sizes (RAFT-small at 272x480, detectors at 512) instead of anomalib's",
    )
    parser.add_argument(
        "--video", type=Path, default=None, help="consecutive frames of this video instead of a synthetic scene"
    )
    parser.add_argument("--weights", choices=("random", "pretrained"), default="random")
    parser.add_argument("--weights-dir", type=Path, default=None)
    args = parser.parse_args()

    from stage_speed import FAST_FULL_SETTINGS
    from torchvision.ops import box_iou, roi_align

    from aivad.features.encoders import build_encoder
    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource
    from aivad.video.synthetic import render_scene

    if args.video is not None:
        from itertools import islice

        from aivad.video.files import read_frames

        frames = [frame for _, frame in islice(read_frames(args.video), args.pairs + 1)]
        args.size = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
    else:
        width, height = (int(v) for v in args.size.split("x"))
        frames, _ = render_scene(args.pairs + 1, size=(width, height), seed=1, walkers=4)
    weights = WeightsSource(args.weights, args.weights_dir)
    sizes = {k: v for k, v in FAST_FULL_SETTINGS.items() if k != "inference_precision"} if args.fast else {}
    backends = {p: FullBackend(FullSettings(**sizes, inference_precision=p), weights) for p in ("fp32", "bf16")}
    encoder = build_encoder("clip_vit_b16", weights).eval()

    matched, total, velocity_rel, pose_abs, cosines = 0, 0, [], [], []
    for previous, frame in zip(frames, frames[1:]):
        exact = backends["fp32"].extract([(previous, frame)])[0]
        approx = backends["bf16"].extract([(previous, frame)])[0]
        iou = box_iou(torch.from_numpy(exact.boxes), torch.from_numpy(approx.boxes))
        matched += int((iou.max(dim=1).values >= 0.9).sum()) if iou.numel() else 0
        total += len(exact.boxes)

        # the same boxes through both precisions: only the networks' arithmetic differs
        def to_tensor(image):
            return torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).permute(2, 0, 1)[None].float() / 255

        boxes = torch.from_numpy(exact.boxes)
        rois = torch.cat([torch.zeros(len(boxes), 1), boxes], dim=1)
        velocities, poses = {}, {}
        for precision, backend in backends.items():
            with torch.no_grad():
                flows = backend.flow(to_tensor(previous), to_tensor(frame))
                velocities[precision] = backend.velocity(flows, rois).numpy()
                poses[precision] = backend.pose(to_tensor(frame), [boxes])[0].numpy()
        velocity_rel.append(
            np.abs(velocities["fp32"] - velocities["bf16"]).mean() / max(np.abs(velocities["fp32"]).mean(), 1e-9)
        )
        pose_abs.append(np.abs(poses["fp32"] - poses["bf16"]).mean())
        crops = roi_align(to_tensor(frame), rois, output_size=[224, 224], aligned=False)
        crops = (crops.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
        a = encoder.embed(crops, precision="fp32")
        b = encoder.embed(crops, precision="bf16")
        cosines.append((a * b).sum(axis=1))

    cosines = np.concatenate(cosines)
    label = "fast sizes" if args.fast else "anomalib's sizes"
    print(
        f"bf16 vs fp32, full backend at {label}, {args.size}, {len(frames) - 1} frame pairs of "
        f"{args.video or 'a synthetic scene'}, {args.weights} weights"
    )
    print(
        f"  regions:    {matched}/{total} float32 boxes matched by a bf16 box with IoU >= 0.9 "
        f"({matched / max(total, 1):.1%})"
    )
    print(f"  velocity:   mean |difference| = {np.mean(velocity_rel):.2%} of the mean histogram value (same boxes)")
    print(f"  pose:       mean |keypoint difference| = {np.mean(pose_abs):.4f} box widths/heights (same boxes)")
    print(
        f"  appearance: CLIP cosine fp32 vs bf16 min {cosines.min():.5f}, mean {cosines.mean():.5f} "
        f"({len(cosines)} crops)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
