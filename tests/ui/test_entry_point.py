"""realtime_ui_advanced_windows.py as a process (automation) and the PySide6 reference-count guard."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys

import pytest

pytest.importorskip("pytestqt")

from helpers import SAFETY_LIMIT_S, run_process  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from window_helpers import REPO_ROOT  # noqa: E402

# The window's own --timeout (120 s) would fail a test on a busy machine: the tests wait for its exit instead.
NO_GIVING_UP = ["--timeout", str(SAFETY_LIMIT_S)]


def test_screenshot_automation_writes_png_and_exits_0(ui_checkpoint, anomaly_video, tmp_path):
    shot = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # It must stop by itself after --frames (no event loop left waiting): run_process waits for that exit,
    # however slow the machine, and ends the window only if it never comes.
    completed = run_process(
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
            *NO_GIVING_UP,
        ],
        env=env,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_pyside_refcount_bug_cannot_free_none(qapp):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")  # PySide6 6.12.0 drops a reference to None on each call
    assert sys.getrefcount(None) > 1 << 39, "aivad.ui.qt_guard.protect_singletons did not run"
    assert before - sys.getrefcount(None) <= 2000


def test_cameras_from_the_command_line_fill_a_grid(ui_checkpoint, anomaly_video, tmp_path):
    """--camera (repeatable) and --layout: the automation the multi-camera screenshots use."""
    shot = tmp_path / "grid.png"
    cameras = [f"name=Cam {i};source={anomaly_video};checkpoint={ui_checkpoint}" for i in (1, 2, 3)]
    command = [sys.executable, str(REPO_ROOT / "realtime_ui_advanced_windows.py")]
    for camera in cameras:
        command += ["--camera", camera]
    command += ["--layout", "2x2", "--frames", "10", "--screenshot", str(shot), "--device", "cpu"]
    command += ["--settings-file", str(tmp_path / "ui.ini"), "--output", str(tmp_path / "events"), *NO_GIVING_UP]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    completed = run_process(command, env=env, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert QImage(str(shot)).width() == 1280
    assert not (tmp_path / "ui.ini").is_file() or "[cameras]" not in (tmp_path / "ui.ini").read_text(), (
        "a scripted run does not replace the user's saved cameras"
    )

    bad = run_process(command[:2] + ["--camera", "name=Gate"], env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "source" in bad.stderr
