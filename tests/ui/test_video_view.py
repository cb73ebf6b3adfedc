"""Region labels on the video: side-by-side people must not hide each other's scores."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRectF  # noqa: E402

from aivad.results import RegionResult  # noqa: E402
from aivad.ui import video_view  # noqa: E402
from aivad.ui.video_view import VideoView, place_labels  # noqa: E402
from aivad.ui.worker import DisplayFrame  # noqa: E402


def test_labels_of_boxes_side_by_side_do_not_overlap():
    bounds = QRectF(0, 0, 400, 300)
    # three people 20 px apart, labels 90 px wide: above each box they would overlap
    boxes = [QRectF(100 + 20 * k, 100, 18, 60) for k in range(3)]
    pills = place_labels(boxes, [(90.0, 16.0)] * 3, bounds)
    assert pills[0] == QRectF(100, 84, 90, 16)  # the first (most important) keeps the place above its box
    for i in range(3):
        assert bounds.contains(pills[i])
        for j in range(i):
            assert not pills[i].intersects(pills[j]), (i, j, pills[i], pills[j])


def test_labels_stay_inside_the_picture():
    bounds = QRectF(10, 10, 200, 100)
    boxes = [QRectF(150, 10, 50, 100)]  # touches the top and the bottom, near the right edge
    (pill,) = place_labels(boxes, [(80.0, 16.0)], bounds)
    assert bounds.contains(pill)


def paint_and_spy(qtbot, monkeypatch, scores, threshold):
    """Paint a frame with four people side by side; the labels the view placed, strongest first."""
    seen = {}
    real = video_view.place_labels

    def spy(boxes, sizes, bounds):
        seen["pills"] = real(boxes, sizes, bounds)
        return seen["pills"]

    monkeypatch.setattr(video_view, "place_labels", spy)
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
            assert not pills[i].intersects(pills[j])


def test_ordinary_passers_by_get_a_box_but_no_label(qtbot, monkeypatch):
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 1.2], threshold=2.0)) == 1  # only 1.2 >= 1.0
    # a quiet frame still names its most unusual region
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 0.4], threshold=2.0)) == 1
    # without a usable threshold every region is labelled
    assert len(paint_and_spy(qtbot, monkeypatch, [0.1, 0.2, 0.3, 0.4], threshold=float("nan"))) == 4
