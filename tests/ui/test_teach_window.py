"""Issue 26, item 1 in the window: "Not an anomaly" teaches the camera's model in the background, switches the
camera to the new checkpoint, and Undo returns to the previous one."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from window_helpers import load, play_to_end  # noqa: E402


def overlaps(event, first: int, last: int) -> bool:
    return event.start_frame <= last and (event.end_frame or event.start_frame) >= first


def test_not_an_anomaly_teaches_switches_the_camera_and_undo_returns(
    qtbot, window, ui_checkpoint, anomaly_video, tmp_path
):
    checkpoint = tmp_path / "camera.ckpt"  # the taught file is written beside it: not beside the shared one
    checkpoint.write_bytes(Path(ui_checkpoint).read_bytes())
    original_hash = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    load(qtbot, window, checkpoint)
    play_to_end(qtbot, window, anomaly_video)
    panel = window.events
    events = [e for e in panel.events if not e.ongoing]
    assert events, "no event to teach"
    event = events[-1]
    assert not panel.teach_button.isEnabled()  # nothing selected yet
    panel.table.selectRow(panel.events.index(event))
    assert panel.teach_button.isEnabled()

    taught = tmp_path / "camera_taught.ckpt"
    with qtbot.waitSignal(window.worker.checkpoint_loaded, timeout=120_000):
        panel.teach_button.click()
    assert window.camera.config.checkpoint == str(taught) and taught.is_file()
    assert hashlib.sha256(checkpoint.read_bytes()).hexdigest() == original_hash
    assert "taught normal" in panel.table.item(panel.events.index(event), 3).text()
    assert panel.undo_teach_button.isEnabled()

    # The taught stretch no longer alarms when the video is played again with the new model.
    panel.clear()
    play_to_end(qtbot, window)
    assert not any(overlaps(e, event.start_frame, event.end_frame) for e in panel.events)

    with qtbot.waitSignal(window.worker.checkpoint_loaded, timeout=30_000):
        panel.undo_teach_button.click()
    assert window.camera.config.checkpoint == str(checkpoint)
    assert not panel.undo_teach_button.isEnabled()


def test_an_ongoing_or_live_event_is_not_taught(qtbot, window):
    from aivad.live.recording import EventRecord

    live = EventRecord(1, "rtsp://camera/stream", 5, 20, 0.5, 2.0, 3.0, 10, "velocity", seekable=False)
    window.teach_event(live)
    assert not window.teaching and "video file" in window.statusBar().currentMessage()


def test_a_selected_chart_range_is_taught_shown_and_undone(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    from PySide6.QtCore import QPoint, Qt

    checkpoint = tmp_path / "camera.ckpt"
    checkpoint.write_bytes(Path(ui_checkpoint).read_bytes())
    load(qtbot, window, checkpoint)
    play_to_end(qtbot, window, anomaly_video)
    chart = window.chart
    runner = [e for e in window.events.events if overlaps(e, 18, 32)]
    assert runner, "the runner did not alarm before teaching"
    first, last = runner[0].start_frame, runner[0].end_frame

    # Shift+press starts a selection where the mouse is (a plain press would seek instead).
    rect = chart._plot_rect()
    x = int(rect.x() + rect.width() * first / (len(chart._scores) - 1))
    qtbot.mousePress(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x, 60))
    qtbot.mouseRelease(chart, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x, 60))
    assert chart.selection is not None and abs(chart.selection[0] - first) <= 1
    chart.select_range(last, first)  # dragging leftwards selects the same range
    assert chart.selection == (first, last)

    taught = tmp_path / "camera_taught.ckpt"
    with qtbot.waitSignal(window.worker.checkpoint_loaded, timeout=120_000):
        chart.teach_selection()  # the chart's menu: "Not an anomaly: teach …"
    assert window.camera.config.checkpoint == str(taught)
    assert chart.taught_ranges == [(first, last)] and chart.selection is None
    window.events.clear()
    play_to_end(qtbot, window)
    assert not any(overlaps(e, first, last) for e in window.events.events)
    assert chart.taught_ranges == [(first, last)]  # still shown after playing again

    with qtbot.waitSignal(window.worker.checkpoint_loaded, timeout=30_000):
        window.events.undo_teach_button.click()
    assert window.camera.config.checkpoint == str(checkpoint)
    assert chart.taught_ranges == []
