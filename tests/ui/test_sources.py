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
