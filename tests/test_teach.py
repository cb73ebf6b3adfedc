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


def velocity_density(path: Path):
    return load_model(path)[0].densities["velocity"]


def test_velocity_far_from_the_lesson_is_not_lowered_to_normal(lite_checkpoint, taught):
    """Teaching lowers velocity near the taught speeds, at the taught places, only: no scale shift; a speed six
    kernel widths from every taught one keeps its score or stays at least where a kernel that far puts it (far
    above any threshold); the taught speeds themselves, three box heights above or below where they were taught,
    stay at or above the alarm level (or where they were). (Ordinary speeds kept exactly: the next test.)"""
    from aivad.model.lessons import COVERED_LEVEL, KERNEL_VARIANCE

    before, after = velocity_density(lite_checkpoint), velocity_density(taught)
    kernels = after.means[len(before.means) :]
    assert len(kernels) > 0  # the runner's speeds were unusual: the lesson added kernels
    assert len(after.taught_places) == len(kernels)  # each kernel holds where it was taught
    assert (float(after.low), float(after.high)) == (float(before.low), float(before.high))
    speeds = torch.linspace(0.0, 60.0, 1201, dtype=torch.float64)[:, None]
    width = (KERNEL_VARIANCE * after.reg_covar) ** 0.5
    distance, nearest = torch.cdist(speeds, kernels).min(dim=1)
    far, near = distance > 6 * width, distance < 0.1 * width
    assert far.sum() > 100 and near.sum() > 0
    there = after.taught_places[nearest]  # each speed at the place of the kernel nearest to it
    elsewhere = there.clone()
    elsewhere[:, 0] += 3 * there[:, 1]  # three of its box heights lower in the frame, the same size
    with torch.no_grad():
        old = before.score(speeds.float(), places=there)
        new, new_elsewhere = after.score(speeds.float(), places=there), after.score(speeds.float(), places=elsewhere)
    floor = (0.5 * 6**2 - np.log(2)) / float(after.high - after.low)  # a kernel six widths away, calibrated
    assert floor > 3.0
    assert bool((new[far] >= torch.minimum(old[far], torch.tensor(floor)) - 1e-4).all())
    assert bool((new <= old + 1e-5).all())  # and nowhere higher
    assert bool((new[near] <= COVERED_LEVEL + 0.01).all())  # at the taught speeds and places: as normal as usual
    assert bool((old[near] > 1.0).any())  # ... some of which alarmed before
    # elsewhere the lesson brings no speed under the alarm level (nor under where it was)
    assert bool((new_elsewhere[near] >= torch.minimum(old[near], torch.tensor(1.0)) - 1e-4).all())


def test_gmm_teaching_puts_kernels_only_where_the_model_was_surprised():
    """A GMM of walking speeds: a taught fast speed scores as normal; walking speeds stay exactly as they were."""
    from aivad.model.density import GmmDensity
    from aivad.model.lessons import COVERED_LEVEL, add_to_gmm

    generator = torch.Generator().manual_seed(0)
    walking = 2.0 + torch.randn(2000, 1, generator=generator)
    density = GmmDensity(n_components=3, reg_covar=1.0)
    density.fit_estimator(walking)
    raw = density.raw_scores(walking)
    density.set_scale(float(raw.median()), float(torch.quantile(raw.double(), 0.99)))
    probes = torch.tensor([[0.5], [2.0], [3.5], [8.0]])
    before = density.score(probes)
    assert before[3] > 1.0  # 8 is unusual before teaching
    change = add_to_gmm(density, torch.tensor([[7.9], [8.0], [8.1], [2.1]]))
    after = density.score(probes)
    assert change["kernels_added"] == 1 and change["scale_shift"] == 0.0  # one kernel covers 7.9-8.1; 2.1 is usual
    assert after[3] <= COVERED_LEVEL
    assert torch.allclose(after[:3], before[:3], atol=1e-4)  # walking speeds: unchanged
    again = add_to_gmm(density, torch.tensor([[8.0]]))
    assert again["kernels_added"] == 0  # already taught: nothing added twice


def test_a_refitted_gmm_gets_its_lessons_back_from_the_taught_centres():
    """What a fine-tune that refits the velocity GMM calls to keep the lessons (aivad.model.lessons.taught_centres)."""
    from aivad.model.density import GmmDensity
    from aivad.model.lessons import COVERED_LEVEL, add_to_gmm, taught_centres

    def fitted(seed: int) -> GmmDensity:
        walking = 2.0 + torch.randn(2000, 1, generator=torch.Generator().manual_seed(seed))
        density = GmmDensity(n_components=3, reg_covar=1.0)
        density.fit_estimator(walking)
        raw = density.raw_scores(walking)
        density.set_scale(float(raw.median()), float(torch.quantile(raw.double(), 0.99)))
        return density

    base = fitted(0)
    # two fast regions near the camera: boxes 120 px tall, bottom of a 576-px frame (vertical centre, height, width)
    near_camera = torch.tensor([[500.0, 120.0, 50.0], [480.0, 118.0, 52.0]], dtype=torch.float64)
    lessons = [{"memory": {"velocity": add_to_gmm(base, torch.tensor([[8.0], [11.0]]), near_camera)}}]
    centres, places = taught_centres(base, lessons)
    assert sorted(centres[:, 0].tolist()) == [8.0, 11.0]
    assert torch.equal(places[torch.argsort(centres[:, 0])], near_camera)
    refit = fitted(1)  # a fine-tune's new GMM: the lesson is gone
    assert bool((refit.score(centres, places=places) > 1.0).all())
    add_to_gmm(refit, centres, places)
    assert bool((refit.score(centres, places=places) <= COVERED_LEVEL).all())
    far_away = places.clone()
    far_away[:, :2] = torch.tensor([250.0, 40.0], dtype=torch.float64)  # a person across the lawn, 40 px tall
    assert bool((refit.score(centres, places=far_away) > 1.0).all())  # the lesson holds where it was taught


def test_older_lessons_without_places_hold_everywhere_and_new_ones_keep_their_places():
    """A velocity GMM taught before places were stored keeps its kernels for every region; a later lesson with
    places holds only there, and the two kinds of kernel live side by side in one mixture."""
    from aivad.model.density import GmmDensity
    from aivad.model.lessons import COVERED_LEVEL, add_to_gmm

    walking = 2.0 + torch.randn(2000, 1, generator=torch.Generator().manual_seed(0))
    density = GmmDensity(n_components=3, reg_covar=1.0)
    density.fit_estimator(walking)
    raw = density.raw_scores(walking)
    density.set_scale(float(raw.median()), float(torch.quantile(raw.double(), 0.99)))
    add_to_gmm(density, torch.tensor([[8.0]]))  # an older lesson: no places
    assert len(density.taught_places) == 0
    here = torch.tensor([[500.0, 120.0, 50.0]], dtype=torch.float64)
    add_to_gmm(density, torch.tensor([[14.0]]), here)
    assert len(density.taught_places) == 1
    state = {k: v.clone() for k, v in density.state_dict().items()}
    loaded = GmmDensity(n_components=3, reg_covar=1.0)
    loaded.load_state_dict(state)
    there = torch.tensor([[200.0, 30.0, 12.0]], dtype=torch.float64)
    for d in (density, loaded):
        assert float(d.score(torch.tensor([[8.0]]), places=there)) <= COVERED_LEVEL  # everywhere
        assert float(d.score(torch.tensor([[14.0]]), places=here)) <= COVERED_LEVEL  # here
        assert float(d.score(torch.tensor([[14.0]]), places=there)) > 1.0  # not there
        assert float(d.score(torch.tensor([[14.0]]))) > 1.0  # nor where the place is unknown
    older = {k: v for k, v in state.items() if k != "taught_places"}  # a checkpoint written before places
    old = GmmDensity(n_components=3, reg_covar=1.0)
    old.load_state_dict(older)
    assert len(old.taught_places) == 0 and float(old.score(torch.tensor([[14.0]]), places=there)) <= COVERED_LEVEL


def test_a_checkpoint_taught_by_the_earlier_design_loads_and_learns_more(tmp_path, lite_checkpoint, two_anomalies):
    """Before the kernels, a velocity lesson was a wide component weighing as much as the whole GMM, with the scale
    raised by log(total/mass): such a file (made here by that rule) still loads, scores and can be taught more."""
    import math

    data = torch.load(lite_checkpoint, map_location="cpu", weights_only=True)
    prefix = "densities.velocity."
    state = data["state_dict"]
    means, log_weights = state[prefix + "means"], state[prefix + "log_weights"]
    width = state[prefix + "precisions_cholesky"][:1] / 2.0  # a component twice as wide as the first one
    total = 2.0  # the trained GMM's mass 1 plus one taught component of mass 1
    state[prefix + "means"] = torch.cat([means, means[:1] + 5.0])
    state[prefix + "precisions_cholesky"] = torch.cat([state[prefix + "precisions_cholesky"], width])
    state[prefix + "log_det"] = torch.cat([state[prefix + "log_det"], torch.log(torch.diagonal(width[0])).sum()[None]])
    state[prefix + "log_weights"] = torch.cat([log_weights - math.log(total), torch.tensor([-math.log(total)])])
    for end in ("low", "high"):
        state[prefix + end] = state[prefix + end] + math.log(total)
    lesson = {"at": "2026-12-07T02:06:26", "from": "x", "stretches": [], "regions": {"velocity": 5}}
    data["aivad"]["taught"] = [dict(lesson, memory={"velocity": {"components_added": 1, "scale_shift": math.log(2)}})]
    old = tmp_path / "old_taught.ckpt"
    torch.save(data, old)
    assert alarms(old, two_anomalies) is not None  # loads and scores
    output = tmp_path / "more.ckpt"
    argv = ["teach", str(old), str(two_anomalies), "--frames", f"{FAST[0]}:{FAST[1]}", "--output", str(output)]
    assert run_main(cli_main, [*argv, "--device", "cpu"]) == 0
    model, info = load_model(output)
    assert len(info["taught"]) == 2 and len(model.densities["velocity"].means) > len(means) + 1
    assert len(in_range(alarms(output, two_anomalies), FAST[0], FAST[1] + 10)) == 0


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


def test_fine_tuning_from_a_taught_checkpoint_keeps_its_knn_lessons(tmp_path, lite_checkpoint, taught):
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


def test_a_fine_tune_from_a_taught_checkpoint_keeps_its_velocity_lesson(tmp_path, two_anomalies, taught):
    """The fine-tune refits the velocity GMM on samples, which folds the lesson's narrow kernels away; training puts
    the taught speeds back (aivad.training.fitting.keep_velocity_lessons), as teaching placed them."""
    from helpers import LITE_FAST

    output = tmp_path / "tuned from taught.ckpt"
    from aivad.video.synthetic import make_scene_video

    # new normal footage of the same camera (a fine-tune on the base's own videos would count them twice)
    new_footage = [
        make_scene_video(tmp_path / f"more normal {s}.mp4", n_frames=40, size=(160, 120), seed=s) for s in (3, 4)
    ]
    args = ["--videos", *map(str, new_footage), "--output", str(output), "--epochs", "0"]
    assert train("finetune", [*args, "--init-checkpoint", str(taught), *LITE_FAST]) == 0
    calibration = Detector.load(output, device="cpu").info["calibration"]
    assert calibration["velocity_lessons_kept"] > 0
    detector = Detector.load(output, device="cpu")
    results = detector.score_video(two_anomalies, centred=False)
    runner = [r for r in results if FAST[0] <= r.frame_index <= FAST[1] + 10]
    # still taught: the runner's speed stays under the alarm level (on this tiny footage another attribute
    # may flicker there: the lesson is about velocity, which alone raised the runner's alarm before it)
    assert max(r.smoothed_attribute_scores["velocity"] for r in runner) < float(detector.model.threshold)
    assert len(in_range(alarms(output, two_anomalies), *FOREIGN)) > 0  # and the rest still alarms
