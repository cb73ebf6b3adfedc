"""Issue 13: streamed extraction into shards, a bounded crop sample, resumable after a crash."""

import numpy as np
import pytest
from helpers import LITE_FAST, train

from aivad.features.lite import LiteBackend
from aivad.training import extraction as footage_module
from aivad.training.embedding import embed_footage
from aivad.training.extraction import ShardStore, extract_footage
from aivad.training.footage import CropSample, region_keys
from aivad.video.files import validate_videos
from aivad.video.synthetic import make_scene_video


def test_region_keys_are_deterministic_and_spread_evenly():
    keys = np.concatenate([region_keys(v, f, 5, seed=42) for v in range(4) for f in range(500)])
    assert np.array_equal(keys[:5], region_keys(0, 0, 5, seed=42))
    assert not np.array_equal(keys[:5], region_keys(0, 0, 5, seed=43))
    assert 0.0 <= keys.min() and keys.max() < 1.0
    assert np.histogram(keys, bins=10, range=(0, 1))[0].min() > 0.08 * len(keys)  # ~uniform
    assert len(np.unique(keys)) == len(keys)


def test_crop_sample_does_not_depend_on_order_or_repeated_offers():
    rng = np.random.default_rng(0)
    ids = np.stack([np.zeros(200, int), np.arange(200), np.zeros(200, int)], axis=1)
    keys = rng.random(200)
    crops = rng.integers(0, 255, size=(200, 4, 4, 3), dtype=np.uint8)
    forward, backward, twice = CropSample(30), CropSample(30), CropSample(30)
    for start in range(0, 200, 40):
        forward.offer(keys[start : start + 40], ids[start : start + 40], crops[start : start + 40])
    for start in reversed(range(0, 200, 25)):
        backward.offer(keys[start : start + 25], ids[start : start + 25], crops[start : start + 25])
    for _ in range(2):
        twice.offer(keys, ids, crops)
    smallest = np.argsort(keys)[:30]
    for sample in (forward, backward, twice):
        assert len(sample) == 30
        assert np.array_equal(sample.ids, ids[smallest]) and np.array_equal(sample.crops, crops[smallest])


@pytest.fixture(scope="module")
def four_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("four")
    return [make_scene_video(folder / f"cam {i}.mp4", n_frames=14, size=(96, 72), seed=10 + i) for i in range(4)]


def test_shards_hold_no_crops_and_the_sample_is_bounded(tmp_path, four_videos, monkeypatch):
    videos = validate_videos(four_videos)
    store = ShardStore(tmp_path / "footage")
    footage, sample, stats = extract_footage(videos, LiteBackend(), store, max_crops=10, seed=1, log=lambda _: None)
    assert len(sample) == 10 and sample.crops.shape[1:] == (64, 64, 3)
    assert stats["shards"] == 4 and stats["shards_extracted"] == 4
    import torch

    for path in store.folder.glob("v*-s*.pt"):
        assert not any("crop" in key for key in torch.load(path, weights_only=True))
    # smaller shards give the same footage and the same sample
    monkeypatch.setattr(footage_module, "SHARD_FRAMES", 4)
    small = ShardStore(tmp_path / "small")
    again, sample_again, stats_again = extract_footage(
        videos, LiteBackend(), small, max_crops=10, seed=1, log=lambda _: None
    )
    assert stats_again["shards"] == 4 * 4  # frames 1..13 of each video in shards of 4 frames
    for name in ("video_index", "frame_index", "region_pair", "boxes", "whole_frame"):
        assert np.array_equal(getattr(footage, name), getattr(again, name))
    assert np.array_equal(footage.frozen["velocity"], again.frozen["velocity"])
    assert np.array_equal(sample.ids, sample_again.ids) and np.array_equal(sample.crops, sample_again.crops)


def test_embedding_pass_cuts_the_same_crops_as_extraction(tmp_path, four_videos):
    from aivad.features.encoders import build_encoder
    from aivad.video.files import iter_frame_pairs

    videos = validate_videos(four_videos[:2])
    backend = LiteBackend()
    footage, _, _ = extract_footage(
        videos, backend, ShardStore(tmp_path / "f"), max_crops=5, seed=0, log=lambda _: None
    )
    encoder = build_encoder("small_cnn")
    embedded = embed_footage(footage, videos, backend, encoder, "cpu", "auto", log=lambda _: None)
    direct = []
    for info in videos:
        for _, previous, frame in iter_frame_pairs(info.path):
            direct.append(encoder.embed(backend.extract_pair(previous, frame).crops))
    assert np.allclose(embedded, np.concatenate(direct), atol=1e-6)


def test_a_run_stopped_in_the_third_of_four_videos_resumes_with_the_same_result(
    tmp_path, four_videos, monkeypatch, capsys
):
    from aivad.live.detector import Detector

    args = ["--videos", *map(str, four_videos), "--epochs", "1", "--seed", "3", *LITE_FAST]
    reference = tmp_path / "reference.ckpt"
    assert train("from_scratch", [*args, "--output", str(reference)]) == 0

    output, run_dir = tmp_path / "model.ckpt", tmp_path / "run"
    real = LiteBackend.extract_pair
    calls = {"n": 0}

    def power_cut(self, previous, frame):
        calls["n"] += 1
        if calls["n"] == 2 * 13 + 5:  # the 5th pair of the third video
            raise KeyboardInterrupt
        return real(self, previous, frame)

    monkeypatch.setattr(LiteBackend, "extract_pair", power_cut)
    with pytest.raises(KeyboardInterrupt):
        train("from_scratch", [*args, "--output", str(output), "--run-dir", str(run_dir)])
    shards = sorted(p.name for p in run_dir.glob("footage-*/v*-s*.pt"))
    assert shards == ["v00000-s000000.pt", "v00001-s000000.pt"] and not output.exists()

    monkeypatch.setattr(LiteBackend, "extract_pair", real)
    capsys.readouterr()
    assert train("from_scratch", [*args, "--output", str(output), "--run-dir", str(run_dir)]) == 0
    assert "reusing 2 finished shard(s)" in capsys.readouterr().out
    test_video = make_scene_video(
        tmp_path / "test.mp4", n_frames=20, size=(96, 72), seed=99, anomaly="fast", anomaly_frames=(8, 14)
    )
    resumed = [r.raw_score for r in Detector.load(output, device="cpu").score_video(test_video)]
    uninterrupted = [r.raw_score for r in Detector.load(reference, device="cpu").score_video(test_video)]
    assert np.allclose(resumed, uninterrupted, atol=1e-5)
    import json

    summary = json.loads((tmp_path / "model.ckpt.json").read_text())
    assert summary["footage"]["shards"] == 4 and summary["footage"]["shards_reused"] == 2
    assert summary["training_sample"] == summary["footage"]["regions"]  # fewer regions than --max-train-crops


def test_two_cpu_processes_train_the_same_model_as_one(tmp_path):
    """--accelerator cpu --devices 2: Lightning's DDP over gloo; each process extracts and embeds one
    video, the encoder trains on slices of the same global batches, rank 0 writes the checkpoint."""
    import sys

    from helpers import REPO_ROOT, run_process

    from aivad.live.detector import Detector

    videos = [make_scene_video(tmp_path / f"cam{i}.mp4", n_frames=24, size=(96, 72), seed=20 + i) for i in range(2)]
    test_video = make_scene_video(
        tmp_path / "test.mp4", n_frames=24, size=(96, 72), seed=50, anomaly="fast", anomaly_frames=(8, 16)
    )
    scores = {}
    for devices in (1, 2):
        output = tmp_path / f"devices{devices}.ckpt"
        command = [
            sys.executable,
            str(REPO_ROOT / "train_aivad_from_scratch.py"),
            "--videos",
            *map(str, videos),
            "--backend",
            "lite",
            "--accelerator",
            "cpu",
            "--devices",
            str(devices),
            "--num-workers",
            "0",
            "--batch-size",
            "8",
            "--epochs",
            "2",
            "--output",
            str(output),
        ]
        done = run_process(command, cwd=tmp_path)  # both processes, whatever happens
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        scores[devices] = np.array([r.raw_score for r in Detector.load(output, device="cpu").score_video(test_video)])
    assert "2 processes (DDP)" in done.stdout
    assert np.allclose(scores[1], scores[2], atol=1e-4), np.abs(scores[1] - scores[2]).max()
    assert not list(tmp_path.glob("devices2_run/appearance-r*.npy"))
