"""Region labels on the video: which regions the window labels, and that its labels lie apart."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from aivad.live.render import boxes_overlap  # noqa: E402
from aivad.live.results import RegionResult  # noqa: E402
from aivad.ui import video_view  # noqa: E402
from aivad.ui.reports import DisplayFrame  # noqa: E402
from aivad.ui.video_view import VideoView  # noqa: E402


def paint_and_spy(qtbot, monkeypatch, scores, threshold):
    """Paint a frame with four people side by side; the labels the view placed."""
    seen = {}
    real = video_view.label_layout

    def spy(*args):
        layout = real(*args)
        seen["pills"] = list(layout.values())
        return layout

    monkeypatch.setattr(video_view, "label_layout", spy)
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    regions = [
        RegionResult((100 + 25 * k, 100, 122 + 25 * k, 160), score, {"velocity": score, "geometry": 0.0})
        for k, score in enumerate(scores)
    ]
    frame = DisplayFrame(
        image=np.zeros((240, 320, 3), np.uint8),
        index=0,
        time_s=0.0,
        result=None,
        regions=regions,
        ignored=[],
        alarm=False,
        threshold=threshold,
        heatmap=None,
        open_event=None,
    )
    view.set_frame(frame)
    view.grab()  # paints
    return seen["pills"]


def test_the_view_places_every_label_apart(qtbot, monkeypatch):
    pills = paint_and_spy(qtbot, monkeypatch, [0.3, 0.5, 0.7, 0.9], threshold=0.5)
    assert len(pills) == 4  # all at least half the threshold
    for i in range(4):
        for j in range(i):
            assert not boxes_overlap(pills[i], pills[j])


def test_ordinary_passers_by_get_a_box_but_no_label(qtbot, monkeypatch):
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 1.2], threshold=2.0)) == 1  # only 1.2 >= 1.0
    # a quiet frame still names its most unusual region
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 0.4], threshold=2.0)) == 1
    # without a usable threshold every region is labelled
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 0.4], threshold=float("nan"))) == 4


def test_the_view_says_what_the_camera_does(qtbot):
    """A covered camera's note is painted on the picture (top left), in the warning colour; none when still."""
    from PySide6.QtGui import QColor

    from aivad.live.results import FrameResult
    from aivad.ui.theme import COLOURS

    warning = QColor(COLOURS["warning"])

    def painted(camera: str) -> int:
        view = VideoView()
        qtbot.addWidget(view)
        view.resize(640, 480)
        result = FrameResult(0, 0.0, 0.0, 0.0, False, {}, [], camera=camera)
        view.set_frame(DisplayFrame(np.zeros((240, 320, 3), np.uint8), 0, 0.0, result, [], [], False, 1.0, None, None))
        image = view.grab().toImage()
        corner = [image.pixelColor(x, y) for x in range(0, 320, 2) for y in range(0, 80, 2)]
        return sum(abs(c.red() - warning.red()) + abs(c.green() - warning.green()) < 60 for c in corner)

    assert painted("no picture") > 0
    assert painted("") == 0
