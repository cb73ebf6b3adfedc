"""The realtime window, driven headless with pytest-qt on tiny synthetic videos.

One small lite checkpoint is trained once per session (frozen encoder, random weights,
a few seconds on a CPU) unless conftest.py already provides ``lite_checkpoint``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from aivad.results import FrameResult, RegionResult  # noqa: E402
from aivad.synthetic import make_scene_video  # noqa: E402
from aivad.ui import i18n  # noqa: E402
from aivad.ui.app import MainWindow  # noqa: E402
from aivad.ui.file_source import FileSource  # noqa: E402
from aivad.ui.live_sources import StreamSource  # noqa: E402
from aivad.ui.sources import FrameSlot, SourceFrame  # noqa: E402
from aivad.ui.theme import apply_theme  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SIZE = (160, 120)
FPS = 10


@pytest.fixture(scope="session")
def ui_checkpoint(request, tmp_path_factory) -> Path:
    try:
        return Path(request.getfixturevalue("lite_checkpoint"))
    except (pytest.FixtureLookupError, pytest.fail.Exception):
        pass
    from aivad.train import run

    folder = tmp_path_factory.mktemp("ui_ckpt")
    for seed in range(2):
        make_scene_video(folder / f"normal{seed}.mp4", n_frames=40, size=SIZE, fps=FPS, seed=seed)
    output = folder / "lite.ckpt"
    preset = dict(
        video_list=None,
        init_checkpoint=None,
        lr=1e-4,
        epochs=0,
        accumulate_grad_batches=1,
        output=str(output),
        backend="lite",
    )
    argv = [
        "--videos",
        str(folder / "normal*.mp4"),
        "--backend",
        "lite",
        "--weights",
        "random",
        "--epochs",
        "0",
        "--device",
        "cpu",
        "--num-workers",
        "0",
        "--output",
        str(output),
    ]
    assert run(preset, argv) == 0
    return output


@pytest.fixture(scope="session")
def anomaly_video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ui_videos")
    return make_scene_video(
        folder / "fast.mp4", n_frames=40, size=SIZE, fps=FPS, seed=5, anomaly="fast", anomaly_frames=(18, 32)
    )


@pytest.fixture
def window(qtbot, tmp_path, qapp):
    apply_theme(qapp)
    i18n.set_language("en")
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    settings.setValue("output_dir", str(tmp_path / "events"))
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def load(qtbot, win: MainWindow, checkpoint: Path) -> None:
    with qtbot.waitSignal(win.worker.checkpoint_loaded, timeout=30_000):
        win.load_checkpoint(str(checkpoint))


def play_to_end(qtbot, win: MainWindow, video: Path | None = None) -> None:
    win.act_every_frame.setChecked(True)  # every frame, as fast as the model allows
    if video is not None:
        win.open_source(str(video))
    else:
        win.seek(0)
        win.source.play()
    qtbot.waitUntil(lambda: win._stream_done, timeout=30_000)


# --------------------------------------------------------------------------------------
def test_frames_flow_chart_and_events_fill(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    load(qtbot, window, ui_checkpoint)
    assert window.model_card.info["backend"] == "lite"
    assert window.detection.threshold == pytest.approx(window.checkpoint_info["threshold"], rel=1e-3)

    play_to_end(qtbot, window, anomaly_video)
    assert window.video.has_frame
    assert window.chart.point_count >= 38  # every frame has a score
    assert window.badge.state in ("normal", "anomaly", "waiting")

    # The injected fast walker (frames 18-32) raised at least one event that overlaps it.
    events = window.events.events
    assert events, "no event for the injected anomaly"
    assert any(e.start_frame <= 32 and (e.end_frame or 0) >= 18 for e in events)
    assert all(not e.ongoing for e in events), "end of file closes the open event"
    assert window.events.table.rowCount() == len(events)

    # Evidence on disk: snapshot now, clip once encoded.
    first = min(events, key=lambda e: e.number)
    assert first.snapshot_path and Path(first.snapshot_path).is_file()
    qtbot.waitUntil(
        lambda: any(
            e.clip_path and Path(e.clip_path).is_file() and Path(e.clip_path).stat().st_size > 0
            for e in window.events.events
        ),
        timeout=15_000,
    )

    rows = list(csv.DictReader(window.export_events_csv(tmp_path / "events.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(events)
    assert {"start_s", "end_s", "peak_score", "main_attribute", "clip"} <= set(rows[0])


def test_command_line_raises_the_same_events_as_the_window(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    """One decision path (aivad.decision): zones, smoothing, threshold, hysteresis, minimum duration."""
    import json

    from aivad.cli import main as cli_main
    from aivad.console import run_main

    load(qtbot, window, ui_checkpoint)
    play_to_end(qtbot, window, anomaly_video)  # zones belong to a source: open it first
    before = len(window.events.events)
    zones = [[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]]  # ignore the left half
    window.set_zones(zones, roi=False)
    window.detection.set_threshold(window.detection.calibrated * 0.5)  # low enough for a few events
    play_to_end(qtbot, window)  # from the first frame again
    new = sorted(window.events.events, key=lambda e: e.number)[before:]
    shown = sorted((e.start_frame, e.end_frame, e.peak_frame, e.main_attribute) for e in new)
    assert shown, "the window raised no event to compare"

    zones_file = tmp_path / "zones.json"
    zones_file.write_text(json.dumps({"zones": zones, "roi": False}), encoding="utf-8")
    events_csv, scores_csv, plain_csv = tmp_path / "events.csv", tmp_path / "scores.csv", tmp_path / "plain.csv"
    common = [ui_checkpoint, anomaly_video, "--device", "cpu", "--threshold", window.detection.threshold]
    common += ["--smoothing-sigma", window.detection.smoothing_spin.value()]
    assert (
        run_main(
            cli_main,
            [str(a) for a in ["score", *common, "--csv", scores_csv, "--zones", zones_file, "--events", events_csv]],
        )
        == 0
    )
    rows = list(csv.DictReader(events_csv.open(encoding="utf-8-sig")))
    written = sorted(
        (int(r["start_frame"]), int(r["end_frame"]), int(r["peak_frame"]), r["main_attribute"]) for r in rows
    )
    assert written == shown
    # the zones mattered: without them some frames score differently
    assert run_main(cli_main, [str(a) for a in ["score", *common, "--csv", plain_csv, "--causal"]]) == 0
    zoned = [float(r["raw_score"]) for r in csv.DictReader(scores_csv.open(encoding="utf-8"))]
    plain = [float(r["raw_score"]) for r in csv.DictReader(plain_csv.open(encoding="utf-8"))]
    assert zoned != plain


def test_threshold_slider_changes_decisions(qtbot, window, ui_checkpoint, anomaly_video):
    load(qtbot, window, ui_checkpoint)
    panel = window.detection

    panel.threshold_slider.setValue(0)  # threshold 0: every scored frame alarms
    assert panel.threshold == 0.0
    play_to_end(qtbot, window, anomaly_video)
    low = window.chart.alarm_count
    assert low >= 35

    panel.threshold_slider.setValue(panel.threshold_slider.maximum())  # 3x the calibrated value
    assert panel.threshold == pytest.approx(3 * panel.calibrated, rel=1e-3)
    assert window.chart.threshold == pytest.approx(panel.threshold)
    play_to_end(qtbot, window)
    high = window.chart.alarm_count
    assert high < low

    panel.reset_button.click()
    assert panel.threshold == pytest.approx(panel.calibrated, rel=1e-3)


def test_missing_source_shows_error_and_window_lives(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    window.open_source(str(tmp_path / "no_such_video.mp4"))
    assert window.banner.isVisible()
    assert "no_such_video.mp4" in window.banner.text

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video" * 100)
    window.open_source(str(broken))
    qtbot.waitUntil(lambda: window.banner.isVisible() and "broken.mp4" in window.banner.text, timeout=10_000)

    # Still usable afterwards: a good video plays and the banner goes away.
    load(qtbot, window, ui_checkpoint)
    window.open_source(str(anomaly_video))
    qtbot.waitUntil(lambda: window.video.has_frame, timeout=15_000)
    assert not window.banner.isVisible() or window.banner.level == "info"  # errors are gone
    assert window.isVisible()


def test_corrupt_checkpoint_shows_error_and_keeps_previous_model(qtbot, window, ui_checkpoint, tmp_path):
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"\x00garbage" * 1000)
    with qtbot.waitSignal(window.worker.checkpoint_failed, timeout=30_000):
        window.load_checkpoint(str(corrupt))
    assert window.banner.isVisible() and window.banner.level == "error"
    assert window.checkpoint_info is None
    assert window.isVisible()

    load(qtbot, window, ui_checkpoint)
    assert not window.banner.isVisible()
    with qtbot.waitSignal(window.worker.checkpoint_failed, timeout=30_000):
        window.load_checkpoint(str(tmp_path / "missing.ckpt"))
    assert window.model_card.info is not None, "a failed load keeps the model that was working"


def test_language_switch_changes_labels(qtbot, window):
    window.set_language("ko")
    assert window.menu_file.title() == "파일(&F)"
    assert window.detection.threshold_label.text() == "임계값"
    assert window.events.title.text() == "이벤트"
    assert window.badge.text == "모델 없음"
    window.set_language("en")
    assert window.menu_file.title() == "&File"
    assert window.detection.threshold_label.text() == "Threshold"
    assert window.settings.value("language") == "en"


def test_keyboard_space_pauses_and_arrow_steps(qtbot, window, anomaly_video):
    window.open_source(str(anomaly_video))  # no checkpoint: frames still show
    qtbot.waitUntil(lambda: window.video.has_frame, timeout=15_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.source.paused, timeout=5_000)
    position = window.source.position
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.source.position == position + 1, timeout=5_000)
    assert window.badge.state == "idle"


def test_slider_shows_the_expected_false_alarms_per_hour_at_its_position(qtbot, window, ui_checkpoint):
    load(qtbot, window, ui_checkpoint)
    panel = window.detection
    assert panel.expected_false_alarms() == pytest.approx(
        1.0, rel=0.05
    )  # the calibrated threshold (shown to 3 decimals)
    assert "1.0 false alarms / hour" in panel.expected_rate.text()
    panel.threshold_slider.setValue(panel.threshold_slider.maximum() // 6)  # half the calibrated value
    lower = panel.expected_false_alarms()
    assert lower > 1.0 and f"{lower:.0f}" in panel.expected_rate.text() or f"{lower:.1f}" in panel.expected_rate.text()
    panel.threshold_slider.setValue(panel.threshold_slider.maximum())
    assert panel.expected_false_alarms() < 1.0
    # the alarm rule comes from the checkpoint too
    assert panel.duration_spin.value() == pytest.approx(window.worker.detector.alarm_rule.min_duration_s)
    i18n.set_language("ko")
    window.retranslate()
    assert "오경보" in panel.expected_rate.text()
    i18n.set_language("en")


def test_ignore_zone_drops_regions_before_deciding():
    from aivad.decision import filter_regions

    regions = [
        RegionResult(box=(0, 0, 20, 20), score=9.0, attributes={"velocity": 8.0, "appearance": 1.0}),
        RegionResult(box=(100, 80, 140, 110), score=1.5, attributes={"velocity": 1.0, "appearance": 0.5}),
    ]
    result = FrameResult(0, 0.0, 9.0, 9.0, True, {"velocity": 8.0, "appearance": 1.0}, regions)
    top_left = [[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]]

    filtered, kept, ignored = filter_regions(result, top_left, False, 160, 120, "sum")
    assert ignored == [regions[0]] and kept == [regions[1]]
    assert filtered.raw_score == pytest.approx(1.5)

    filtered, kept, ignored = filter_regions(result, top_left, True, 160, 120, "sum")
    assert kept == [regions[0]] and filtered.raw_score == pytest.approx(9.0)


def test_file_source_seek_step_and_live_slot(anomaly_video):
    source = FileSource(anomaly_video, every_frame=True, start_paused=True, preroll_frames=2)
    source.start()
    try:
        assert source.take(5).index == 0  # a paused start still shows the first frame
        source.step(1)
        assert source.take(5).index == 1
        source.seek(20)
        frames = [source.take(5) for _ in range(3)]
        assert [(f.index, f.preroll) for f in frames] == [(18, True), (19, True), (20, False)]
        assert frames[-1].epoch == 1  # the worker resets the model on a new epoch
    finally:
        source.stop()

    slot = FrameSlot()  # live sources: only the newest frame survives
    for i in range(5):
        slot.put(SourceFrame(None, i, 0.0, 0.0))
    assert slot.take(0.1).index == 4 and slot.dropped == 4


def test_lost_stream_reconnects_with_backoff_and_says_so(qtbot, window):
    StreamSource.first_retry_s = 0.2
    try:
        window.open_source("rtsp://user:secret@127.0.0.1:9/stream")  # nothing listens on port 9
        qtbot.waitUntil(lambda: window.banner.isVisible() and window.banner.level == "warning", timeout=10_000)
        assert "secret" not in window.banner.text  # passwords never shown
        assert "127.0.0.1" in window.banner.text
    finally:
        StreamSource.first_retry_s = 1.0


def test_screenshot_automation_writes_png_and_exits_0(ui_checkpoint, anomaly_video, tmp_path):
    shot = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "realtime_ui_advanced_windows.py"),
            "--checkpoint",
            str(ui_checkpoint),
            "--source",
            str(anomaly_video),
            "--frames",
            "25",
            "--screenshot",
            str(shot),
            "--device",
            "cpu",
            "--lang",
            "ko",
            "--settings-file",
            str(tmp_path / "ui.ini"),
            "--output",
            str(tmp_path / "events"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)
    assert time.monotonic() - started < 60


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_pyside_refcount_bug_cannot_free_none(qapp):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")  # PySide6 6.12.0 drops a reference to None on each call
    assert sys.getrefcount(None) > 1 << 39, "aivad.ui.qt_guard.protect_singletons did not run"
    assert before - sys.getrefcount(None) <= 2000
