"""Refit a trained lite model's densities, calibration and threshold with this version's code, in seconds.

Why: encoder training takes most of a training run, and a change to the densities, the held-out
calibration or the alarm does not touch the encoder. This reads a checkpoint written by the training
scripts, the region cache its run left (``<output>_run/footage-*``, or ``--run-dir``), embeds the
cached regions with the checkpoint's own encoder, and runs the training's fitting stage
(aivad.training.fitting.fit_model) again. Refitting with the code that trained the model gives the
same threshold to the last digit; with a change, the checkpoint is what training would have written.

    python benchmarks/refit.py out/dev_quality/vtest-dev-d/trained.ckpt --output out/refit/vtest-dev-d/trained.ckpt
    python benchmarks/dev_quality.py vtest-dev-d --reuse --skip-epochs0 --out out/refit   # score it

With ``--this-version`` a lite model also gets this version's frozen attributes (new lite settings,
the regions extracted again into a cache of their own beside the old one) while keeping its trained
encoder: the encoder trains on crops of the same regions, so that is what training would write.

Only for checkpoints trained from scratch (no base checkpoint), on this machine's copy of the videos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def refit(checkpoint: Path, output: Path, run_dir: Path | None = None, this_version: bool = False) -> dict:
    import lightning
    import numpy as np

    from aivad.features.backends import build_backend
    from aivad.live.detector import load_model
    from aivad.model.checkpoint import save_checkpoint, save_json, summary_path
    from aivad.model.config import ModelConfig
    from aivad.training.embedding import embed_footage
    from aivad.training.extraction import ShardStore, extract_footage
    from aivad.training.fitting import fit_model
    from aivad.training.summary import plain
    from aivad.video.files import validate_videos

    trained, info = load_model(checkpoint)
    settings = info["settings"]
    if info.get("base_checkpoint"):
        raise SystemExit(f"{checkpoint} was fine-tuned from a base checkpoint; refit only models trained from scratch.")
    run_dir = run_dir or checkpoint.with_name(checkpoint.stem + "_run")
    videos = validate_videos([Path(p) for p in settings["videos"]])
    config = ModelConfig.from_dict(trained.config.to_dict())
    config.alarm = config.false_alarm_model = config.scene_baseline = None  # what fitting sets
    if this_version:
        new_lite_settings(config)
    store = ShardStore(cache_folder(run_dir, config, settings, videos))
    if not this_version and not store.folder.is_dir():
        # training may have changed a setting after extraction (the appearance gate): its one cache, then
        caches = list(run_dir.glob("footage-*"))
        if len(caches) != 1:
            raise SystemExit(f"no region cache of this model in {run_dir} ({store.folder.name}); give --run-dir.")
        store = ShardStore(caches[0])
    backend = build_backend(config, None, "cpu")

    def quiet(*_args, **_kwargs) -> None:
        return None

    footage, _, _ = extract_footage(
        videos,
        backend,
        store,
        settings["max_train_crops"],
        settings["seed"],
        stride=settings["frame_stride"],
        max_pairs=settings["max_frames_per_video"],
        log=quiet,
    )
    if this_version:
        from aivad.training.pipeline import fit_config_to_footage

        fit_config_to_footage(config, footage, None)
    appearance = None
    if "appearance" in config.density:
        appearance = embed_footage(
            footage, videos, backend, trained.encoder, "cpu", config.inference_precision, log=quiet
        )
    stride = settings["frame_stride"]
    model, calibration = fit_model(
        config,
        trained.encoder,
        footage,
        appearance,
        None,
        encoder_changed=True,
        seed=settings["seed"],
        pairs_per_second=[(v.fps or 10.0) / stride for v in videos],
        false_alarms_per_hour=settings["false_alarms_per_hour"],
    )
    summary = {k: v for k, v in info.items() if k not in ("config", "threshold", "path", "source")}
    summary["calibration"] = calibration
    summary["refitted_from"] = str(checkpoint)
    payload = {
        "state_dict": model.state_dict(),
        "hyper_parameters": config.to_dict(),
        "pytorch-lightning_version": str(lightning.__version__),
        "aivad": plain(summary),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(output, payload)
    save_json(summary_path(output), plain(summary))
    print(
        f"{output}: threshold {calibration['threshold']:.4f} ({calibration['heldout']}), "
        f"was {float(np.asarray(info['threshold'])):.4f}"
    )
    return calibration


def new_lite_settings(config) -> None:
    """Give ``config`` this version's lite settings and attributes (the diff threshold and person choice kept)."""
    from aivad.features.lite import lite_frozen_attributes, new_model_settings
    from aivad.model.aivad_model import default_density_config

    if config.backend != "lite":
        raise SystemExit("--this-version refits lite models only.")
    old = config.backend_settings
    new = new_model_settings(old.get("diff_threshold", 18), person=bool(old.get("person_model"))).to_dict()
    components = config.density.get("velocity", {}).get("n_components")
    config.backend_settings = new
    attributes = [*lite_frozen_attributes(new["person_model"], new["shape_model"]), "appearance"]
    config.density = default_density_config(attributes, **({"velocity_components": components} if components else {}))


def cache_folder(run_dir: Path, config, settings: dict, videos) -> Path:
    """The region cache training keeps for these backend settings (aivad.training.pipeline names it the same way)."""
    from aivad.training.extraction import footage_key

    key = footage_key(
        videos,
        config.backend,
        config.backend_settings,
        config.weights,
        settings["frame_stride"],
        settings["max_frames_per_video"],
        settings["seed"],
        settings["max_train_crops"],
    )
    return run_dir / f"footage-{key}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, default=None, help="the training run's folder (default: beside it)")
    parser.add_argument("--this-version", action="store_true", help="lite: this version's attributes, same encoder")
    args = parser.parse_args()
    refit(args.checkpoint, args.output, args.run_dir, args.this_version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
