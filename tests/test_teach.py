"""Issue 26, item 1: teaching a checkpoint that a stretch of video is normal (``python -m aivad teach``)."""

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from helpers import train

from aivad.cli import main as cli_main
from aivad.console import run_main
from aivad.live.detector import Detector, load_model
from aivad.video.synthetic import render_scene

FAST = (15, 30)  # a runner: the stretch the tests teach as normal
FOREIGN = (60, 80)  # a foreign object later in the same video: must still alarm


def write_video(path: Path, frames: list, fps: int = 10) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.bit_rate = 300_000
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def two_anomalies(tmp_path_factory) -> Path:
    """100 frames of one scene: a runner at FAST, a foreign object at FOREIGN (the same walkers throughout)."""
    runner, _ = render_scene(100, (160, 120), seed=5, anomaly="fast", anomaly_frames=FAST)
    foreign, _ = render_scene(100, (160, 120), seed=5, anomaly="foreign", anomaly_frames=FOREIGN)
    return write_video(tmp_path_factory.mktemp("teach_video") / "two anomalies.mp4", runner[:50] + foreign[50:])


@pytest.fixture(scope="module")
def taught(tmp_path_factory, lite_checkpoint, two_anomalies) -> Path:
    output = tmp_path_factory.mktemp("taught") / "taught.ckpt"
    argv = ["teach", str(lite_checkpoint), str(two_anomalies), "--frames", f"{FAST[0]}:{FAST[1]}"]
    assert run_main(cli_main, [*argv, "--output", str(output), "--device", "cpu"]) == 0
    return output


def alarms(checkpoint: Path, video: Path) -> np.ndarray:
    """Frames in alarm, scored causally as live use does."""
    results = Detector.load(checkpoint, device="cpu").score_video(video, centred=False)
    return np.array([r.frame_index for r in results if r.is_anomaly])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def in_range(frames: np.ndarray, first: int, last: int) -> np.ndarray:
    return frames[(frames >= first) & (frames <= last)]


def test_teaching_a_stretch_removes_its_alarm_and_an_anomaly_elsewhere_still_alarms(
    lite_checkpoint, two_anomalies, taught
):
    before, after = alarms(lite_checkpoint, two_anomalies), alarms(taught, two_anomalies)
    assert len(in_range(before, FAST[0], FAST[1] + 10)) > 5  # the runner alarmed (and its smoothed tail)
    assert len(in_range(before, *FOREIGN)) > 0
    assert len(in_range(after, FAST[0], FAST[1] + 10)) == 0  # taught: gone
    assert len(in_range(after, *FOREIGN)) > 0  # not taught: still alarms


def test_no_score_rises_and_the_threshold_and_rate_model_are_kept(lite_checkpoint, lite_training_videos, taught):
    """The calibration stays honest: on normal footage every frame scores at most what it did before."""
    original, _ = load_model(lite_checkpoint)
    new, _ = load_model(taught)
    assert float(new.threshold) == float(original.threshold)
    assert new.config.false_alarm_model == original.config.false_alarm_model
    for video in lite_training_videos:
        old = Detector.load(lite_checkpoint, device="cpu").score_video(video, centred=False)
        now = Detector.load(taught, device="cpu").score_video(video, centred=False)
        assert all(b.raw_score <= a.raw_score + 1e-4 for a, b in zip(old, now))


def test_the_original_is_unchanged_and_output_may_not_be_it(tmp_path, lite_checkpoint, two_anomalies, taught, capsys):
    before = sha(lite_checkpoint)
    argv = ["teach", str(lite_checkpoint), str(two_anomalies), "--frames", "1:5", "--output", str(lite_checkpoint)]
    assert run_main(cli_main, argv) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert run_main(cli_main, ["teach", str(lite_checkpoint), str(two_anomalies), "--frames", "9:3"]) == 2
    assert sha(lite_checkpoint) == before
    original, _ = load_model(lite_checkpoint)
    assert "taught" not in load_model(lite_checkpoint)[1]
    assert original.densities["geometry"].bank.shape[0] < load_model(taught)[0].densities["geometry"].bank.shape[0]


def test_default_output_says_it_was_taught(tmp_path, lite_checkpoint, two_anomalies):
    copy = tmp_path / "cam.ckpt"
    copy.write_bytes(lite_checkpoint.read_bytes())
    assert run_main(cli_main, ["teach", str(copy), str(two_anomalies), "--frames", "3:6", "--device", "cpu"]) == 0
    assert (tmp_path / "cam_taught.ckpt").is_file()
    assert run_main(cli_main, ["teach", str(copy), str(two_anomalies), "--frames", "3:6", "--device", "cpu"]) == 0
    assert (tmp_path / "cam_taught2.ckpt").is_file()  # never over an earlier lesson either


def memory_of(path: Path) -> dict:
    model, _ = load_model(path)
    return {name: (d.bank if hasattr(d, "bank") else d.means).clone() for name, d in model.densities.items()}


def test_teaching_the_same_stretch_twice_adds_nothing_twice(tmp_path, two_anomalies, taught):
    again = tmp_path / "again.ckpt"
    argv = ["teach", str(taught), str(two_anomalies), "--frames", f"{FAST[0]}:{FAST[1]}", "--output", str(again)]
    assert run_main(cli_main, [*argv, "--device", "cpu"]) == 0
    first, second = memory_of(taught), memory_of(again)
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert len(load_model(again)[1]["taught"]) == 1
    # an overlapping stretch adds only its new frames
    wider = tmp_path / "wider.ckpt"
    frames = f"{FAST[0] - 3}:{FAST[1] + 2}"
    assert (
        run_main(cli_main, ["teach", str(taught), str(two_anomalies), "--frames", frames, "--output", str(wider)]) == 0
    )
    lesson = load_model(wider)[1]["taught"][-1]
    added = [(s["first"], s["last"]) for s in lesson["stretches"]]
    assert added == [(FAST[0] - 3, FAST[0] - 1), (FAST[1] + 1, FAST[1] + 2)]


def test_the_knn_memory_stays_capped(tmp_path, lite_checkpoint, two_anomalies):
    data = torch.load(lite_checkpoint, map_location="cpu", weights_only=True)
    data["hyper_parameters"]["max_bank"] = 60  # a small cap, so the taught rows must push old ones out
    small = tmp_path / "small.ckpt"
    torch.save(data, small)
    output = tmp_path / "small_taught.ckpt"
    argv = ["teach", str(small), str(two_anomalies), "--frames", "10:40", "--output", str(output), "--device", "cpu"]
    assert run_main(cli_main, argv) == 0
    model, info = load_model(output)
    for name, density in model.densities.items():
        if hasattr(density, "bank"):
            assert density.bank.shape[0] <= 60, name
    shifts = [m["scale_shift"] for m in info["taught"][0]["memory"].values()]
    assert all(s >= 0 for s in shifts) and any(s > 0 for s in shifts)  # dropped rows widened the scale, never narrowed


def test_the_taught_checkpoint_scores_and_info_lists_what_it_was_taught(tmp_path, taught, two_anomalies, capsys):
    csv = tmp_path / "scores.csv"
    assert run_main(cli_main, ["score", str(taught), str(two_anomalies), "--csv", str(csv), "--device", "cpu"]) == 0
    assert len(csv.read_text().splitlines()) == 101
    capsys.readouterr()
    assert run_main(cli_main, ["info", str(taught)]) == 0
    out = capsys.readouterr().out
    assert f"two anomalies.mp4 frames {FAST[0]}:{FAST[1]}" in out and "regions added: velocity" in out


def test_teaching_an_event_from_the_history(tmp_path, lite_checkpoint, two_anomalies):
    from aivad.live.event_store import EventStore

    database, events = tmp_path / "events.sqlite3", tmp_path / "events.csv"
    argv = ["score", str(lite_checkpoint), str(two_anomalies), "--csv", str(tmp_path / "s.csv"), "--causal"]
    assert run_main(cli_main, [*argv, "--events", str(events), "--events-db", str(database), "--device", "cpu"]) == 0
    with EventStore(database) as store:
        runner = min(store.events(), key=lambda e: e.start_frame)
    assert runner.start_frame <= FAST[1]
    output = tmp_path / "event_taught.ckpt"
    argv = ["teach", str(lite_checkpoint), "--events-db", str(database), "--event", str(runner.id)]
    assert run_main(cli_main, [*argv, "--output", str(output), "--device", "cpu"]) == 0
    stretch = load_model(output)[1]["taught"][0]["stretches"][0]
    assert (stretch["first"], stretch["last"]) == (runner.start_frame, runner.end_frame)
    assert run_main(cli_main, ["teach", str(lite_checkpoint), "--events-db", str(database), "--event", "999"]) == 2


def test_fine_tuning_from_a_taught_checkpoint_keeps_what_it_was_taught(tmp_path, lite_checkpoint, taught):
    original, new = memory_of(lite_checkpoint)["geometry"], memory_of(taught)["geometry"]
    taught_rows = new[len(original) :]  # teaching appends (no cap reached here)
    assert len(taught_rows) > 0
    video = render_scene(30, (160, 120), seed=7)[0]
    footage = write_video(tmp_path / "more normal.mp4", video)
    output = tmp_path / "tuned.ckpt"
    args = ["--videos", str(footage), "--init-checkpoint", str(taught), "--output", str(output)]
    assert train("finetune", [*args, "--epochs", "0", "--device", "cpu", "--num-workers", "0"]) == 0
    tuned = memory_of(output)["geometry"]
    assert all(bool((tuned == row).all(dim=1).any()) for row in taught_rows)
