"""Several cameras in one window: one scheduler for all, the grid, alarms per camera, one event list, saved set-ups."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Qt, QThread  # noqa: E402
from window_helpers import FPS, SIZE  # noqa: E402

from aivad.ui.app import MainWindow  # noqa: E402
from aivad.ui.camera_dialog import CameraDialog  # noqa: E402
from aivad.ui.cameras import CameraConfig, parse_camera_arg  # noqa: E402
from aivad.ui.i18n import tr  # noqa: E402
from aivad.video.synthetic import make_scene_video  # noqa: E402

NEVER = 500.0  # a threshold no score reaches (the panel goes up to 1000)
ALWAYS = 1e-9  # a threshold every scored frame passes


@pytest.fixture(scope="session")
def normal_video(tmp_path_factory) -> Path:
    """6 s of an ordinary scene at 10 fps: long enough to watch four cameras play in real time."""
    folder = tmp_path_factory.mktemp("grid_videos")
    return make_scene_video(folder / "normal.mp4", n_frames=60, size=SIZE, fps=FPS, seed=11)


def cameras(video: Path, checkpoint: Path, thresholds: list[float | None]) -> list[CameraConfig]:
    return [
        CameraConfig(name=f"Cam {i + 1}", source=str(video), checkpoint=str(checkpoint), threshold=threshold)
        for i, threshold in enumerate(thresholds)
    ]


def inference_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("aivad-inference")]


def test_four_cameras_run_on_one_scheduler(qtbot, window, ui_checkpoint, normal_video):
    window.act_every_frame.setChecked(True)  # as fast as the model allows: the pool is the limit
    window.set_cameras(cameras(normal_video, ui_checkpoint, [None] * 4), "2x2")
    assert window.showing_grid and len(window.grid.tiles) == 4
    assert sorted(id(job) for job in window.scheduler.jobs) == sorted(id(c.worker) for c in window.cameras)
    assert not any(isinstance(c.worker, QThread) for c in window.cameras), "workers are jobs, not threads"
    assert all(isinstance(c.worker, QObject) for c in window.cameras)

    qtbot.waitUntil(lambda: all(c.frames_processed >= 5 for c in window.cameras), timeout=60_000)
    first = [c.frames_processed for c in window.cameras]
    qtbot.waitUntil(
        lambda: all(c.frames_processed > n for c, n in zip(window.cameras, first)) or window.cameras[0].stream_done,
        timeout=60_000,
    )
    qtbot.waitUntil(lambda: all(c.stream_done for c in window.cameras), timeout=60_000)
    assert all(c.frames_processed >= 55 for c in window.cameras)  # every camera analysed (nearly) every frame
    assert all(c.checkpoint_info is not None for c in window.cameras)
    assert len({id(c.worker.detector.model) for c in window.cameras}) == 1, "one checkpoint, loaded once"
    assert len({id(c.worker.detector) for c in window.cameras}) == 4, "each camera its own stream state"
    assert len(inference_threads()) <= window.scheduler.workers
    for camera in window.cameras:
        tile = window.grid.tile(camera)
        assert tile.video.has_frame
        assert tile.status_label.text() == tr("src_ended")


def test_click_on_a_tile_opens_its_camera_large(qtbot, window, ui_checkpoint, normal_video):
    window.act_every_frame.setChecked(True)
    window.set_cameras(cameras(normal_video, ui_checkpoint, [None, None, NEVER, None]), "2x2")
    third = window.cameras[2]
    qtbot.waitUntil(lambda: third.frames_processed >= 10, timeout=60_000)
    assert window.camera is window.cameras[0] and window.showing_grid

    qtbot.mouseClick(window.grid.tile(third), Qt.MouseButton.LeftButton)
    assert window.camera is third
    assert not window.showing_grid and window.back_button.isVisible()
    assert window.worker is third.worker and window.source is third.source
    assert window.chart.point_count >= 10, "the chart shows the camera's history"
    assert window.detection.threshold == pytest.approx(NEVER, rel=1e-3), "the panel shows this camera's threshold"
    qtbot.waitUntil(lambda: window.video.has_frame, timeout=10_000)

    window.show_grid()
    assert window.showing_grid and not window.back_button.isVisible()


def test_only_the_camera_with_a_tiny_threshold_alarms(qtbot, window, ui_checkpoint, normal_video):
    # Real-time playback (not every frame): six seconds during which the alarm camera stays in alarm.
    window.set_cameras(cameras(normal_video, ui_checkpoint, [NEVER, NEVER, ALWAYS, NEVER]), "2x2")
    alarm_tile = window.grid.tile(window.cameras[2])
    qtbot.waitUntil(lambda: alarm_tile.in_alarm, timeout=60_000)
    assert alarm_tile.property("alarm") is True and not alarm_tile.alarm_label.isHidden()
    for camera in (window.cameras[0], window.cameras[1], window.cameras[3]):
        assert camera.frames_processed > 0
        tile = window.grid.tile(camera)
        assert not tile.in_alarm and tile.property("alarm") is False and tile.alarm_label.isHidden()


def test_one_event_list_for_all_cameras_with_a_filter(qtbot, window, ui_checkpoint, anomaly_video):
    window.act_every_frame.setChecked(True)
    window.set_cameras(cameras(anomaly_video, ui_checkpoint, [NEVER, ALWAYS, ALWAYS]), "2x2")
    qtbot.waitUntil(lambda: all(c.stream_done for c in window.cameras), timeout=60_000)
    events = window.events.events
    assert {e.camera for e in events} == {"Cam 2", "Cam 3"}, "each camera's own threshold decides"
    assert window.events.table.rowCount() == len(events)
    camera_column = {window.events.table.item(row, 1).text() for row in range(len(events))}
    assert camera_column == {"Cam 2", "Cam 3"}
    # Both cameras number their events from 1: the list keeps them apart.
    assert sorted(e.number for e in events if e.camera == "Cam 2") == sorted(
        e.number for e in events if e.camera == "Cam 3"
    )

    window.events.set_filter(camera="Cam 3")
    shown = window.events.visible_events()
    assert shown and all(e.camera == "Cam 3" for e in shown) and len(shown) < len(events)
    attribute = shown[0].main_attribute
    window.events.set_filter(camera="", attribute=attribute)
    shown = window.events.visible_events()
    assert {e.camera for e in shown} == {"Cam 2", "Cam 3"} and all(e.main_attribute == attribute for e in shown)
    window.events.set_filter()
    assert len(window.events.visible_events()) == len(events)
    assert all(Path(e.snapshot_path).parent.parent.name in ("Cam_2", "Cam_3") for e in events)


def test_a_new_window_restores_the_saved_cameras(qtbot, window, ui_checkpoint, normal_video, qapp):
    configs = cameras(normal_video, ui_checkpoint, [None, 0.25, None])
    configs[1].zones = [[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0)]]
    configs[1].roi = True
    configs[2].enabled = False
    window.set_cameras(configs, "3x3", selected="Cam 2")
    assert window.camera.name == "Cam 2"
    window.close()

    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    try:
        assert [c.config for c in again.cameras] == configs
        assert again.layout_name == "3x3" and len(again.grid.tiles) == 3
        assert again.camera.name == "Cam 2"
        assert again.cameras[2].source is None, "a camera switched off is not opened"
        qtbot.waitUntil(lambda: again.cameras[0].frames_processed > 0, timeout=60_000)
    finally:
        again.close()


def test_removing_a_camera_stops_its_source_and_its_job(qtbot, window, ui_checkpoint, normal_video):
    window.set_cameras(cameras(normal_video, ui_checkpoint, [None, None, None]), "2x2")
    doomed = window.cameras[1]
    qtbot.waitUntil(lambda: doomed.frames_processed > 0, timeout=60_000)
    source, job = doomed.source, doomed.worker
    window.remove_camera(doomed)
    assert source.stopped
    assert all(existing is not job for existing in window.scheduler.jobs)
    assert len(window.scheduler.jobs) == 2 and len(window.cameras) == 2
    assert window.grid.tile(doomed) is None and len(window.grid.tiles) == 2
    processed = job.take_pending()[2].frames_processed
    qtbot.wait(500)
    assert job.take_pending()[2].frames_processed == processed, "nothing steps the removed job"


def test_add_and_edit_through_the_dialog_and_the_command_line_spec(qtbot, window, ui_checkpoint, normal_video):
    dialog = CameraDialog(None, {"Gate"})
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("Gate")
    dialog.source_edit.setText(str(normal_video))
    assert "Gate" in dialog.problem()  # names are unique
    dialog.name_edit.setText("Lobby")
    dialog.source_edit.setText(str(normal_video) + ".missing")
    assert dialog.problem()
    dialog.source_edit.setText("rtsp://user:pw@10.0.0.2/stream")
    dialog.use_checkpoint_threshold.setChecked(False)
    dialog.threshold_spin.setValue(0.5)
    assert dialog.problem() == ""
    assert dialog.config() == CameraConfig(name="Lobby", source="rtsp://user:pw@10.0.0.2/stream", threshold=0.5)

    spec = f"name=Gate;source={normal_video};checkpoint={ui_checkpoint};threshold=0.5"
    assert parse_camera_arg(spec) == CameraConfig(
        name="Gate", source=str(normal_video), checkpoint=str(ui_checkpoint), threshold=0.5
    )
    with pytest.raises(ValueError, match="colour"):
        parse_camera_arg(f"source={normal_video};colour=red")

    window.set_layout("2x2")
    camera = window.add_camera(parse_camera_arg(spec))
    assert [c.name for c in window.cameras] == ["Camera 1", "Gate"]
    qtbot.waitUntil(lambda: camera.checkpoint_info is not None, timeout=60_000)
    assert camera.worker.settings.threshold == pytest.approx(0.5)
    window.update_camera(camera, CameraConfig(name="Gate 2", source=str(normal_video), checkpoint=str(ui_checkpoint)))
    assert camera.worker.settings.threshold == pytest.approx(camera.checkpoint_info["threshold"])
    assert window.grid.tile(camera).name_label.text() == "Gate 2"


def test_events_of_one_window_session_are_in_the_next_sessions_history(qtbot, window, ui_checkpoint, anomaly_video):
    window.act_every_frame.setChecked(True)
    window.set_cameras(cameras(anomaly_video, ui_checkpoint, [ALWAYS, NEVER]), "2x2")
    qtbot.waitUntil(lambda: all(c.stream_done for c in window.cameras), timeout=60_000)
    seen = [(e.camera, e.start_frame, e.end_frame) for e in window.events.events]
    assert seen and {camera for camera, _, _ in seen} == {"Cam 1"}
    database = window.event_store.path
    assert database.parent == Path(window.output_dir)
    window.close()  # the session ends; its history stays on disk

    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    try:
        again.show_history()
        dialog = again.history_dialog
        assert again.event_store.path == database
        kept = [(e.camera, e.start_frame, e.end_frame) for e in again.event_store.events()]
        assert sorted(kept) == sorted(seen), "every finished event of the last session, with its camera"
        assert dialog.table.rowCount() == len(seen)
        assert {e.session for e in again.event_store.events()} != {again.event_store.session}
    finally:
        again.close()


def test_the_webhook_setting_reaches_every_camera_and_refuses_a_bad_url(qtbot, window, ui_checkpoint, normal_video):
    window.set_cameras(cameras(normal_video, ui_checkpoint, [NEVER, NEVER]), "2x2")
    problems = []
    window.show_error = lambda message, owner="", level="error": problems.append(message)
    assert not window.set_webhook("ftp://example.invalid/hook")
    assert problems and window.webhook is None
    assert window.set_webhook("http://127.0.0.1:9/hook")  # a port nobody listens on: queued, never blocking
    assert all(c.worker.webhook is window.webhook for c in window.cameras)
    assert window.settings.value("webhook_url") == "http://127.0.0.1:9/hook"
    assert window.set_webhook("")
    assert window.webhook is None and all(c.worker.webhook is None for c in window.cameras)


def test_cameras_on_one_model_are_batched_where_it_pays_with_the_scores_of_one_camera_alone(
    qtbot, window, ui_checkpoint, normal_video, monkeypatch
):
    import numpy as np

    import aivad.live.streams
    from aivad.live.detector import Detector
    from aivad.ui.worker import InferenceWorker
    from aivad.video.files import read_frames

    monkeypatch.setattr(aivad.live.streams, "batching_pays", lambda device: True)  # as on a GPU
    sizes = []
    original = InferenceWorker.step_batch

    def counting(workers):
        sizes.append(len(workers))
        original(workers)

    monkeypatch.setattr(InferenceWorker, "step_batch", staticmethod(counting))
    window.act_every_frame.setChecked(True)
    window.set_cameras(cameras(normal_video, ui_checkpoint, [NEVER] * 3), "2x2")
    qtbot.waitUntil(lambda: all(c.stream_done for c in window.cameras), timeout=60_000)
    assert sizes and max(sizes) >= 2, "cameras on one checkpoint went through the model together"

    alone = Detector.load(ui_checkpoint, device="cpu")
    expected = {i: alone.process(frame, i / FPS).raw_score for i, frame in read_frames(normal_video)}
    for camera in window.cameras:
        seen = {report.index: report.raw_score for report in camera.history}
        assert len(seen) >= 55
        common = sorted(set(seen) & set(expected))
        assert np.allclose([seen[i] for i in common], [expected[i] for i in common], rtol=1e-4, atol=1e-4)


def test_the_event_list_export_names_each_events_camera(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    import csv

    window.act_every_frame.setChecked(True)
    window.set_cameras(cameras(anomaly_video, ui_checkpoint, [ALWAYS, NEVER, ALWAYS]), "2x2")
    qtbot.waitUntil(lambda: all(c.stream_done for c in window.cameras), timeout=60_000)
    path = window.export_events_csv(tmp_path / "alle Kameras.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert len(rows) == len(window.events.events)
    assert {row["camera"] for row in rows} == {"Cam 1", "Cam 3"}
    assert sorted(row["started_at"] for row in rows) == [row["started_at"] for row in rows]
