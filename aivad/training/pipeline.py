"""Training pipeline shared by both training scripts (they differ only in their preset).

1. validate every video before any model loads;
2. stream the frozen stages (regions, flow, pose/geometry) once over the footage into a shard cache
   on disk, keeping a bounded sample of region crops (aivad.training.footage: memory does not grow with the
   footage, and a rerun after a crash reuses every finished shard);
3. adapt the appearance encoder on that sample with the Mean-Shifted Contrastive loss (Lightning
   Trainer: lr, epochs, batch size, accumulation, precision, clipping and seed act here);
   ``--epochs 0`` keeps it frozen, which is plain AI-VAD;
4. decode the footage again and embed every cached region with the adapted encoder, then fit the
   density estimators, keeping the base checkpoint's normal-behaviour memory wherever its features
   are still comparable;
5. calibrate each attribute and the alarm threshold on held-out training footage (aivad.model.calibration);
6. write the checkpoint and a JSON summary atomically.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aivad.console import QUIET, log
from aivad.features.backends import build_backend
from aivad.training.arguments import check_arguments, get_args_parser, run_dir_of
from aivad.training.distributed import Ranks
from aivad.training.summary import plain, training_summary


def resolve_training_videos(args) -> list:
    from aivad.video.files import validate_videos
    from aivad.video.listing import load_video_list_file, resolve_videos

    if args.videos:
        entries, base = args.videos, Path.cwd()
    else:
        entries, base = load_video_list_file(Path(args.video_list)), Path(args.video_list).resolve().parent
    paths = resolve_videos(entries, base)
    create_missing_demo_clip(paths)
    return validate_videos(paths, fps=args.fps)


def create_missing_demo_clip(paths: list[Path]) -> None:
    """The out-of-the-box list names a synthetic demo clip: make it on first use."""
    from aivad.video.synthetic import DEMO_CLIP_NAME, make_demo_clip

    for path in paths:
        if path.name == DEMO_CLIP_NAME and path.parent.name == "samples" and not path.exists():
            log(f"videos: creating the demo clip {path} (replace it with your footage in video_files_list.py)")
            make_demo_clip(path)


def load_or_extract_footage(videos, backend, args, config, run_dir: Path, device: str, ranks=None):
    """The footage from the shard cache in ``run_dir``; unfinished shards are extracted now."""
    from aivad.training.extraction import ShardStore, extract_footage, footage_key

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


@dataclass
class TrainingRun:
    """What the stages of one training run share."""

    args: argparse.Namespace
    started: float  # time.time() when the command started
    device: str  # the compute device chosen (aivad.devices.choose_device)
    precision: str  # the encoder training's precision
    ranks: Ranks  # this process among the run's processes (one, or several under DDP)
    run_dir: Path | None = None  # logs, region cache and resumable state
    # seconds per stage, in the JSON summary (benchmarks/footage_scale.py reads them)
    timings: dict = field(default_factory=dict)


def main(argv: list[str] | None, preset: dict) -> int:
    args = get_args_parser(preset).parse_args(argv)
    started = time.time()
    check_arguments(args)
    run = start_processes(args, started)
    videos = resolve_training_videos(args)  # validates every file before any model loads
    log(f"videos: {len(videos)} file(s), {sum(v.n_frames for v in videos)} frames")
    base, config, weights = choose_model(run)
    backend = build_backend(config, weights, run.ranks.device)
    footage, sample, footage_stats = extract_regions(run, videos, backend, config)
    fit_config_to_footage(config, footage, base, args.velocity_units)
    encoder, status, encoder_stats = adapt_encoder(run, config, base, weights, sample)
    if status == "interrupted":
        log(
            f"interrupted: the encoder's state is saved in {run.run_dir / 'checkpoints'}; run the same command "
            f"with --resume to continue. {args.output} was not changed."
        )
        return 130
    appearance = embed_regions(run, footage, videos, backend, encoder, config)
    if not run.ranks.is_main:
        return 0  # rank 0 fits the densities and writes the checkpoint
    model, calibration = fit_and_calibrate(run, config, encoder, footage, appearance, base, status, videos)
    summary = training_summary(
        args,
        config,
        videos,
        footage,
        sample,
        footage_stats,
        base,
        calibration,
        run.device,
        run.precision,
        encoder_stats,
    )
    summary["camera_view"] = training_view(videos)
    write_checkpoint(run, model, config, summary)
    return 0


def training_view(videos) -> dict | None:
    """The training footage's view, which live use compares each camera with (aivad.features.camera_view)."""
    from aivad.features.camera_view import reference_view

    stage = time.time()
    view = reference_view(videos)
    log(f"camera view: stored for the view check in {time.time() - stage:.1f} s" if view else "camera view: none")
    return view


def start_processes(args, started: float) -> TrainingRun:
    """Choose the device and precision, and start the run's other processes where it has several."""
    from aivad.devices import choose_device, choose_precision
    from aivad.training.distributed import launch

    choice = choose_device("cuda" if args.device == "gpu" else args.device)
    ranks = launch(choice.device, args.devices, args.num_nodes)  # several processes from here on, or just this one
    QUIET["on"] = not ranks.is_main
    precision, warning = choose_precision(args.precision, choice.device)
    log(
        f"device: {choice.device} ({choice.reason}); precision {precision}"
        + (f"; {ranks.world} processes (DDP)" if ranks.world > 1 else "")
    )
    if warning:
        log(f"warning: {warning}")
    return TrainingRun(args, started, choice.device, precision, ranks)


def choose_model(run: TrainingRun):
    """The base checkpoint (fine-tuning), the new model's configuration and where its weights come from."""
    from aivad.devices import bf16_warning
    from aivad.features.weights import WeightsSource
    from aivad.training.arguments import build_config
    from aivad.training.base import load_base

    args = run.args
    base = load_base(args.init_checkpoint) if args.init_checkpoint is not None else None
    if base is not None:
        log(f"base: {args.init_checkpoint} ({base.description})")
    config = build_config(args, base)
    if config.backend == "full" and (warning := bf16_warning(config.inference_precision, run.device)):
        log(f"warning: {warning}")
    weights = WeightsSource(args.weights, args.weights_dir)
    run.run_dir = run_dir_of(args)
    run.run_dir.mkdir(parents=True, exist_ok=True)
    return base, config, weights


def extract_regions(run: TrainingRun, videos, backend, config):
    """The frozen stages over the footage, once (from the shard cache where a shard is finished)."""
    stage = time.time()
    footage, sample, footage_stats = load_or_extract_footage(
        videos, backend, run.args, config, run.run_dir, run.device, run.ranks
    )
    run.timings["extraction"] = round(time.time() - stage, 2)
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
    return footage, sample, footage_stats


def fit_config_to_footage(config, footage, base, velocity_units: str = "box_relative") -> None:
    """What the configuration learns from the footage: the appearance gate, velocity and geometry units.

    ``velocity_units``: a new model's (aivad.model.aivad_model.VELOCITY_UNITS); a fine-tuned one keeps its base's.
    """
    from aivad.model.aivad_model import perspective_geometry_units, velocity_units_for
    from aivad.training.fitting import require_attributes

    gate = float(config.backend_settings.get("appearance_min_side", 0))
    if gate > 0:
        from aivad.features.lite import appearance_gate_for

        kept, share = appearance_gate_for(footage.frozen, gate)
        if kept != gate:
            config.backend_settings = dict(config.backend_settings, appearance_min_side=int(kept))
            log(
                f"appearance: {share:.0%} of the regions are under {gate:g} processing pixels on their shorter "
                "side, so the objects themselves are that small: every region's appearance is scored"
            )
    if "geometry" in config.density:  # geometry's perspective, the base's unless the base predates it
        keep = base is not None and base.config.geometry_units.get("kind") == "perspective"
        config.geometry_units = (
            base.config.geometry_units if keep else perspective_geometry_units(footage.frozen["geometry"])
        )
    # A fine-tuned model keeps its base's velocity units, so the base's velocity memory still compares.
    heights = footage.boxes[:, 3] - footage.boxes[:, 1]
    perspective = config.geometry_units if config.geometry_units.get("kind") == "perspective" else None
    config.velocity_units = (
        base.config.velocity_units
        if base is not None
        else velocity_units_for(
            velocity_units, float(np.median(heights)), perspective, moving_part="moving_share" in footage.frozen
        )
    )
    if "shape" in config.density:  # a fine-tuned model keeps its base's centre, so the base's shape memory compares
        from aivad.model.aivad_model import shape_units_for

        keep = base is not None and base.config.shape_units
        config.shape_units = (
            base.config.shape_units
            if keep
            else shape_units_for(
                footage.frozen["shape"], footage.frozen, float(config.backend_settings.get("appearance_min_side", 0))
            )
        )
    with_attribute = require_attributes(footage.frozen)
    if config.backend_settings.get("pose_boxes") == "persons" and "pose" in with_attribute:
        log(
            f"pose: {with_attribute['pose']} of {len(footage.boxes)} regions are persons (--pose-boxes "
            "persons); the others have no pose score"
        )


def adapt_encoder(run: TrainingRun, config, base, weights, sample):
    """The appearance encoder, adapted to the footage's crops (Mean-Shifted Contrastive training)."""
    from aivad.features.encoders import build_encoder
    from aivad.training.encoder_training import train_encoder
    from aivad.training.msc import colour_augmentation

    args, ranks = run.args, run.ranks
    encoder = base.encoder if base is not None else build_encoder(config.encoder, weights)
    encoder = encoder.to(ranks.device)
    if "appearance" not in config.density:
        log("encoder: no appearance attribute (--no-appearance): the encoder is not trained")
        return encoder.eval(), "skipped", {}
    log(f"encoder: training sample of {len(sample)} region crops (--max-train-crops {args.max_train_crops})")
    stage = time.time()
    colour = colour_augmentation(config.backend)
    status, encoder_stats = train_encoder(
        encoder, sample.crops, args, run.device, run.precision, run.run_dir, ranks, colour=colour
    )
    run.timings["encoder_training"] = round(time.time() - stage, 2)
    return encoder.to(ranks.device).eval(), status, encoder_stats


def embed_regions(run: TrainingRun, footage, videos, backend, encoder, config):
    """Every cached region embedded with the adapted encoder (the footage decoded a second time)."""
    from aivad.training.embedding import embed_footage

    if "appearance" not in config.density:
        return None  # nothing scores it: the second pass over the footage is not needed
    stage = time.time()
    appearance = embed_footage(
        footage,
        videos,
        backend,
        encoder,
        run.ranks.device,
        config.inference_precision,
        log=log,
        ranks=run.ranks,
        folder=run.run_dir,
    )
    run.timings["embedding"] = round(time.time() - stage, 2)
    return appearance


def fit_and_calibrate(run: TrainingRun, config, encoder, footage, appearance, base, status, videos):
    """The densities fitted on all the footage; scores and threshold calibrated on held-out footage."""
    from aivad.training.fitting import fit_model

    args = run.args
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
    run.timings["fitting"] = round(time.time() - stage, 2)
    log(
        f"calibration: threshold {float(model.threshold):.4f} for "
        f"{calibration['false_alarms_per_hour_supported']:.3g} false alarm(s) per hour "
        f"(estimated on {calibration['heldout']} of normal footage the densities did not see, "
        f"{calibration['heldout_hours'] * 3600:.0f} s)"
    )
    if calibration["extrapolation_note"]:
        log(f"calibration: note: {calibration['extrapolation_note']}")
    return model, calibration


def write_checkpoint(run: TrainingRun, model, config, summary: dict) -> None:
    """The checkpoint and its JSON summary, each written atomically."""
    import lightning

    from aivad.model.checkpoint import save_checkpoint, save_json, summary_path

    output = run.args.output
    summary["duration_s"] = round(time.time() - run.started, 1)
    summary["timings_s"] = run.timings
    payload = {
        "state_dict": model.state_dict(),
        "hyper_parameters": config.to_dict(),
        "pytorch-lightning_version": str(lightning.__version__),
        "aivad": plain(summary),
    }
    save_checkpoint(output, payload)
    save_json(summary_path(output), summary)
    log(f"wrote {output} and {summary_path(output).name} in {summary['duration_s']} s")


def run(preset: dict, argv: list[str] | None = None) -> int:
    """Entry point for the training scripts."""
    from aivad.console import run_main

    return run_main(lambda a: main(a, preset), argv)
