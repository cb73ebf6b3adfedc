"""Frames scored at the training footage's size (aivad.video.frame_size): a camera's sub-stream or main
stream scores as the footage the checkpoint was trained on, with boxes at the camera's own size."""

from __future__ import annotations

import cv2
import numpy as np

from aivad.video.frame_size import FrameSizer, resize_message, training_frame_size


def test_the_training_size_is_the_one_all_training_videos_share():
    assert training_frame_size({"videos": [{"size": [768, 576]}, {"size": [768, 576]}]}) == (768, 576)
    assert training_frame_size({"videos": [{"size": [768, 576]}, {"size": [1280, 720]}]}) is None  # mixed
    assert training_frame_size({"videos": [{"path": "old.mp4"}]}) is None  # an older summary
    assert training_frame_size({}) is None


def test_only_frames_of_the_training_aspect_are_scaled():
    sizer = FrameSizer((160, 120))
    same = np.zeros((120, 160, 3), np.uint8)
    assert sizer.fit(same) is same and sizer.resized_from is None
    half = np.zeros((60, 80, 3), np.uint8)
    assert sizer.fit(half).shape == (120, 160, 3) and sizer.scale_for(half.shape) == 0.5
    assert sizer.resized_from == (80, 60)
    assert "80x60" in resize_message(sizer.resized_from, sizer.training_size)
    wide = np.zeros((90, 160, 3), np.uint8)  # 16:9 from a 4:3 view: another crop, not scaled
    assert sizer.fit(wide) is wide and sizer.resized_from is None
    assert FrameSizer(None).fit(half) is half  # mixed or unknown training sizes: nothing scaled
    assert resize_message(None, (160, 120)) == ""


def test_a_stream_at_twice_the_training_size_scores_as_the_training_size(lite_checkpoint, lite_training_videos):
    """Each 2x2 block of the doubled frames is one pixel of the originals, so scaled back they are the
    originals exactly: every score is the same, and every box is twice the original's, on the camera's frames."""
    from aivad.live.detector import Detector
    from aivad.video.files import read_frames

    frames = [frame for _, frame in read_frames(lite_training_videos[1])][:25]
    doubled = [cv2.resize(f, (f.shape[1] * 2, f.shape[0] * 2), interpolation=cv2.INTER_NEAREST) for f in frames]
    detector = Detector.load(lite_checkpoint, device="cpu")
    assert detector.training_size == (160, 120)
    original = [detector.process(frame) for frame in frames]
    assert detector.resized_from is None
    detector.reset()
    scaled = [detector.process(frame) for frame in doubled]
    assert detector.resized_from == (320, 240)
    assert [r.score for r in scaled] == [r.score for r in original]
    boxes = [[region.box for region in r.regions] for r in original]
    assert any(boxes)
    assert [[region.box for region in r.regions] for r in scaled] == [
        [tuple(2 * v for v in box) for box in frame_boxes] for frame_boxes in boxes
    ]
