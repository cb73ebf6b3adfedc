"""The main window on tiny synthetic videos: frames, chart, events, threshold, errors, languages, keys."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from window_helpers import load, play_to_end  # noqa: E402

from aivad.ui import i18n  # noqa: E402


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
    # the calibrated threshold (shown to 3 decimals): seconds of training footage cannot count 1 per hour,
    # so the default is the rarest rate they can count, and the label says so and what gives fewer
    rarest = panel.rate_model.rarest_countable_per_hour
    at_default = panel.expected_false_alarms()
    assert at_default == pytest.approx(rarest, rel=0.02)
    # the label gives the rate at the slider's (3-decimal) threshold, which may round to the next integer
    assert f"{at_default:.0f} false alarms / hour" in panel.expected_rate.text()
    assert "train on more footage for fewer" in panel.expected_rate.text()
    assert "extrapolated from" not in panel.expected_rate.text()
    panel.threshold_slider.setValue(panel.threshold_slider.maximum())  # rarer than the footage can count
    assert "extrapolated from" in panel.expected_rate.text()
    panel.threshold_slider.setValue(0)
    assert panel.expected_false_alarms() > panel.rate_model.rarest_countable_per_hour
    assert "extrapolated" not in panel.expected_rate.text()  # counted on the footage, not extrapolated
    panel.threshold_slider.setValue(panel.threshold_slider.maximum() // 6)  # half the calibrated value
    lower = panel.expected_false_alarms()
    assert lower > rarest and f"{lower:.0f}" in panel.expected_rate.text()
    panel.threshold_slider.setValue(panel.threshold_slider.maximum())
    assert panel.expected_false_alarms() < rarest
    # the alarm rule comes from the checkpoint too
    assert panel.duration_spin.value() == pytest.approx(window.worker.detector.alarm_rule.min_duration_s)
    from aivad.model.alarm import MERGE_GAP_S

    assert window.worker.detector.alarm_rule.merge_gap_s == pytest.approx(MERGE_GAP_S)  # stored by training
    assert panel.merge_spin.value() == pytest.approx(MERGE_GAP_S)
    assert window.current_settings().merge_gap_s == pytest.approx(MERGE_GAP_S)  # what the worker's Decider gets
    i18n.set_language("ko")
    window.retranslate()
    assert "오경보" in panel.expected_rate.text()
    i18n.set_language("en")


def test_model_card_counts_videos_in_words_that_fit_the_number(qtbot):
    from aivad.ui.widgets import ModelCard

    card = ModelCard()
    qtbot.addWidget(card)
    info = {"path": "a.ckpt", "backend": "lite", "threshold": 2.0, "device": "cpu"}
    card.set_info({**info, "videos": [{"path": "one.mp4", "frames": 200}]})
    assert card._rows["model_trained_on"][1].text() == "1 video, 200 frames"
    card.set_info({**info, "videos": [{"path": "one.mp4", "frames": 200}, {"path": "two.mp4", "frames": 50}]})
    assert card._rows["model_trained_on"][1].text() == "2 videos, 250 frames"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_event_list_shows_several_events_at_the_default_window_size(qtbot, window, language):
    """At 1280x800 the side panel's settings left the event list room for one event; now three fit, and the
    alarm-rule settings (two a row) keep their labels whole in both languages."""
    import numpy as np

    from aivad.live.recording import EventRecord
    from aivad.ui.window_layout import DEFAULT_SIZE

    i18n.set_language(language)
    window.retranslate()
    window.resize(*DEFAULT_SIZE)
    thumbnail = np.zeros((36, 64, 3), np.uint8)
    for number in range(1, 5):
        window.events.upsert(
            EventRecord(
                number,
                "cam.mp4",
                10 * number,
                10 * number + 5,
                number,
                number + 0.5,
                2.0,
                10 * number,
                "velocity",
                thumbnail=thumbnail,
                camera="Camera 1",
            )
        )
    qtbot.wait(50)
    table = window.events.table
    rows_in_view = table.viewport().height() // table.rowHeight(0)
    assert rows_in_view >= 3
    panel = window.detection
    for label in (panel.smoothing_label, panel.hysteresis_label, panel.duration_label, panel.merge_label):
        assert label.width() >= label.sizeHint().width(), label.text()  # not cut off
    i18n.set_language("en")
