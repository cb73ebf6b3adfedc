"""``python -m aivad watch`` (aivad/live/watch.py): cameras without a window, keeping what the window keeps.

Each test runs the command as a user would, in a process of its own, on tiny synthetic videos in a
folder whose name has a space and Korean letters. Pass or fail never depends on the clock: a test
waits for the lines the process prints (aivad.live.watch prints each finished event and health line).
"""

import json
import signal
import sqlite3
import sys
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_process, started

from aivad.video.synthetic import make_scene_video

# Runs the command and then says whether anything imported Qt: a camera PC may have no display libraries.
NO_QT = (
    "import sys; from aivad.console import run_main; from aivad.cli import main; "
    "code = run_main(main, sys.argv[1:]); "
    "sys.exit(code if 'PySide6' not in sys.modules else 'watch imported PySide6')"
)
WATCH = [sys.executable, "-c", NO_QT, "watch"]
COMPARED = "start_frame, end_frame, peak_frame, peak_score, main_attribute, region"


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Two cameras' files, each with a fast runner at a different time."""
    folder = tmp_path_factory.mktemp("watch") / "카메라 영상"
    scene = {"n_frames": 100, "size": (160, 120), "anomaly": "fast"}
    return {
        "정문": make_scene_video(folder / "정문 a.mp4", seed=5, anomaly_frames=(20, 40), **scene),
        "Yard": make_scene_video(folder / "yard b.mp4", seed=7, anomaly_frames=(50, 70), **scene),
    }


def camera(name: str, source, checkpoint: Path, threshold: float | None = None) -> list[str]:
    spec = f"name={name};source={source};checkpoint={checkpoint}"
    return ["--camera", spec + (f";threshold={threshold}" if threshold is not None else "")]


def stored(database: Path, camera_name: str, columns: str = COMPARED) -> list[tuple]:
    with closing(sqlite3.connect(database)) as db:
        query = f"SELECT {columns} FROM events WHERE camera = ? ORDER BY start_frame"
        return db.execute(query, (camera_name,)).fetchall()


class Receiver(BaseHTTPRequestHandler):
    """The webhook's other end: keeps every posted event."""

    posted: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posted.append(json.loads(body.decode("utf-8")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_two_file_cameras_write_the_events_score_writes(videos, lite_checkpoint, tmp_path):
    threshold = 1.0  # low enough that both runners alarm
    score_db = tmp_path / "score.sqlite3"
    for video in videos.values():
        scored = run_process(
            [sys.executable, "-m", "aivad", "score", lite_checkpoint, video, "--threshold", threshold]
            + ["--csv", tmp_path / f"{video.stem}.csv", "--events-db", score_db],
            cwd=REPO_ROOT,
        )
        assert scored.returncode == 0, scored.stderr

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.posted = []
    output = tmp_path / "이벤트 폴더"
    try:
        cameras = [arg for name, video in videos.items() for arg in camera(name, video, lite_checkpoint, threshold)]
        url = f"http://127.0.0.1:{server.server_address[1]}/events"
        watched = run_process(WATCH + cameras + ["--output", output, "--webhook", url], cwd=REPO_ROOT)
    finally:
        server.shutdown()
        server.server_close()
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "watching 2 camera(s)" in watched.stdout

    database = output / "events.sqlite3"
    for name, video in videos.items():
        expected = stored(score_db, video.name)
        assert expected, f"the test needs an event on {video.name}"
        assert stored(database, name) == expected
        for snapshot, clip in stored(database, name, "snapshot_path, clip_path"):
            assert Path(snapshot).is_file() and Path(clip).is_file()
            assert Path(clip).parent.parent == output / name  # each camera's evidence in its own folder
    posted = sorted((event["camera"], event["start_frame"]) for event in Receiver.posted)
    in_history = sorted((name, row[0]) for name in videos for row in stored(database, name))
    assert posted == in_history


def test_sigterm_closes_open_events_and_exits_0(videos, lite_checkpoint, tmp_path):
    """A long runner on one camera, a stream that never answers on the other (so the process runs until
    stopped): SIGTERM while it watches leaves every event it reported readable, the open one closed."""
    long_run = make_scene_video(
        tmp_path / "긴 영상.mp4", n_frames=600, size=(160, 120), seed=5, anomaly="fast", anomaly_frames=(20, 600)
    )
    output = tmp_path / "events"
    command = (
        WATCH
        + camera("Long", long_run, lite_checkpoint, 1.0)
        + camera("Down", "rtsp://127.0.0.1:9/none", lite_checkpoint)
    )
    with started(command + ["--output", output, "--health-every", "0.2"], cwd=REPO_ROOT) as watch:
        watch.wait_for_line("Long: event 1 started")
        watch.wait_for_line("health Down: reconnecting")
        watch.process.send_signal(signal.SIGTERM)
        assert watch.wait() == 0, watch.output
    assert "stop requested" in watch.output or "Long: finished" in watch.output
    rows = stored(output / "events.sqlite3", "Long", "start_frame, end_frame, snapshot_path")
    reported = [line for line in watch.output.splitlines() if "Long: event " in line and " frames " in line]
    assert rows and len(rows) == len(reported), watch.output
    assert all(end is not None and end >= start and Path(snapshot).is_file() for start, end, snapshot in rows)
    assert f"stopped: {len(rows)} event(s)" in watch.output


def test_a_broken_source_does_not_stop_the_other_cameras(videos, lite_checkpoint, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video")
    setup = tmp_path / "cameras 설정.json"  # the window's saved setup shape, with two bad sources
    setup.write_text(
        json.dumps(
            {
                "cameras": [
                    {"name": "Broken", "source": str(broken), "checkpoint": str(lite_checkpoint)},
                    {"name": "Missing", "source": str(tmp_path / "gone.mp4"), "checkpoint": str(lite_checkpoint)},
                ]
            }
        ),
        encoding="utf-8",
    )
    output = tmp_path / "events"
    command = WATCH + camera("정문", videos["정문"], lite_checkpoint, 1.0) + ["--cameras", setup, "--output", output]
    watched = run_process(command, cwd=REPO_ROOT)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "Broken: failed" in watched.stdout and "Missing: failed" in watched.stdout
    assert "정문: finished (ended)" in watched.stdout
    assert stored(output / "events.sqlite3", "정문")


@pytest.mark.parametrize(
    "spec, says",
    [
        ("name=Gate;colour=red;source={video};checkpoint={checkpoint}", "expected name=…"),
        ("name=Gate;source={video};checkpoint={checkpoint};threshold=high", "threshold must be a number"),
        ("name=Gate;source={video};checkpoint={missing}", "does not exist"),
        ("name=Gate;source={video}", "has no checkpoint"),
        ("name=Gate;source={missing};checkpoint={checkpoint}", "no camera delivered a frame"),
    ],
)
def test_a_mistake_is_one_sentence_and_exit_2(videos, lite_checkpoint, tmp_path, spec, says):
    text = spec.format(video=videos["정문"], checkpoint=lite_checkpoint, missing=tmp_path / "없는 파일.mp4")
    result = run_process(WATCH + ["--camera", text, "--output", tmp_path / "events"], cwd=REPO_ROOT)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_loop_plays_a_file_again_and_each_pass_keeps_its_event(videos, lite_checkpoint, tmp_path):
    """--loop: the file starts over at its end; every pass closes its runner's event as the file's end does, so
    the history holds the same event once per finished pass, and SIGTERM still exits 0."""
    output = tmp_path / "events"
    command = WATCH + camera("Loop", videos["정문"], lite_checkpoint, 1.0) + ["--loop", "--output", output]
    with started(command, cwd=REPO_ROOT) as watch:
        watch.wait_for_line("Loop: pass 3 from the first frame")
        watch.process.send_signal(signal.SIGTERM)
        assert watch.wait() == 0, watch.output
    assert "Loop: finished" not in watch.output  # it never ended on its own
    rows = stored(output / "events.sqlite3", "Loop", "start_frame, end_frame")
    assert len(rows) >= 2 and all(end is not None for _, end in rows)
    assert len(set(rows)) < len(rows)  # the same runner's event, from two passes at least


def test_the_frame_ring_starts_over_when_time_goes_back():
    """A file played again (--loop) or a seek back: the ring keeps only frames that precede the next one, by age,
    instead of holding the other side of the jump until its byte cap (it did: 256 MB per camera under --loop)."""
    import numpy as np

    from aivad.live.recording import BufferedFrame, FrameRing

    ring = FrameRing(3.0, 10.0)
    image = np.zeros((120, 160, 3), np.uint8)
    for index in range(100):  # a 10 s file at 10 fps, then the same file again
        ring.append(BufferedFrame(image, index, index / 10.0, 0.0, False, []))
    assert [f.index for f in ring.frames()] == list(range(69, 100))
    for index in range(20):
        ring.append(BufferedFrame(image, index, index / 10.0, 0.0, False, []))
    assert [f.index for f in ring.frames()] == list(range(20))


def test_a_frame_folder_is_a_camera_source_like_a_file(videos, lite_checkpoint, tmp_path, capsys):
    """A folder of numbered images plays as a camera (aivad.video.frame_folders): no 'not a file' warning."""
    import argparse

    import cv2

    from aivad.live.watch import camera_configs
    from aivad.video.files import read_frames

    folder = tmp_path / "정문 frames"
    folder.mkdir()
    for index, frame in read_frames(videos["정문"], max_frames=5):
        cv2.imwrite(str(folder / f"{index + 1}.png"), frame)
    args = argparse.Namespace(camera=[f"name=Gate;source={folder};checkpoint={lite_checkpoint}"], cameras=None)
    (config,) = camera_configs(args)
    assert Path(config.source) == folder
    assert "warning" not in capsys.readouterr().err
    missing = argparse.Namespace(
        camera=[f"name=Gate;source={tmp_path / 'gone'};checkpoint={lite_checkpoint}"], cameras=None
    )
    camera_configs(missing)
    assert "is not a file, a frame folder, a webcam index or a URL" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas: Linux only")
def test_watch_caps_glibcs_malloc_arenas_unless_the_environment_says_otherwise(monkeypatch):
    from aivad.live.watch_process import limit_malloc_arenas

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True  # mallopt(M_ARENA_MAX, 2) accepted
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is False  # the user's own setting wins


def test_the_log_says_when_the_picture_is_lost_and_back(videos, lite_checkpoint, tmp_path):
    """A covered lens in the middle of a file: watch logs "no picture" once, then "steady again" once."""
    import cv2
    import numpy as np

    from aivad.video.files import read_frames

    frames = [frame for _, frame in read_frames(videos["Yard"], max_frames=40)]
    video = tmp_path / "가려진 카메라.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, frames[0].shape[1::-1])
    for i, frame in enumerate(frames):
        writer.write(np.full_like(frame, 8) if 10 <= i < 15 else frame)
    writer.release()
    watched = run_process(WATCH + camera("Lens", video, lite_checkpoint) + ["--output", tmp_path], cwd=REPO_ROOT)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert watched.stdout.count("Lens: camera shows no picture (covered lens or no signal)") == 1, watched.stdout
    assert watched.stdout.count("Lens: camera steady again") == 1, watched.stdout
