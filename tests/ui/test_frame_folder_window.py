"""Issue 27 item 1 in the window: a frame folder (a folder of numbered images) opens and plays like a video file."""

from __future__ import annotations

import cv2
from window_helpers import load, play_to_end

from aivad.video.files import read_frames


def test_a_frame_folder_plays_in_the_window(qtbot, window, ui_checkpoint, anomaly_video, tmp_path):
    folder = tmp_path / "프레임 폴더"  # Korean and a space, as Windows users name folders
    folder.mkdir()
    for index, frame in read_frames(anomaly_video):
        assert cv2.imwrite(str(folder / f"{index + 1}.png"), frame)
    load(qtbot, window, ui_checkpoint)
    play_to_end(qtbot, window, folder)
    assert not window.banner.isVisible() or window.banner.level == "info"  # no "file not found"
    assert window.source.frame_count == 40 and window.source.position == 39
    assert window.chart.point_count >= 38  # every frame has a score, as for the video file
