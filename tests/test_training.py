"""Issue 2: both training scripts end to end, and proof that lr and epochs act on real parameters."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import LITE_FAST, train

from aivad.features.encoders import build_encoder
from aivad.features.lite import NEW_MODEL_VELOCITY_FEATURE
from aivad.live.detector import Detector, load_model
from aivad.video.synthetic import make_scene_video


def encoder_state(checkpoint: Path) -> dict:
    model, _ = load_model(checkpoint)
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


def initial_small_cnn_state() -> dict:
    return build_encoder("small_cnn").state_dict()


def test_from_scratch_lite_writes_checkpoint_summary_and_scores(lite_checkpoint, lite_training_videos):
    summary = json.loads(Path(str(lite_checkpoint) + ".json").read_text(encoding="utf-8"))
    assert summary["backend"] == "lite"
    assert [Path(v["path"]).name for v in summary["videos"]] == [p.name for p in lite_training_videos]
    assert all(v["frames"] == 40 and v["regions"] > 0 for v in summary["videos"])
    assert summary["settings"]["lr"] == 1e-4 and summary["settings"]["accumulate_grad_batches"] == 4
    assert summary["encoder_training"]["epochs_done"] == 2
    # Lightning checkpoint shape, loadable with weights_only=True
    raw = torch.load(lite_checkpoint, weights_only=True)
    assert {"state_dict", "hyper_parameters", "pytorch-lightning_version"} <= set(raw)
    # the loss was logged to CSV
    log_dir = Path(summary["encoder_training"]["log_dir"])
    assert "loss_step" in (log_dir / "metrics.csv").read_text()

    detector = Detector.load(lite_checkpoint, device="cpu")
    results = detector.score_video(lite_training_videos[0])
    assert len(results) == 40 and results[0].frame_index == 0
    assert all(np.isfinite(r.score) for r in results)
    assert np.isfinite(detector.threshold)


def test_nonzero_lr_changes_the_encoder_and_zero_lr_does_not(tmp_path, lite_training_videos):
    video = str(lite_training_videos[0])
    common = ["--videos", video, "--epochs", "1", "--max-frames-per-video", "20", *LITE_FAST]
    assert train("from_scratch", [*common, "--lr", "0", "--output", str(tmp_path / "lr0.ckpt")]) == 0
    assert train("from_scratch", [*common, "--lr", "1e-3", "--output", str(tmp_path / "lr.ckpt")]) == 0
    initial = initial_small_cnn_state()
    frozen, trained = encoder_state(tmp_path / "lr0.ckpt"), encoder_state(tmp_path / "lr.ckpt")
    assert all(torch.equal(initial[k], frozen[k]) for k in initial)
    changed = [k for k in initial if not torch.equal(initial[k], trained[k])]
    assert len(changed) == len(initial)  # every parameter tensor moved


def test_epochs_zero_keeps_the_encoder_frozen(tmp_path, lite_training_videos):
    output = tmp_path / "e0.ckpt"
    assert (
        train(
            "from_scratch",
            ["--videos", str(lite_training_videos[0]), "--epochs", "0", "--output", str(output), *LITE_FAST],
        )
        == 0
    )
    initial, stored = initial_small_cnn_state(), encoder_state(output)
    assert all(torch.equal(initial[k], stored[k]) for k in initial)
    summary = json.loads(Path(str(output) + ".json").read_text())
    assert summary["encoder_training"] == {}


def test_finetune_keeps_comparable_memory_and_never_touches_its_base(tmp_path, lite_checkpoint):
    base_bytes = hashlib.sha256(lite_checkpoint.read_bytes()).hexdigest()
    new_video = make_scene_video(tmp_path / "new footage.mp4", n_frames=30, size=(160, 120), seed=7)
    output = tmp_path / "ft.ckpt"
    args = [
        "--videos",
        str(new_video),
        "--init-checkpoint",
        str(lite_checkpoint),
        "--output",
        str(output),
        "--device",
        "cpu",
        "--num-workers",
        "0",
        "--batch-size",
        "8",
    ]
    assert train("finetune", [*args, "--epochs", "1"]) == 0
    assert hashlib.sha256(lite_checkpoint.read_bytes()).hexdigest() == base_bytes
    summary = json.loads(Path(str(output) + ".json").read_text())
    assert summary["backend"] == "lite"  # taken from the base
    assert summary["settings"]["lr"] == 1e-5 and summary["settings"]["epochs"] == 1
    # appearance changed with the encoder; the frozen attributes' memories compare and are kept
    assert sorted(summary["kept_from_base"]) == ["geometry", "shape", "velocity"]
    base_model, _ = load_model(lite_checkpoint)
    tuned_model, _ = load_model(output)
    base_rows = base_model.densities["geometry"].bank.shape[0]
    assert tuned_model.densities["geometry"].bank.shape[0] > base_rows  # old memory + new footage
    # the encoder continued from the base's weights, not from a fresh init
    base_enc, tuned_enc = base_model.encoder.state_dict(), tuned_model.encoder.state_dict()
    fresh = initial_small_cnn_state()
    distance = lambda a, b: sum(float((a[k] - b[k]).abs().sum()) for k in a)  # noqa: E731
    assert distance(tuned_enc, base_enc) < distance(tuned_enc, fresh)

    frozen_output = tmp_path / "ft0.ckpt"
    assert train("finetune", [*args, "--epochs", "0", "--output", str(frozen_output)]) == 0
    summary0 = json.loads(Path(str(frozen_output) + ".json").read_text())
    assert sorted(summary0["kept_from_base"]) == ["appearance", "geometry", "shape", "velocity"]


def test_finetune_without_base_says_how_to_get_one(tmp_path, capsys, lite_training_videos):
    import runpy

    from aivad.training.pipeline import run

    preset = runpy.run_path(str(Path(__file__).resolve().parents[1] / "train_aivad_finetune.py"))["PRESET"]
    code = run(
        preset,
        [
            "--videos",
            str(lite_training_videos[0]),
            "--init-checkpoint",
            str(tmp_path / "nope.ckpt"),
            "--output",
            str(tmp_path / "o.ckpt"),
            "--device",
            "cpu",
        ],
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "nope.ckpt" in err and "train_aivad_from_scratch.py" in err and "Traceback" not in err
    assert not (tmp_path / "o.ckpt").exists()


def test_help_lists_every_flag_with_defaults(capsys):
    import runpy

    for name, lr in (("finetune", "1e-05"), ("from_scratch", "0.0001")):
        preset = runpy.run_path(str(Path(__file__).resolve().parents[1] / f"train_aivad_{name}.py"))["PRESET"]
        from aivad.training.arguments import get_args_parser

        text = " ".join(get_args_parser(preset).format_help().split())
        for flag in (
            "--videos",
            "--lr",
            "--epochs",
            "--batch-size",
            "--accumulate-grad-batches",
            "--precision",
            "--gradient-clip-val",
            "--seed",
            "--num-workers",
            "--frame-stride",
            "--max-frames-per-video",
            "--output",
            "--init-checkpoint",
            "--weights",
            "--weights-dir",
            "--device",
            "--resume",
            "--backend",
        ):
            assert flag in text
        assert f"encoder (default: {lr})" in text


def test_script_runs_as_a_process_with_spawned_decoding_workers(tmp_path, lite_training_videos):
    """The real entry point, as a double-click runs it: spawn workers re-import the script safely."""
    import sys

    from helpers import run_process

    repo = Path(__file__).resolve().parents[1]
    output = tmp_path / "결과 모델.ckpt"
    result = run_process(
        [
            sys.executable,
            str(repo / "train_aivad_from_scratch.py"),
            "--videos",
            *map(str, lite_training_videos),
            "--output",
            str(output),
            "--backend",
            "lite",
            "--epochs",
            "1",
            "--num-workers",
            "2",
            "--device",
            "cpu",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.startswith("device: cpu (CPU forced with --device cpu)")
    summary = json.loads(Path(str(output) + ".json").read_text(encoding="utf-8"))
    assert [v["frame_pairs"] for v in summary["videos"]] == [39, 39]


def finetune_from_an_older_base(tmp_path, lite_checkpoint, make_older) -> tuple[dict, Path, Path]:
    """Fine-tune (``--epochs 0``) from a copy of ``lite_checkpoint`` whose stored hyper-parameters
    ``make_older`` edits the way an older version wrote them: (summary, base path, output path)."""
    data = torch.load(lite_checkpoint, map_location="cpu", weights_only=False)
    make_older(data["hyper_parameters"])
    older = tmp_path / "older lite.ckpt"
    torch.save(data, older)
    output = tmp_path / "ft.ckpt"
    new_video = make_scene_video(tmp_path / "new.mp4", n_frames=30, size=(160, 120), seed=8)
    args = ["--videos", str(new_video), "--init-checkpoint", str(older), "--output", str(output), "--epochs", "0"]
    assert train("finetune", [*args, "--device", "cpu", "--num-workers", "0"]) == 0
    return json.loads(Path(str(output) + ".json").read_text()), older, output


def older_velocity_feature(feature: str | None):
    """Edits stored hyper-parameters to an earlier version's velocity feature (None: before the setting)."""

    def edit(config: dict) -> None:
        if feature is None:
            config["backend_settings"].pop("velocity_feature")
        else:
            config["backend_settings"]["velocity_feature"] = feature

    return edit


@pytest.mark.parametrize("feature", [None, "speed"], ids=["direction histogram", "flow speed alone"])
def test_finetune_from_a_lite_base_with_an_older_velocity_feature_does_not_keep_its_velocity_memory(
    tmp_path, lite_checkpoint, feature
):
    """Lite checkpoints of earlier versions scored the direction histogram (8 numbers per region) or the
    flow's speed without the matched displacement; new models score the larger of speed and displacement,
    so an older velocity memory is not comparable and must not be merged."""
    summary, _, output = finetune_from_an_older_base(tmp_path, lite_checkpoint, older_velocity_feature(feature))
    assert "velocity" not in summary["kept_from_base"] and "geometry" in summary["kept_from_base"]
    tuned = load_model(output)[0].config
    assert tuned.backend_settings["velocity_feature"] == NEW_MODEL_VELOCITY_FEATURE
    # the geometry memory was kept because the perspective it was measured in was kept with it
    assert tuned.geometry_units == load_model(lite_checkpoint)[0].config.geometry_units


def test_finetune_from_a_lite_base_with_frame_geometry_refits_the_perspective_and_drops_that_memory(
    tmp_path, lite_checkpoint
):
    """A lite checkpoint of an earlier version stored box positions in the frame as geometry; new models
    score the box's size for its place and its shape, so that memory is not comparable."""
    summary, older, output = finetune_from_an_older_base(
        tmp_path, lite_checkpoint, lambda config: config.pop("geometry_units")
    )
    assert load_model(older)[0].config.geometry_units == {"kind": "frame"}
    assert "geometry" not in summary["kept_from_base"] and "appearance" in summary["kept_from_base"]
    assert load_model(output)[0].config.geometry_units["kind"] == "perspective"
