"""The view check (aivad.features.camera_view): a camera turned away from its training view is told apart."""

from __future__ import annotations

import cv2
import numpy as np
from test_camera_motion import scene

from aivad.features.camera_view import (
    VIEW_EVERY,
    VIEW_MIN_SAMPLES,
    ViewMonitor,
    decode_view,
    reference_view,
)
from aivad.video.files import validate_videos


def turned(image: np.ndarray) -> np.ndarray:
    """The camera turned by a quarter of the picture (and a little down)."""
    matrix = np.float32([[1, 0, image.shape[1] // 4], [0, 1, 30]])
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)


def walking(count: int) -> list[np.ndarray]:
    return [scene(figure_x=60 + 6 * i) for i in range(count)]


def write_video(path, frames) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()


def judged(monitor: ViewMonitor, frames) -> list[bool]:
    monitor.reset()
    out = []
    for frame in frames:
        monitor.add(frame)
        out.append(monitor.changed)
    return out


def test_the_training_view_is_stored_and_a_turned_camera_is_told_apart(tmp_path):
    video = tmp_path / "학습 영상.mp4"
    write_video(video, walking(40))
    stored = reference_view(validate_videos([video]))
    reference = decode_view(stored)
    assert reference is not None and reference.dtype == np.uint8
    monitor = ViewMonitor(reference)
    frames = walking(60)
    assert not any(judged(monitor, frames))  # the same yard, other moments of the walk
    assert monitor.similarity > 0.8
    changed = judged(monitor, [turned(f) for f in frames])
    first = changed.index(True)
    assert first == (VIEW_MIN_SAMPLES - 1) * VIEW_EVERY  # as soon as enough samples are in
    assert all(changed[first:])
    # a covered lens is no view at all: not sampled, so not "changed" (the lite backend says "no picture")
    assert not any(judged(monitor, [np.full_like(frames[0], 8)] * 60))
    # a checkpoint from before the view check has none: nothing is judged
    assert not any(judged(ViewMonitor(decode_view(None)), [turned(f) for f in frames]))


def test_the_detector_says_when_its_camera_looks_elsewhere(lite_checkpoint, lite_training_videos):
    from aivad.live.detector import Detector
    from aivad.video.files import read_frames

    detector = Detector.load(lite_checkpoint, device="cpu")
    assert decode_view(detector.info.get("camera_view")) is not None  # training stored it
    frames = [frame for _, frame in read_frames(lite_training_videos[1])] * 2  # long enough to be judged
    assert all(detector.process(frame).camera == "" for frame in frames)
    detector.reset()
    elsewhere = [cv2.flip(turned(frame), 0) for frame in frames]
    cameras = [detector.process(frame).camera for frame in elsewhere]
    assert cameras[-1] == "view changed", cameras
