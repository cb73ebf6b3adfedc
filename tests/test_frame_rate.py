"""A stream faster than the training footage, scored at its time step (aivad.video.frame_rate,
aivad.live.frame_pairs): a 20 fps camera on a model trained at 10 fps sees the motion it was trained on."""

from __future__ import annotations

import pytest

from aivad.video.frame_rate import FrameRate, frame_step, rate_message, training_frame_rate


def test_the_step_spans_the_training_time_step_most_nearly():
    assert frame_step(10, 10) == 1
    assert frame_step(14, 10) == 1 and frame_step(15, 10) == 2  # the boundary is sqrt(2) in ratio
    assert frame_step(20, 10) == 2 and frame_step(30, 10) == 3 and frame_step(25, 10) == 3
    assert frame_step(29.97, 15) == 2
    assert frame_step(5, 10) == 1  # slower: no frames to skip
    assert frame_step(None, 10) == 1 and frame_step(25, None) == 1


def test_the_training_rate_is_the_one_all_training_videos_share():
    assert training_frame_rate({"videos": [{"fps": 10.0}, {"fps": 10.0}]}) == 10.0
    assert training_frame_rate({"videos": [{"fps": 10.0}, {"fps": 25.0}]}) is None
    assert training_frame_rate({}) is None


def test_the_streams_rate_is_the_median_of_its_time_steps():
    rate = FrameRate(10.0)
    assert rate.observe(0.0) == 1 and rate.stream_fps is None  # one frame: no rate yet
    steps = [rate.observe(t / 20) for t in range(1, 12)]
    assert steps == [2] * 11 and rate.stream_fps == pytest.approx(20.0)
    assert rate.observe(0.55 + 0.5) == 2  # one late frame does not change it
    assert "one frame in 2 is scored" in rate_message(rate.stream_fps, 10.0, rate.step)
    slow = FrameRate(10.0)
    for t in range(5):
        slow.observe(t / 5)
    assert slow.step == 1 and slow.slower and "slower than the training" in rate_message(5.0, 10.0, 1)
    assert rate_message(10.0, 10.0, 1) == "" and rate_message(None, 10.0, 1) == ""


def test_a_stream_at_twice_the_training_rate_scores_the_training_pairs(lite_checkpoint, lite_training_videos):
    """Each training-rate frame shown twice at 20 fps: every second frame is scored against the frame two
    before, which is the training-rate pair, so its result is the 10 fps stream's to the bit; the frame in
    between repeats it."""
    from aivad.live.detector import Detector
    from aivad.video.files import read_frames

    frames = [frame for _, frame in read_frames(lite_training_videos[1])][:20]
    detector = Detector.load(lite_checkpoint, device="cpu")
    at_training_rate = [detector.process(frame, time_s=i / 10) for i, frame in enumerate(frames)]
    assert detector.frame_rate.step == 1
    detector.reset()
    doubled = [frame for frame in frames for _ in range(2)]
    fast = [detector.process(frame, time_s=j / 20, frame_index=j) for j, frame in enumerate(doubled)]
    assert detector.frame_rate.step == 2
    assert [r.score for r in fast[2::2]] == [r.score for r in at_training_rate[1:]]
    assert [r.score for r in fast[3::2]] == [r.score for r in fast[2:-1:2]]  # the frames between repeat
    assert [r.frame_index for r in fast] == list(range(len(doubled)))
    assert fast[0].score == fast[1].score == 0.0  # nothing before them to pair with
    assert any(r.regions for r in fast[2::2])
    # a viewer's whole video, offline and centred: the smoothing spans the same time as trained
    detector.reset()
    assert len(detector.score_frames(enumerate(doubled), fps=20.0)) == len(doubled)


def test_teaching_a_fast_clip_pairs_its_frames_as_the_detector_does(tiny_video):
    import numpy as np

    from aivad.model.teach import frames_step_apart
    from aivad.video.files import read_frames

    video = tiny_video("fast clip.mp4", n_frames=12)
    frames = [frame for _, frame in read_frames(video)]
    pairs = list(frames_step_apart(video, first=3, step=2))
    assert [index for index, _, _ in pairs] == [3, 5, 7, 9, 11]
    for index, previous, frame in pairs:
        assert np.array_equal(previous, frames[index - 2]) and np.array_equal(frame, frames[index])
    assert [index for index, _, _ in frames_step_apart(video, first=0, step=3)] == [3, 6, 9]
