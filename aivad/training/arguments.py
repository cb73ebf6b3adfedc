"""The training command line: its flags, their checks, and the model configuration they choose.

Both training scripts share it; they differ only in their preset (lr, epochs, accumulation, output
and base checkpoint), which becomes the parser's defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aivad.errors import UserError, check_output_paths
from aivad.model.config import MEMORY_BANK_SIZE, SMOOTHING_SIGMA, ModelConfig
from aivad.training.footage import DEFAULT_MAX_TRAIN_CROPS
from aivad.video.frame_folders import add_fps_option

# Settings shared by both scripts. The preset-specific ones (lr, epochs, accumulation, output and
# base checkpoint) come from the script that calls get_args_parser(preset).


def get_args_parser(preset: dict, description: str = "Train AI-VAD on your own videos.") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_video_arguments(parser.add_argument_group("videos"), preset)
    add_model_arguments(parser.add_argument_group("model"), preset)
    add_training_arguments(parser.add_argument_group("training (appearance encoder)"), preset)
    add_output_arguments(parser.add_argument_group("output"), preset)
    return parser


def add_video_arguments(data, preset: dict) -> None:
    """Which videos, and how much of each."""
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
        help="train on these files/folders/globs instead of the video list (a folder of numbered images is one video)",
    )
    add_fps_option(data)
    data.add_argument("--frame-stride", type=int, default=1, help="use every N-th frame pair")
    data.add_argument("--max-frames-per-video", type=int, default=None, help="cap on frame pairs per video")
    data.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes decoding video")


def add_model_arguments(model, preset: dict) -> None:
    """The new model: backend, base checkpoint and the frozen stages' settings."""
    from aivad.devices import INFERENCE_PRECISIONS
    from aivad.features.full import POSE_BOXES, FullSettings

    full_defaults = FullSettings()  # the full backend's defaults live there, once
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
    add_attribute_arguments(model)
    model.add_argument(
        "--person-attribute",
        action="store_true",
        help=(
            "lite backend: also score how much each region looks like a person (OpenCV's pretrained HOG "
            "people detector; off by default: on the development splits it found animals and vehicles alone "
            "but did not lift the combined score, docs/experiments.md)"
        ),
    )
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


def add_attribute_arguments(model) -> None:
    """Which attributes a new model scores and how its velocity is described (dataset presets set these)."""
    from aivad.model.aivad_model import VELOCITY_GMM_COMPONENTS, VELOCITY_UNITS

    model.add_argument(
        "--velocity-components",
        type=int,
        default=VELOCITY_GMM_COMPONENTS,
        help="Gaussian components of the velocity density (the AI-VAD authors: 2 on UCSD Ped2, 5 elsewhere)",
    )
    model.add_argument(
        "--velocity-bins",
        type=int,
        default=None,
        help=(
            "full backend: flow-direction bins of the velocity histogram (default: 8, or the base checkpoint's; "
            "the authors: 1 on UCSD Ped2). The lite backend's velocity is a speed, without direction"
        ),
    )
    model.add_argument(
        "--velocity-units",
        choices=VELOCITY_UNITS,
        default=VELOCITY_UNITS[0],
        help=(
            "a new model's velocity: relative to the box height and the footage's usual one (box_relative), as "
            "measured (pixels), or divided by the box's own height (box_height, the authors on ShanghaiTech); a "
            "fine-tuned model keeps its base's"
        ),
    )
    model.add_argument(
        "--no-appearance",
        action="store_true",
        help="leave out the appearance attribute (the authors do on ShanghaiTech); the encoder is then not trained",
    )


def add_training_arguments(train, preset: dict) -> None:
    """The appearance encoder's training: optimiser, precision, devices and processes."""
    from aivad.devices import DEVICE_CHOICES

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


def add_output_arguments(out, preset: dict) -> None:
    """Where the checkpoint, its summary and the run's state go."""
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
    if args.velocity_components < 1 or (args.velocity_bins is not None and args.velocity_bins < 1):
        raise UserError("--velocity-components and --velocity-bins must be at least 1.")
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


def build_config(args, base) -> ModelConfig:
    from aivad.features.full import FullSettings, frozen_attributes
    from aivad.features.lite import lite_frozen_attributes, new_model_settings
    from aivad.model.aivad_model import default_density_config

    if base is not None:
        backend = base.config.backend
        if args.backend is not None and args.backend != backend:
            raise UserError(
                f"--backend {args.backend} does not match the base checkpoint, which is a {backend} model; "
                f"drop --backend or use a {args.backend} base checkpoint."
            )
    else:
        backend = args.backend or "full"
    if backend == "lite":
        settings = new_model_settings(args.motion_threshold, person=args.person_attribute).to_dict()
        attributes = [*lite_frozen_attributes(settings["person_model"], settings["shape_model"]), "appearance"]
        encoder = "small_cnn"
    else:
        settings = (
            FullSettings.from_dict(base.config.backend_settings).to_dict()
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
        if args.velocity_bins is not None:
            settings["velocity_bins"] = args.velocity_bins
        attributes = [*frozen_attributes(settings["use_pose"]), "appearance"]
        encoder = "clip_vit_b16"
    if args.no_appearance:
        attributes.remove("appearance")
    from aivad.model.scoring import MAX_SMOOTHED

    return ModelConfig(
        backend=backend,
        backend_settings=settings,
        encoder=encoder,
        density=default_density_config(attributes, args.velocity_components),
        weights=args.weights,
        max_bank=args.memory_bank_size,
        combine=MAX_SMOOTHED,  # calibrated attributes, each smoothed, then the most unusual one (aivad.model.scoring)
        smoothing_sigma=args.smoothing_sigma,
    )
