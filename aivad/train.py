"""Training pipeline shared by both training scripts (they differ only in their preset).

1. validate every video before any model loads;
2. stream the frozen stages (regions, flow, pose/geometry) once over the footage into a shard cache
   on disk, keeping a bounded sample of region crops (aivad.footage: memory does not grow with the
   footage, and a rerun after a crash reuses every finished shard);
3. adapt the appearance encoder on that sample with the Mean-Shifted Contrastive loss (Lightning
   Trainer: lr, epochs, batch size, accumulation, precision, clipping and seed act here);
   ``--epochs 0`` keeps it frozen, which is plain AI-VAD;
4. decode the footage again and embed every cached region with the adapted encoder, then fit the
   density estimators, keeping the base checkpoint's normal-behaviour memory wherever its features
   are still comparable;
5. calibrate each attribute and the alarm threshold on held-out training footage (aivad.calibration);
6. write the checkpoint and a JSON summary atomically.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from aivad.config import MEMORY_BANK_SIZE, SMOOTHING_SIGMA
from aivad.console import QUIET, log
from aivad.errors import UserError, check_output_paths
from aivad.footage import DEFAULT_MAX_TRAIN_CROPS

# Settings shared by both scripts. The preset-specific ones (lr, epochs, accumulation, output and
# base checkpoint) come from the script that calls get_args_parser(preset).


def get_args_parser(preset: dict, description: str = "Train AI-VAD on your own videos.") -> argparse.ArgumentParser:
    from aivad.devices import DEVICE_CHOICES, INFERENCE_PRECISIONS
    from aivad.full import POSE_BOXES, FullSettings

    full_defaults = FullSettings()  # the full backend's defaults live there, once
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = parser.add_argument_group("videos")
    data.add_argument(
        "--video-list",
        type=Path,
        default=preset["video_list"],
        help="Python file with video_files = [...] (files, folders or globs)",
    )
    data.add_argument(
        "--videos",
        nargs="+",
        default=None,
        metavar="PATH",
        help="train on these files/folders/globs instead of the video list",
    )
    data.add_argument("--frame-stride", type=int, default=1, help="use every N-th frame pair")
    data.add_argument("--max-frames-per-video", type=int, default=None, help="cap on frame pairs per video")
    data.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes decoding video")

    model = parser.add_argument_group("model")
    model.add_argument(
        "--backend",
        choices=("full", "lite"),
        default=preset.get("backend"),
        help=(
            "full: AI-VAD with Mask R-CNN, RAFT, Keypoint R-CNN, CLIP; lite: CPU real-time, no downloads "
            "(default: full, or the base checkpoint's)"
        ),
    )
    model.add_argument(
        "--init-checkpoint",
        type=Path,
        default=preset["init_checkpoint"],
        help="base checkpoint to fine-tune (ours or anomalib AiVad); never modified",
    )
    model.add_argument(
        "--weights",
        choices=("pretrained", "random"),
        default="pretrained",
        help="frozen networks: public pretrained weights, or the same architectures randomly initialised (tests)",
    )
    model.add_argument(
        "--weights-dir", type=Path, default=None, help="folder holding the pretrained weight files (offline machines)"
    )
    model.add_argument(
        "--motion-threshold",
        type=int,
        default=full_defaults.foreground_threshold,
        help=(
            "grey-level change (0-255) that counts as motion for foreground regions; lower it for dark or "
            "low-contrast footage"
        ),
    )
    model.add_argument(
        "--memory-bank-size", type=int, default=MEMORY_BANK_SIZE, help="kNN memory rows kept per attribute (coreset)"
    )
    model.add_argument(
        "--smoothing-sigma",
        type=float,
        default=SMOOTHING_SIGMA,
        help="temporal smoothing of frame scores, in frames (0 = off)",
    )
    model.add_argument(
        "--false-alarms-per-hour",
        type=float,
        default=1.0,
        help=(
            "alarm threshold: expected false-alarm events per hour of normal footage like the training "
            "videos (estimated on held-out footage)"
        ),
    )
    model.add_argument(
        "--flow-model",
        choices=("raft_large", "raft_small"),
        default=full_defaults.flow_model,
        help="full backend: RAFT variant",
    )
    model.add_argument(
        "--flow-size",
        type=int,
        nargs=2,
        default=full_defaults.flow_size,
        metavar=("H", "W"),
        help="full backend: RAFT working size (multiples of 8)",
    )
    model.add_argument(
        "--flow-iterations", type=int, default=full_defaults.flow_iterations, help="full backend: RAFT refinement steps"
    )
    model.add_argument(
        "--detector-size",
        type=int,
        default=full_defaults.detector_size,
        help="full backend: shorter side fed to Mask/Keypoint R-CNN",
    )
    model.add_argument(
        "--box-score-thresh",
        type=float,
        default=full_defaults.box_score_thresh,
        help="full backend: Mask R-CNN confidence for object regions",
    )
    model.add_argument("--no-pose", action="store_true", help="full backend: skip the pose attribute")
    model.add_argument(
        "--pose-boxes",
        choices=POSE_BOXES,
        default=full_defaults.pose_boxes,
        help=(
            "full backend: regions that get a pose; persons = only boxes Mask R-CNN labels person (faster, "
            "changes scores)"
        ),
    )
    model.add_argument(
        "--inference-precision",
        choices=INFERENCE_PRECISIONS,
        default=full_defaults.inference_precision,
        help=(
            "full backend: precision of the networks when extracting features; bf16 is ~2x faster on CPUs "
            "with AVX512-BF16/AMX and recent GPUs and changes scores slightly (README: Speed)"
        ),
    )

    train = parser.add_argument_group("training (appearance encoder)")
    train.add_argument("--lr", type=float, default=preset["lr"], help="learning rate of the appearance encoder")
    train.add_argument(
        "--epochs",
        type=int,
        default=preset["epochs"],
        help="epochs of encoder training; 0 = frozen encoder (plain AI-VAD)",
    )
    train.add_argument("--batch-size", type=int, default=16, help="region crops per step (contrastive: at least 2)")
    train.add_argument(
        "--max-train-crops",
        type=int,
        default=DEFAULT_MAX_TRAIN_CROPS,
        help=(
            "region crops the encoder trains on, sampled evenly from all the footage while extracting "
            "(memory and epoch time stay bounded)"
        ),
    )
    train.add_argument("--accumulate-grad-batches", type=int, default=preset["accumulate_grad_batches"])
    train.add_argument(
        "--precision", default="auto", help="auto (16-mixed on CUDA, 32-true on CPU), 16-mixed, bf16-mixed or 32-true"
    )
    train.add_argument("--gradient-clip-val", type=float, default=1.0)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument(
        "--device",
        "--accelerator",
        dest="device",
        choices=(*DEVICE_CHOICES, "gpu"),
        default="auto",
        help="where to run (gpu = cuda)",
    )
    train.add_argument(
        "--devices",
        type=int,
        default=1,
        help=(
            "processes per machine, one per GPU (or CPU processes with --accelerator cpu): extraction, "
            "embedding and DDP training are shared among them"
        ),
    )
    train.add_argument("--num-nodes", type=int, default=1, help="machines (README: launching on a cluster)")
    train.add_argument(
        "--resume", action="store_true", help="continue an interrupted run from its last state in --run-dir"
    )

    out = parser.add_argument_group("output")
    out.add_argument(
        "--output",
        type=Path,
        default=Path(preset["output"]),
        help="checkpoint to write (replaced only once the new one is complete)",
    )
    out.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="logs, region cache and resumable state (default: OUTPUT_run beside the output)",
    )
    out.add_argument("--debug", action="store_true", help="show full tracebacks")
    return parser


def resolve_training_videos(args) -> list:
    from aivad.videos import load_video_list_file, resolve_videos, validate_videos

    if args.videos:
        entries, base = args.videos, Path.cwd()
    else:
        entries, base = load_video_list_file(Path(args.video_list)), Path(args.video_list).resolve().parent
    paths = resolve_videos(entries, base)
    create_missing_demo_clip(paths)
    return validate_videos(paths)


def create_missing_demo_clip(paths: list[Path]) -> None:
    """The out-of-the-box list names a synthetic demo clip: make it on first use."""
    from aivad.synthetic import DEMO_CLIP_NAME, make_demo_clip

    for path in paths:
        if path.name == DEMO_CLIP_NAME and path.parent.name == "samples" and not path.exists():
            log(f"videos: creating the demo clip {path} (replace it with your footage in video_files_list.py)")
            make_demo_clip(path)


def check_arguments(args) -> None:
    if args.batch_size < 2:
        raise UserError(
            "--batch-size must be at least 2: the contrastive loss compares the crops of a batch with each other."
        )
    if args.devices < 1 or args.num_nodes < 1:
        raise UserError("--devices and --num-nodes must be at least 1.")
    if args.batch_size % (args.devices * args.num_nodes):
        raise UserError(
            f"--batch-size {args.batch_size} must be a multiple of --devices x --num-nodes "
            f"({args.devices * args.num_nodes}): every process takes an equal slice of each batch."
        )
    if args.epochs < 0 or args.lr < 0:
        raise UserError("--epochs and --lr cannot be negative.")
    if args.frame_stride < 1 or args.accumulate_grad_batches < 1:
        raise UserError("--frame-stride and --accumulate-grad-batches must be at least 1.")
    if args.max_train_crops < 2:
        raise UserError("--max-train-crops must be at least 2: the contrastive loss compares crops with each other.")
    if args.memory_bank_size < 1:
        raise UserError(
            "--memory-bank-size must be at least 1 (kNN rows kept per attribute); give a large number such as "
            "1000000 to keep every row."
        )
    if args.max_frames_per_video is not None and args.max_frames_per_video < 1:
        raise UserError("--max-frames-per-video must be at least 1.")
    if not args.false_alarms_per_hour > 0:
        raise UserError("--false-alarms-per-hour must be above 0, for example 1 (one false alarm an hour) or 0.1.")
    if args.flow_size[0] % 8 or args.flow_size[1] % 8 or min(args.flow_size) < 128:
        raise UserError("--flow-size H W must both be multiples of 8 and at least 128 (RAFT's requirements).")
    if args.init_checkpoint is not None and args.output.resolve() == Path(args.init_checkpoint).resolve():
        raise UserError("--output must differ from --init-checkpoint: the base checkpoint is never modified.")
    check_output_paths({"--output": args.output}, folders={"--run-dir": run_dir_of(args)})  # before hours of work


def run_dir_of(args) -> Path:
    return args.run_dir or args.output.with_name(args.output.stem + "_run")


def load_or_extract_footage(videos, backend, args, config, run_dir: Path, device: str, ranks=None):
    """The footage from the shard cache in ``run_dir``; unfinished shards are extracted now."""
    from aivad.footage import ShardStore, extract_footage, footage_key

    key = footage_key(
        videos,
        config.backend,
        config.backend_settings,
        config.weights,
        args.frame_stride,
        args.max_frames_per_video,
        args.seed,
        args.max_train_crops,
    )
    store = ShardStore(run_dir / f"footage-{key}")
    log("regions: running the frozen stages over the footage (cached in shards; a rerun reuses finished ones) ...")
    batch_size = 4 if (backend.name == "full" and device == "cuda") else 1
    return extract_footage(
        videos,
        backend,
        store,
        args.max_train_crops,
        args.seed,
        stride=args.frame_stride,
        max_pairs=args.max_frames_per_video,
        num_workers=args.num_workers,
        batch_size=batch_size,
        log=log,
        ranks=ranks,
    )


def main(argv: list[str] | None, preset: dict) -> int:
    from aivad.devices import bf16_warning, choose_device, choose_precision

    args = get_args_parser(preset).parse_args(argv)
    started = time.time()
    check_arguments(args)
    choice = choose_device("cuda" if args.device == "gpu" else args.device)
    from aivad.distributed import launch

    ranks = launch(choice.device, args.devices, args.num_nodes)  # several processes from here on, or just this one
    QUIET["on"] = not ranks.is_main
    precision, warning = choose_precision(args.precision, choice.device)
    log(
        f"device: {choice.device} ({choice.reason}); precision {precision}"
        + (f"; {ranks.world} processes (DDP)" if ranks.world > 1 else "")
    )
    if warning:
        log(f"warning: {warning}")

    videos = resolve_training_videos(args)  # validates every file before any model loads
    log(f"videos: {len(videos)} file(s), {sum(v.n_frames for v in videos)} frames")

    from aivad.base import load_base
    from aivad.config import build_config
    from aivad.weights import WeightsSource

    base = load_base(args.init_checkpoint) if args.init_checkpoint is not None else None
    if base is not None:
        log(f"base: {args.init_checkpoint} ({base.description})")
    config = build_config(args, base)
    if config.backend == "full" and (warning := bf16_warning(config.inference_precision, choice.device)):
        log(f"warning: {warning}")
    weights = WeightsSource(args.weights, args.weights_dir)
    run_dir = run_dir_of(args)
    run_dir.mkdir(parents=True, exist_ok=True)

    from aivad.backends import build_backend
    from aivad.encoders import build_encoder

    backend = build_backend(config, weights, ranks.device)
    timings = {}  # seconds per stage, in the JSON summary (benchmarks/footage_scale.py reads them)
    stage = time.time()
    footage, sample, footage_stats = load_or_extract_footage(
        videos, backend, args, config, run_dir, choice.device, ranks
    )
    timings["extraction"] = round(time.time() - stage, 2)
    log(
        f"regions: {len(footage.boxes)} regions in {len(footage.video_index)} frame pairs "
        f"({int(footage.whole_frame.sum())} without any region)"
    )
    if footage.whole_frame.all():
        hint = "lower --motion-threshold" + (" or --box-score-thresh" if config.backend == "full" else "")
        log(
            "warning: no object or moving region was found in any frame, so every frame is scored as one "
            f"whole-frame region; if the footage does show movement, {hint}."
        )
    from aivad.fitting import require_attributes
    from aivad.model import box_relative_units, perspective_geometry_units

    gate = float(config.backend_settings.get("appearance_min_side", 0))
    if gate > 0:
        from aivad.lite import appearance_gate_for

        kept, share = appearance_gate_for(footage.frozen, gate)
        if kept != gate:
            config.backend_settings = dict(config.backend_settings, appearance_min_side=int(kept))
            log(
                f"appearance: {share:.0%} of the regions are under {gate:g} processing pixels on their shorter "
                "side, so the objects themselves are that small: every region's appearance is scored"
            )
    # A fine-tuned model keeps its base's velocity units, so the base's velocity memory still compares.
    heights = footage.boxes[:, 3] - footage.boxes[:, 1]
    config.velocity_units = (
        base.config.velocity_units if base is not None else box_relative_units(float(np.median(heights)))
    )
    if "geometry" in config.density:  # the same for geometry's perspective, unless the base predates it
        keep = base is not None and base.config.geometry_units.get("kind") == "perspective"
        config.geometry_units = (
            base.config.geometry_units if keep else perspective_geometry_units(footage.frozen["geometry"])
        )
    with_attribute = require_attributes(footage.frozen)
    if config.backend_settings.get("pose_boxes") == "persons" and "pose" in with_attribute:
        log(
            f"pose: {with_attribute['pose']} of {len(footage.boxes)} regions are persons (--pose-boxes "
            "persons); the others have no pose score"
        )

    from aivad.encoder_training import train_encoder

    encoder = base.encoder if base is not None else build_encoder(config.encoder, weights)
    encoder = encoder.to(ranks.device)
    log(f"encoder: training sample of {len(sample)} region crops (--max-train-crops {args.max_train_crops})")
    stage = time.time()
    status, encoder_stats = train_encoder(encoder, sample.crops, args, choice.device, precision, run_dir, ranks)
    timings["encoder_training"] = round(time.time() - stage, 2)
    if status == "interrupted":
        log(
            f"interrupted: the encoder's state is saved in {run_dir / 'checkpoints'}; run the same command "
            f"with --resume to continue. {args.output} was not changed."
        )
        return 130
    encoder = encoder.to(ranks.device).eval()

    from aivad.fitting import fit_model
    from aivad.footage import embed_footage

    stage = time.time()
    appearance = embed_footage(
        footage,
        videos,
        backend,
        encoder,
        ranks.device,
        config.inference_precision,
        log=log,
        ranks=ranks,
        folder=run_dir,
    )
    timings["embedding"] = round(time.time() - stage, 2)
    if not ranks.is_main:
        return 0  # rank 0 fits the densities and writes the checkpoint
    stage = time.time()
    model, calibration = fit_model(
        config,
        encoder.cpu(),
        footage,
        appearance,
        base,
        encoder_changed=status == "done",
        seed=args.seed,
        pairs_per_second=[v.fps / args.frame_stride if v.fps else 10.0 / args.frame_stride for v in videos],
        false_alarms_per_hour=args.false_alarms_per_hour,
    )
    timings["fitting"] = round(time.time() - stage, 2)
    log(
        f"calibration: threshold {float(model.threshold):.4f} for "
        f"{calibration['false_alarms_per_hour_supported']:.3g} false alarm(s) per hour "
        f"(estimated on {calibration['heldout']} of normal footage the densities did not see, "
        f"{calibration['heldout_hours'] * 3600:.0f} s)"
    )
    if calibration["extrapolation_note"]:
        log(f"calibration: note: {calibration['extrapolation_note']}")

    from aivad.checkpoint import save_checkpoint, save_json, summary_path
    from aivad.summary import plain, training_summary

    summary = training_summary(
        args, config, videos, footage, sample, footage_stats, base, calibration, choice.device, precision, encoder_stats
    )
    summary["duration_s"] = round(time.time() - started, 1)
    summary["timings_s"] = timings
    import lightning

    payload = {
        "state_dict": model.state_dict(),
        "hyper_parameters": config.to_dict(),
        "pytorch-lightning_version": str(lightning.__version__),
        "aivad": plain(summary),
    }
    save_checkpoint(args.output, payload)
    save_json(summary_path(args.output), summary)
    log(f"wrote {args.output} and {summary_path(args.output).name} in {summary['duration_s']} s")
    return 0


def run(preset: dict, argv: list[str] | None = None) -> int:
    """Entry point for the training scripts."""
    from aivad.console import run_main

    return run_main(lambda a: main(a, preset), argv)
