"""Issue 4: the scoring commands, smoothing modes, threshold override and checkpoint info."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import run_process

from aivad.cli import main as cli_main
from aivad.console import run_main
from aivad.live.results import CSV_COLUMNS
from aivad.model.scoring import smooth_sequence
from aivad.video.synthetic import make_scene_video

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args) -> int:
    return run_main(cli_main, [str(a) for a in args])


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def test_video(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    video = make_scene_video(
        folder / "test clip.mp4", n_frames=40, size=(160, 120), seed=5, anomaly="fast", anomaly_frames=(15, 30)
    )
    labels = np.zeros(40, np.uint8)
    labels[15:30] = 1
    np.save(folder / "labels.npy", labels)
    with open(folder / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame_index", "label"])
        writer.writerows(enumerate(labels.tolist()))
    return video, folder


def test_score_writes_one_row_per_frame_and_an_annotated_video(tmp_path, lite_checkpoint, test_video):
    video, _ = test_video
    out_csv, out_video = tmp_path / "scores.csv", tmp_path / "annotated.mp4"
    assert run_cli("score", lite_checkpoint, video, "--csv", out_csv, "--annotated", out_video, "--device", "cpu") == 0
    rows = read_csv(out_csv)
    assert list(rows[0]) == CSV_COLUMNS
    assert [int(r["frame_index"]) for r in rows] == list(range(40))
    assert float(rows[1]["time_s"]) == pytest.approx(0.1)
    assert {r["top_attribute"] for r in rows[1:]} <= {"velocity", "geometry", "appearance"}
    assert {r["camera"] for r in rows} == {""}  # a still camera
    from aivad.video.files import probe_video

    assert probe_video(out_video).n_frames == 40


def test_evaluate_agrees_with_auroc_from_the_score_csv(tmp_path, capsys, lite_checkpoint, test_video):
    from sklearn.metrics import roc_auc_score

    video, folder = test_video
    out_csv = tmp_path / "scores.csv"
    assert run_cli("score", lite_checkpoint, video, "--csv", out_csv, "--device", "cpu") == 0
    capsys.readouterr()
    for labels in ("labels.npy", "labels.csv"):
        assert run_cli("evaluate", lite_checkpoint, video, "--labels", folder / labels, "--device", "cpu") == 0
        printed = capsys.readouterr().out
        auroc = float(printed.split("AUROC (frame-level, micro):")[1].split()[0])
        rows = read_csv(out_csv)
        expected = roc_auc_score(np.load(folder / "labels.npy"), [float(r["score"]) for r in rows])
        assert auroc == pytest.approx(expected, abs=1e-4)
        assert "average precision" in printed and "best F1" in printed


def test_causal_scores_are_the_past_only_smoothing_of_raw_scores(tmp_path, lite_checkpoint, test_video):
    video, _ = test_video
    causal_csv, centred_csv = tmp_path / "causal.csv", tmp_path / "centred.csv"
    assert run_cli("score", lite_checkpoint, video, "--csv", causal_csv, "--causal", "--device", "cpu") == 0
    assert run_cli("score", lite_checkpoint, video, "--csv", centred_csv, "--device", "cpu") == 0
    causal, centred = read_csv(causal_csv), read_csv(centred_csv)
    raw = np.array([float(r["raw_score"]) for r in causal])
    assert np.allclose(raw, [float(r["raw_score"]) for r in centred])
    from aivad.live.detector import Detector

    detector = Detector.load(lite_checkpoint, device="cpu")
    frames = detector.score_video(video, centred=False)[1:]  # frame 0 has no previous frame: smoothing starts at 1
    attributes = {name: np.array([r.attribute_scores[name] for r in frames]) for name in frames[0].attribute_scores}
    expected, _ = smooth_sequence(raw[1:], attributes, detector.smoothing_sigma, detector.combine, centred=False)
    assert np.allclose([float(r["score"]) for r in causal[1:]], expected, atol=1e-5)
    assert not np.allclose([float(r["score"]) for r in causal], [float(r["score"]) for r in centred])


def test_threshold_override_changes_the_decisions(tmp_path, lite_checkpoint, test_video):
    video, _ = test_video
    low, high = tmp_path / "low.csv", tmp_path / "high.csv"
    assert run_cli("score", lite_checkpoint, video, "--csv", low, "--threshold", "-1000", "--device", "cpu") == 0
    assert run_cli("score", lite_checkpoint, video, "--csv", high, "--threshold", "1000", "--device", "cpu") == 0
    assert all(r["is_anomaly"] == "1" for r in read_csv(low))
    assert all(r["is_anomaly"] == "0" for r in read_csv(high))


def test_frame_score_is_the_most_unusual_calibrated_attribute(lite_checkpoint, test_video):
    from aivad.live.detector import Detector

    detector = Detector.load(lite_checkpoint, device="cpu")
    assert detector.combine == "max_smoothed"
    for result in detector.score_video(test_video[0])[1:]:
        # the score is the largest smoothed attribute: the one the window names as the cause
        assert result.score == pytest.approx(max(result.smoothed_attribute_scores.values()), abs=1e-9)
        assert result.smoothed_attribute_scores[result.top_attribute] == pytest.approx(result.score, abs=1e-9)
        assert result.raw_score == pytest.approx(max(result.attribute_scores.values()), abs=1e-6)
        for name, value in result.attribute_scores.items():
            # regions without the attribute (lite regions too thin for an appearance) are skipped; none: 0
            having = [region.attributes[name] for region in result.regions if name in region.attributes]
            assert value == pytest.approx(max(having, default=0.0), abs=1e-6)
        for region in result.regions:
            assert region.score == pytest.approx(max(region.attributes.values()), abs=1e-6)
        # the top region is the one that raised the frame score, so an alarm names its region
        assert max(region.score for region in result.regions) == pytest.approx(result.raw_score, abs=1e-6)


def test_info_describes_the_checkpoint(capsys, lite_checkpoint, lite_training_videos):
    assert run_cli("info", lite_checkpoint) == 0
    text = capsys.readouterr().out
    assert "backend:    lite" in text and "threshold:" in text
    assert all(p.name in text for p in lite_training_videos)
    # seconds of footage: the default is the rarest rate they can count, and info says what gives fewer
    (alarms,) = [line for line in text.splitlines() if line.startswith("alarms:")]
    assert "false alarm(s) per hour" in alarms and "train on more footage for fewer" in alarms
    assert "view:       stored (96x72 grey picture)" in text  # this version's training stores its view


@pytest.mark.parametrize(
    "args, expected",
    [
        (["score", "missing.ckpt", "v.mp4", "--csv", "o.csv"], "does not exist"),
        (["info", "missing.ckpt"], "does not exist"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path, capsys, args, expected):
    assert run_cli(*[str(tmp_path / a) if a.endswith((".ckpt", ".mp4")) else a for a in args]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _blocked(tmp_path: Path, kind: str) -> Path:
    """An output path the user cannot have meant: under an existing file, or an existing folder."""
    if kind == "under-a-file":
        (tmp_path / "some_file").write_text("not a folder", encoding="utf-8")
        return tmp_path / "some_file" / "out.csv"
    (tmp_path / "a folder").mkdir()
    return tmp_path / "a folder"


@pytest.mark.parametrize("kind, expected", [("under-a-file", "is a file, not a folder"), ("folder", "is a folder")])
@pytest.mark.parametrize(
    "command, flag",
    [
        ("score", "--csv"),
        ("score", "--annotated"),
        ("score", "--events"),
        ("score", "--events-db"),
        ("evaluate", "--csv"),
        ("evaluate", "--json"),
    ],
)
def test_unwritable_output_paths_fail_before_any_work(
    tmp_path, capsys, monkeypatch, tiny_video, command, flag, kind, expected
):
    from aivad.live.detector import Detector

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded before the output paths were checked")

    monkeypatch.setattr(Detector, "load", no_work)
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"never read: the paths are wrong")
    labels = tmp_path / "labels.npy"
    np.save(labels, np.zeros(12, np.uint8))
    outputs = {"--csv": tmp_path / "scores.csv", flag: _blocked(tmp_path, kind)}
    args = [command, checkpoint, tiny_video(), *(["--labels", labels] if command == "evaluate" else [])]
    for name, path in outputs.items():
        args += [name, path]
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert f"{flag} {outputs[flag]} " in err and expected in err
    assert "Traceback" not in err and "unexpected" not in err and len(err.strip().splitlines()) == 1


def test_an_output_never_replaces_an_input(tmp_path, capsys, tiny_video):
    video = tiny_video()
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"never read")
    assert run_cli("score", checkpoint, video, "--csv", tmp_path / "s.csv", "--annotated", video) == 2
    assert "--annotated" in capsys.readouterr().err
    assert run_cli("score", checkpoint, video, "--csv", tmp_path / "s.csv", "--events", tmp_path / "s.csv") == 2
    assert "--csv and --events both name" in capsys.readouterr().err


def test_a_missing_video_names_the_command_line_argument(tmp_path, capsys, lite_checkpoint):
    missing = tmp_path / "missing.mp4"
    assert run_cli("score", lite_checkpoint, missing, "--csv", tmp_path / "out.csv") == 2
    err = capsys.readouterr().err
    assert f"the video {missing} given to python -m aivad score cannot be used (missing)" in err
    assert "video_files_list.py" not in err and "--videos" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_info_says_a_lite_model_has_no_pretrained_weights(capsys, lite_checkpoint):
    assert run_cli("info", lite_checkpoint) == 0
    lines = capsys.readouterr().out.splitlines()
    (weights,) = [line for line in lines if line.startswith("weights:")]
    assert weights.startswith("weights:    none (lite backend") and "trained from random initialisation" in weights


def test_module_help_runs_as_a_process():
    result = run_process([sys.executable, "-m", "aivad", "score", "--help"], cwd=REPO)
    assert result.returncode == 0 and "--annotated" in result.stdout and "--causal" in result.stdout


def test_a_viewer_that_skips_frames_measures_motion_between_true_neighbours(lite_checkpoint):
    """With the true previous frame passed in, each kept frame scores as its own consecutive pair."""
    from aivad.live.detector import Detector
    from aivad.video.synthetic import render_scene

    frames, _ = render_scene(30, (160, 120), seed=3)
    detector = Detector.load(lite_checkpoint, device="cpu")
    detector.smoothing_sigma = 0
    kept = range(5, 30, 3)

    def pair_score(i: int) -> float:
        detector.reset()
        detector.process(frames[i - 1])
        return detector.process(frames[i]).raw_score

    reference = [pair_score(i) for i in kept]
    detector.reset()
    detector.process(frames[2])
    with_previous = [detector.process(frames[i], previous=frames[i - 1]).raw_score for i in kept]
    detector.reset()
    detector.process(frames[2])
    across_gaps = [detector.process(frames[i]).raw_score for i in kept]
    assert np.allclose(with_previous, reference, atol=1e-5)
    assert not np.allclose(across_gaps, reference, atol=1e-3)


def test_evaluate_reports_events_with_segments_boxes_and_json(tmp_path, capsys, lite_checkpoint, test_video):
    import json

    video, folder = test_video
    segments, boxes, report = tmp_path / "segments.csv", tmp_path / "boxes.csv", tmp_path / "report.json"
    segments.write_text("name,first_frame,last_frame\nfast_object,15,29\n", encoding="utf-8")
    boxes.write_text(
        "frame_index,name,x0,y0,x1,y1\n" + "".join(f"{i},fast_object,0,0,160,120\n" for i in range(15, 30)),
        encoding="utf-8",
    )
    args = [
        "evaluate",
        lite_checkpoint,
        video,
        "--labels",
        folder / "labels.npy",
        "--segments",
        segments,
        "--boxes",
        boxes,
        "--json",
        report,
        "--device",
        "cpu",
    ]
    assert run_cli(*args, "--threshold", "-1000") == 0  # every frame above: the anomaly is found at once
    printed = capsys.readouterr().out
    assert "fast_object: detected after" in printed and "false-alarm events" in printed
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (
        data["segments"][0]["detected"] and data["segments"][0]["delay_frames"] <= 3
    )  # the minimum duration at 10 FPS
    assert data["normal_seconds"] == pytest.approx(25 / 10)
    assert data["localisation"]["fast_object"]["alarmed_frames"] == 15
    # far more expected false alarms than the calibrated 1 per hour (events closer than the merge gap count once)
    assert data["false_alarms_per_hour_expected"] is not None and data["false_alarms_per_hour_expected"] > 100
    assert run_cli(*args, "--threshold", "1000") == 0  # nothing reaches it: missed, no false alarm
    data = json.loads(report.read_text(encoding="utf-8"))
    assert not data["segments"][0]["detected"] and data["false_alarm_events"] == 0 and "localisation" in data
    assert "MISSED" in capsys.readouterr().out
    segments.write_text("first,last\n1,2\n", encoding="utf-8")
    assert run_cli(*args) == 2
    assert "needs the columns" in capsys.readouterr().err


def test_checkpoint_stores_a_threshold_for_the_requested_false_alarm_rate(
    tmp_path, lite_checkpoint, lite_training_videos
):
    from aivad.live.detector import Detector

    detector = Detector.load(lite_checkpoint, device="cpu")
    calibration = detector.info["calibration"]
    # seconds of footage cannot count 1 per hour: the default is the rarest rate they can count, not a guess
    supported = calibration["false_alarms_per_hour_supported"]
    assert supported == pytest.approx(calibration["rarest_countable_per_hour"]) and supported > 100
    assert detector.expected_false_alarms_per_hour() == pytest.approx(supported, rel=1e-3)
    assert detector.expected_false_alarms_per_hour(detector.threshold * 0.5) > supported
    assert detector.alarm_rule.threshold == pytest.approx(detector.threshold)
    assert calibration["heldout"].startswith("4 folds (blocks with a gap")  # two videos, two blocks each
    assert set(calibration["attribute_scale"]) == {"velocity", "geometry", "shape", "appearance"}
    # the summary says why the default is not 1 per hour and what to do for fewer
    assert "the default threshold is set for about" in calibration["extrapolation_note"]
    assert "train on at least 1 hour(s) of normal footage" in calibration["extrapolation_note"]


def test_score_adds_its_events_to_the_event_history(tmp_path, lite_checkpoint, test_video):
    """--events-db writes the events --events lists into the database the window's history reads."""
    from aivad.live.event_store import EventStore

    video, _ = test_video
    database = tmp_path / "이벤트 폴더" / "events.sqlite3"
    common = ["score", lite_checkpoint, video, "--csv", tmp_path / "s.csv", "--device", "cpu", "--threshold", "0"]
    assert run_cli(*common, "--events", tmp_path / "events.csv", "--events-db", database) == 0
    listed = list(csv.DictReader((tmp_path / "events.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert listed, "threshold 0 must raise at least one event"
    with EventStore(database) as store:
        kept = sorted(store.events(), key=lambda e: e.start_frame)
    assert [e.start_frame for e in kept] == [int(row["start_frame"]) for row in listed]
    assert [e.end_frame for e in kept] == [int(row["end_frame"]) for row in listed]
    assert [round(e.peak_score, 4) for e in kept] == [float(row["peak_score"]) for row in listed]
    assert {e.camera for e in kept} == {"test clip.mp4"} and {e.source for e in kept} == {str(video)}

    assert run_cli(*common, "--events-db", database) == 0  # a second run adds to the same history
    with EventStore(database) as store:
        assert len(store.events()) == 2 * len(kept)
        assert len({e.session for e in store.events()}) == 2


def test_the_score_csv_says_when_the_camera_showed_nothing(tmp_path, lite_checkpoint, test_video):
    """A covered lens in the middle of the clip: its frames (and the moment after) say "no picture"."""
    import cv2

    from aivad.live.camera_notes import CAMERA_HOLD_FRAMES
    from aivad.video.files import read_frames

    frames = [frame for _, frame in read_frames(test_video[0])]
    video = tmp_path / "가려진 렌즈.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, frames[0].shape[1::-1])
    for i, frame in enumerate(frames):
        writer.write(np.full_like(frame, 8) if 10 <= i < 14 else frame)
    writer.release()
    out_csv = tmp_path / "scores.csv"
    assert run_cli("score", lite_checkpoint, video, "--csv", out_csv, "--device", "cpu") == 0
    cameras = [r["camera"] for r in read_csv(out_csv)]
    assert cameras[:10] == [""] * 10
    assert cameras[10:14] == ["no picture"] * 4
    assert cameras[14 : 14 + CAMERA_HOLD_FRAMES] == ["no picture"] * CAMERA_HOLD_FRAMES
    assert cameras[14 + CAMERA_HOLD_FRAMES :] == [""] * (len(frames) - 14 - CAMERA_HOLD_FRAMES)
