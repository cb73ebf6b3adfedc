"""How memory, disk and time grow with the training footage (Linux/macOS: peak memory via wait4).

Build the development set first (python ../shared/bench/make_vtest_dev.py vtest-dev), then:
    python benchmarks/footage_scale.py vtest-dev [--scales 1 4 10] [--max-train-crops 1000] [--json out.json]

For each scale N the dev set's two training videos are listed N times (hard links under other
names, so every copy is read and extracted like new footage) and the lite backend is trained in a
fresh process with ``--epochs 1`` and the given ``--max-train-crops``, so the training sample is
full at every scale. Then the full backend with ``--weights random`` on small frames (the dev
videos shrunk to 192x144, the first --full-frames pairs of each), 1x and 2x. Per run it prints
the process's peak resident memory, the run folder's bytes (region cache, logs, encoder state)
and seconds per frame of extraction, encoder training and embedding, and between consecutive
scales the cost of each extra region.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def scaled_footage(videos: list[Path], scale: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for copy in range(scale):
        for video in videos:
            target = folder / f"copy{copy:02d}_{video.name}"
            if not target.exists():
                try:
                    os.link(video, target)
                except OSError:
                    shutil.copyfile(video, target)
            out.append(target)
    return out


def shrunk(videos: list[Path], folder: Path, size: tuple[int, int]) -> list[Path]:
    import cv2

    from aivad.video.files import read_frames

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for video in videos:
        target = folder / video.name
        if not target.exists():
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
            for _, frame in read_frames(video):
                writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
            writer.release()
        out.append(target)
    return out


def run_training(videos: list[Path], output: Path, extra: list[str]) -> dict:
    """One training run in its own process; its peak resident memory from the kernel."""
    run_dir = output.with_name(output.stem + "_run")
    shutil.rmtree(run_dir, ignore_errors=True)
    command = [
        sys.executable,
        str(REPO / "train_aivad_from_scratch.py"),
        "--videos",
        *map(str, videos),
        "--output",
        str(output),
        "--device",
        "cpu",
        "--num-workers",
        "0",
        *extra,
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"training failed:\n{log[-3000:]}")
    summary = json.loads(Path(str(output) + ".json").read_text(encoding="utf-8"))
    frames = sum(v["frame_pairs"] for v in summary["videos"])
    regions = summary["footage"]["regions"]
    timings = summary["timings_s"]
    run_bytes = sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file())
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return {
        "frames": frames,
        "regions": regions,
        "training_sample": summary["training_sample"],
        "shards": summary["footage"]["shards"],
        "peak_rss_mb": peak / 2**20,
        "run_folder_bytes": run_bytes,
        "cache_bytes": summary["footage"]["bytes_on_disk"],
        "extraction_s_per_frame": timings["extraction"] / frames,
        "encoder_training_s_per_frame": timings["encoder_training"] / frames,
        "embedding_s_per_frame": timings["embedding"] / frames,
        "fitting_s": timings["fitting"],
    }


def fit_full_shaped(n_regions: int) -> None:
    """Child process: fit_model on n_regions rows shaped like the full backend's (velocity 8, pose 34,
    CLIP appearance 512), from 20 videos of 6 regions a frame; prints the process's peak memory."""
    import resource

    import numpy as np

    from aivad.model.aivad_model import box_relative_units, default_density_config
    from aivad.model.config import ModelConfig
    from aivad.model.scoring import MAX_SMOOTHED
    from aivad.training.fitting import fit_model
    from aivad.training.footage import Footage

    rng = np.random.default_rng(0)
    pairs = n_regions // 6
    footage = Footage(
        video_index=np.repeat(np.arange(20), -(-pairs // 20))[:pairs],
        frame_index=np.tile(np.arange(-(-pairs // 20)), 20)[:pairs] + 1,
        region_pair=np.repeat(np.arange(pairs), 6),
        boxes=np.tile(np.array([[10, 10, 60, 110]], np.float32), (pairs * 6, 1)),
        whole_frame=np.zeros(pairs, bool),
        frozen={
            "velocity": rng.gamma(2.0, 1.5, size=(pairs * 6, 8)).astype(np.float32),
            "pose": rng.normal(size=(pairs * 6, 34)).astype(np.float32),
        },
    )
    appearance = rng.normal(size=(pairs * 6, 512)).astype(np.float32)
    appearance /= np.linalg.norm(appearance, axis=1, keepdims=True)
    config = ModelConfig(
        backend="full",
        backend_settings={},
        encoder="clip_vit_b16",
        density=default_density_config(["velocity", "pose", "appearance"]),
        combine=MAX_SMOOTHED,
        velocity_units=box_relative_units(100.0),
    )
    fit_model(config, None, footage, appearance, None, encoder_changed=True, pairs_per_second=[10.0] * 20)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"regions": pairs * 6, "peak_rss_mb": peak / 2**20}))


def run_fit_full_shaped(n_regions: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--fit-full-shaped", str(n_regions)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_rows(name: str, rows: list[tuple[int, dict]]) -> None:
    print(f"\n{name}")
    print(
        f"{'scale':>5} {'frames':>7} {'regions':>8} {'sample':>6} {'peak MB':>8} {'run folder MB':>13} "
        f"{'cache B/region':>14} {'extract ms/f':>12} {'train ms/f':>10} {'embed ms/f':>10} {'fit s':>6}"
    )
    for scale, r in rows:
        print(
            f"{scale:>5} {r['frames']:>7} {r['regions']:>8} {r['training_sample']:>6} "
            f"{r['peak_rss_mb']:>8.0f} {r['run_folder_bytes'] / 2**20:>13.1f} "
            f"{r['cache_bytes'] / r['regions']:>14.0f} {1000 * r['extraction_s_per_frame']:>12.2f} "
            f"{1000 * r['encoder_training_s_per_frame']:>10.2f} "
            f"{1000 * r['embedding_s_per_frame']:>10.2f} {r['fitting_s']:>6.1f}"
        )
    for (s0, a), (s1, b) in zip(rows, rows[1:]):
        extra = b["regions"] - a["regions"]
        print(
            f"  {s0}x -> {s1}x: each extra region costs "
            f"{(b['peak_rss_mb'] - a['peak_rss_mb']) * 2**20 / extra / 1024:.2f} KB of peak memory "
            f"and {(b['run_folder_bytes'] - a['run_folder_bytes']) / extra / 1024:.2f} KB in the run folder"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "data", type=Path, nargs="?", default=Path("vtest-dev"), help="folder written by make_vtest_dev.py"
    )
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 4, 10])
    parser.add_argument("--full-scales", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--max-train-crops", type=int, default=1000)
    parser.add_argument("--full-frames", type=int, default=20, help="frame pairs per video for the full backend")
    parser.add_argument("--full-train-crops", type=int, default=32, help="--max-train-crops for the full backend")
    parser.add_argument(
        "--fit-regions",
        type=int,
        nargs="*",
        default=[20_000, 80_000],
        help="the full backend's embedding and fitting at these region counts, on rows of its feature shapes",
    )
    parser.add_argument("--fit-full-shaped", type=int, default=None, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", type=Path, default=Path("out/footage_scale"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.fit_full_shaped is not None:
        fit_full_shaped(args.fit_full_shaped)
        return 0

    videos = sorted((args.data / "train").glob("*.mp4"))
    report = {"lite": {}, "full_random_192x144": {}}
    common = ["--epochs", "1", "--max-train-crops", str(args.max_train_crops)]
    lite_rows = []
    for scale in args.scales:
        row = run_training(
            scaled_footage(videos, scale, args.out / "videos"),
            args.out / f"lite_{scale}x.ckpt",
            ["--backend", "lite", *common],
        )
        report["lite"][scale] = row
        lite_rows.append((scale, row))
        print_rows("lite backend", lite_rows)
    small = shrunk(videos, args.out / "small", (192, 144))
    full_rows = []
    for scale in args.full_scales:
        row = run_training(
            scaled_footage(small, scale, args.out / "small_videos"),
            args.out / f"full_{scale}x.ckpt",
            [
                "--backend",
                "full",
                "--weights",
                "random",
                "--flow-model",
                "raft_small",
                "--flow-size",
                "144",
                "192",
                "--flow-iterations",
                "2",
                "--detector-size",
                "144",
                "--max-frames-per-video",
                str(args.full_frames),
                "--epochs",
                "1",
                # CLIP ViT-B/16 trains slowly on a CPU: a small sample and batch keep the run to minutes;
                # the per-region costs are measured between scales where the sample is full in both
                "--max-train-crops",
                str(args.full_train_crops),
                "--batch-size",
                "8",
            ],
        )
        report["full_random_192x144"][scale] = row
        full_rows.append((scale, row))
    fits = [run_fit_full_shaped(n) for n in args.fit_regions]
    report["full_fitting_feature_shaped"] = fits
    print_rows("lite backend", lite_rows)
    if full_rows:
        print_rows("full backend, --weights random, 192x144 frames", full_rows)
    for a, b in zip(fits, fits[1:]):
        per_region = (b["peak_rss_mb"] - a["peak_rss_mb"]) * 2**20 / (b["regions"] - a["regions"]) / 1024
        print(
            f"full backend's features (512-d appearance), fitting {a['regions']} -> {b['regions']} regions: "
            f"peak {a['peak_rss_mb']:.0f} -> {b['peak_rss_mb']:.0f} MB, {per_region:.2f} KB per extra region"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
