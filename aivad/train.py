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
import json
import platform
import signal
import time
from pathlib import Path

import numpy as np
import torch

from aivad.errors import UserError
from aivad.footage import DEFAULT_MAX_TRAIN_CROPS

# Settings shared by both scripts. The preset-specific ones (lr, epochs, accumulation, output and
# base checkpoint) come from the script that calls get_args_parser(preset).


def get_args_parser(preset: dict, description: str = "Train AI-VAD on your own videos.") -> argparse.ArgumentParser:
    from aivad.devices import INFERENCE_PRECISIONS
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
        "--memory-bank-size", type=int, default=4096, help="kNN memory rows kept per attribute (coreset)"
    )
    model.add_argument(
        "--smoothing-sigma", type=float, default=3.0, help="temporal smoothing of frame scores, in frames (0 = off)"
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
        choices=("auto", "cuda", "gpu", "cpu"),
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


QUIET = {"on": False}  # the other ranks of a multi-process run stay silent


def log(message: str) -> None:
    if not QUIET["on"]:
        print(message, flush=True)


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
    if args.output.exists() and args.output.is_dir():
        raise UserError(f"--output {args.output} is a folder; give a file name such as {args.output / 'model.ckpt'}.")
    if args.init_checkpoint is not None and args.output.resolve() == Path(args.init_checkpoint).resolve():
        raise UserError("--output must differ from --init-checkpoint: the base checkpoint is never modified.")


def build_config(args, base) -> dict:
    from aivad.full import FullSettings
    from aivad.lite import LiteSettings
    from aivad.model import default_density_config

    if base is not None:
        backend = base.config["backend"]
        if args.backend is not None and args.backend != backend:
            raise UserError(
                f"--backend {args.backend} does not match the base checkpoint, which is a {backend} model; "
                f"drop --backend or use a {args.backend} base checkpoint."
            )
    else:
        backend = args.backend or "full"
    if backend == "lite":
        settings = LiteSettings(diff_threshold=args.motion_threshold).to_dict()
        attributes = ["velocity", "geometry", "appearance"]
        encoder = "small_cnn"
    else:
        settings = (
            FullSettings.from_dict(base.config["backend_settings"]).to_dict()
            if base is not None
            else FullSettings().to_dict()
        )
        settings.update(
            flow_model=args.flow_model,
            flow_size=list(args.flow_size),
            flow_iterations=args.flow_iterations,
            detector_size=args.detector_size,
            box_score_thresh=args.box_score_thresh,
            foreground_threshold=args.motion_threshold,
            use_pose=settings.get("use_pose", True) and not args.no_pose,
            pose_boxes=args.pose_boxes,
            inference_precision=args.inference_precision,
        )
        attributes = ["velocity", "pose", "appearance"] if settings["use_pose"] else ["velocity", "appearance"]
        encoder = "clip_vit_b16"
    return {
        "backend": backend,
        "backend_settings": settings,
        "weights": args.weights,
        "encoder": encoder,
        "density": default_density_config(attributes),
        "max_bank": args.memory_bank_size,
        "combine": "max",  # attributes calibrated on held-out footage, then the most unusual one (aivad.scoring)
        "smoothing_sigma": args.smoothing_sigma,
    }


def load_or_extract_footage(videos, backend, args, config, run_dir: Path, device: str, ranks=None):
    """The footage from the shard cache in ``run_dir``; unfinished shards are extracted now."""
    from aivad.footage import ShardStore, extract_footage, footage_key

    key = footage_key(
        videos,
        config["backend"],
        config["backend_settings"],
        config["weights"],
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


def train_encoder(
    encoder, crops: np.ndarray, args, device: str, precision: str, run_dir: Path, ranks=None
) -> tuple[str, dict]:
    """Mean-Shifted Contrastive training on the sampled crops; returns ('done'|'interrupted'|'skipped', stats)."""
    if args.epochs == 0:
        log("encoder: --epochs 0, appearance encoder stays frozen (plain AI-VAD)")
        return "skipped", {}
    import lightning as L
    from lightning.pytorch.callbacks import Callback, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader

    from aivad.distributed import Ranks
    from aivad.msc import CropPairs, GlobalBatches, MeanShiftedTraining, feature_center

    ranks = ranks or Ranks(device=device)

    if crops is None or len(crops) < 2:
        raise UserError(
            "only one region was found in all the footage: the encoder needs at least two; add footage or use "
            "--epochs 0."
        )
    L.seed_everything(args.seed, workers=True, verbose=False)
    center = feature_center(encoder, crops, ranks.device)
    module = MeanShiftedTraining(encoder, center, lr=args.lr)
    batch_size = min(args.batch_size, len(crops))
    batch_size -= batch_size % ranks.world
    # Augmentation is cheap next to the encoder: workers here would each receive a copy of all crops.
    batches = GlobalBatches(len(crops), batch_size, args.seed, ranks.rank, ranks.world)
    loader = DataLoader(CropPairs(crops, seed=args.seed), batch_sampler=batches, num_workers=0)
    checkpoints = run_dir / "checkpoints"
    resume_from = checkpoints / "last.ckpt"

    class SaveOnInterrupt(Callback):
        """Ctrl+C: keep where training got to, so --resume continues instead of starting over."""

        def on_exception(self, trainer, pl_module, exception):
            if isinstance(exception, KeyboardInterrupt):
                trainer.save_checkpoint(resume_from)

    trainer = L.Trainer(
        enable_progress_bar=ranks.is_main,
        max_epochs=args.epochs,
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy="ddp" if ranks.world > 1 else "auto",
        use_distributed_sampler=False,  # GlobalBatches gives each rank its slice of every batch
        precision=precision,
        accumulate_grad_batches=args.accumulate_grad_batches,
        gradient_clip_val=args.gradient_clip_val or None,
        logger=CSVLogger(run_dir, name="logs"),
        callbacks=[ModelCheckpoint(dirpath=checkpoints, save_last=True, save_top_k=0), SaveOnInterrupt()],
        default_root_dir=run_dir,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        deterministic=False,
    )
    ckpt_path = str(resume_from) if args.resume and resume_from.is_file() else None
    if not args.resume and resume_from.exists():
        resume_from.unlink()  # a new run starts over; only --resume continues
    if args.resume and ckpt_path is None:
        log(f"resume: no saved state in {checkpoints}; starting the encoder training from the beginning")
    elif ckpt_path:
        log(f"resume: continuing from {resume_from}")
    log(f"encoder: Mean-Shifted Contrastive training, {len(crops)} region crops, lr {args.lr}, {args.epochs} epochs")
    try:
        trainer.fit(module, loader, ckpt_path=ckpt_path)
    except SystemExit:  # Lightning exits after a graceful Ctrl+C shutdown; we report it ourselves
        if not trainer.interrupted:
            raise
        signal.signal(signal.SIGINT, signal.default_int_handler)
    losses = [float(v) for k, v in trainer.callback_metrics.items() if k.startswith("loss")]
    stats = {
        "final_loss": losses[0] if losses else None,
        "epochs_done": trainer.current_epoch,
        "log_dir": str(trainer.logger.log_dir),
    }
    return ("interrupted" if trainer.interrupted else "done"), stats


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
    from aivad.weights import WeightsSource

    base = load_base(args.init_checkpoint) if args.init_checkpoint is not None else None
    if base is not None:
        log(f"base: {args.init_checkpoint} ({base.description})")
    config = build_config(args, base)
    if config["backend"] == "full" and (
        warning := bf16_warning(config["backend_settings"]["inference_precision"], choice.device)
    ):
        log(f"warning: {warning}")
    weights = WeightsSource(args.weights, args.weights_dir)
    run_dir = args.run_dir or args.output.with_name(args.output.stem + "_run")
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
        hint = "lower --motion-threshold" + (" or --box-score-thresh" if config["backend"] == "full" else "")
        log(
            "warning: no object or moving region was found in any frame, so every frame is scored as one "
            f"whole-frame region; if the footage does show movement, {hint}."
        )
    from aivad.fitting import require_attributes
    from aivad.model import PIXELS, box_relative_units

    # A fine-tuned model keeps its base's velocity units, so the base's velocity memory still compares.
    heights = footage.boxes[:, 3] - footage.boxes[:, 1]
    config["velocity_units"] = (
        base.config.get("velocity_units", PIXELS) if base is not None else box_relative_units(float(np.median(heights)))
    )
    with_attribute = require_attributes(footage.frozen)
    if config["backend_settings"].get("pose_boxes") == "persons" and "pose" in with_attribute:
        log(
            f"pose: {with_attribute['pose']} of {len(footage.boxes)} regions are persons (--pose-boxes "
            "persons); the others have no pose score"
        )

    encoder = base.encoder if base is not None else build_encoder(config["encoder"], weights)
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
    from aivad.model import inference_precision

    stage = time.time()
    appearance = embed_footage(
        footage,
        videos,
        backend,
        encoder,
        ranks.device,
        inference_precision(config),
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
        f"calibration: threshold {float(model.threshold):.4f} for {args.false_alarms_per_hour:g} false "
        "alarm(s) per hour "
        f"(estimated on {calibration['heldout']} of normal footage the densities did not see, "
        f"{calibration['heldout_hours'] * 3600:.0f} s)"
    )

    from aivad.checkpoint import save_checkpoint, save_json, summary_path
    from aivad.footage import SHARD_FRAMES
    from aivad.model import FORMAT, FORMAT_VERSION

    summary = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backend": config["backend"],
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
        "device": choice.device,
        "precision": precision,
        "encoder_training": encoder_stats,
        "calibration": {k: v for k, v in calibration.items() if k != "kept_from_base"},
        "footage": {**footage_stats, "shard_frames": SHARD_FRAMES, "regions": int(len(footage.boxes))},
        "training_sample": len(sample),
        "versions": versions(),
        "duration_s": round(time.time() - started, 1),
        "timings_s": timings,
    }
    import lightning

    payload = {
        "state_dict": model.state_dict(),
        "hyper_parameters": plain(config),
        "pytorch-lightning_version": str(lightning.__version__),
        "aivad": plain(summary),
    }
    save_checkpoint(args.output, payload)
    save_json(summary_path(args.output), summary)
    log(f"wrote {args.output} and {summary_path(args.output).name} in {summary['duration_s']} s")
    return 0


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


def run(preset: dict, argv: list[str] | None = None) -> int:
    """Entry point for the training scripts."""
    from aivad.console import run_main

    return run_main(lambda a: main(a, preset), argv)
