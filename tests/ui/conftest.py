"""Fixtures of the window tests: a trained lite checkpoint, a clip with an anomaly, a fresh window.

Headless with pytest-qt (QT_QPA_PLATFORM=offscreen unless set); settings in a temporary file.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402
from window_helpers import FPS, SIZE  # noqa: E402

from aivad.ui import i18n  # noqa: E402
from aivad.ui.app import MainWindow  # noqa: E402
from aivad.ui.theme import apply_theme  # noqa: E402
from aivad.video.synthetic import make_scene_video  # noqa: E402


@pytest.fixture(scope="session")
def ui_checkpoint(lite_checkpoint) -> Path:
    return Path(lite_checkpoint)


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
