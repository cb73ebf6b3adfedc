"""Frame sources: a file (seek, step, newest-frame slot) and a lost network stream."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest

pytest.importorskip("pytestqt")


from aivad.video.file_source import FileSource  # noqa: E402
from aivad.video.live_sources import StreamSource  # noqa: E402
from aivad.video.sources import FrameSlot, SourceFrame  # noqa: E402


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


def test_the_window_restarts_motion_after_a_reconnection_and_everything_on_a_new_source(qtbot):
    """The window's worker does what the headless streams do (tests/test_streams.py): the first frame after an
    outage starts a new motion pair, a new source or a seek restarts the whole stream."""
    from types import SimpleNamespace

    import numpy as np

    from aivad.live.scheduler import InferenceScheduler
    from aivad.ui.worker import InferenceWorker

    calls: list[str] = []
    worker = InferenceWorker(InferenceScheduler(workers=1))
    worker.detector = SimpleNamespace(
        reset=lambda: calls.append("reset"), restart_motion=lambda: calls.append("restart_motion")
    )
    image = np.zeros((8, 8, 3), np.uint8)
    for frame in (
        SourceFrame(image, 0, 0.0, 0.0, reconnected=True),  # a new source: everything starts over
        SourceFrame(image, 1, 0.1, 0.1),
        SourceFrame(image, 2, 9.0, 9.0, reconnected=True),  # back after an outage
        SourceFrame(image, 3, 9.1, 9.1),
    ):
        worker._begin(frame)
    assert calls == ["reset", "restart_motion"]


def test_a_source_of_another_size_says_whether_its_frames_are_scaled(window):
    """The detector scales frames of the training aspect to the training size (aivad.video.frame_size):
    the window says so; a source of another aspect still gets the warning that scores may not match."""
    from types import SimpleNamespace

    window.checkpoint_info = {"videos": [{"size": [160, 120]}, {"size": [160, 120]}]}
    try:
        window.source = SimpleNamespace(size=(80, 60))  # a sub-stream at half size
        window._warn_if_size_differs()
        message = window.statusBar().currentMessage()
        assert "80×60" in message and "scaled to 160×120" in message, message
        window.source = SimpleNamespace(size=(160, 90))  # 16:9 from a 4:3 view: another picture
        window._warn_if_size_differs()
        message = window.statusBar().currentMessage()
        assert "may not match the calibrated threshold" in message, message
    finally:
        window.source, window.checkpoint_info = None, None
