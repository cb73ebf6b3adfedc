"""benchmarks/stream_mismatch.py and half_rate_split.py: the streams they play are what they say."""

from __future__ import annotations

import numpy as np
from helpers import load_benchmark


def test_each_kind_plays_the_test_video_as_named():
    bench = load_benchmark("stream_mismatch")
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(10)]
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 0, 0, 0])
    segments = [("walker", 3, 6)]
    video, kept, kept_segments, fps = bench.played(frames, labels, segments, "half_rate")
    assert len(video) == 5 and kept.tolist() == [0, 0, 1, 1, 0] and kept_segments == [("walker", 1, 3)]
    assert fps == bench.FPS / 2 and np.array_equal(video[1], frames[2])
    for kind, shape in (("half_size", (24, 32, 3)), ("double_size", (96, 128, 3)), ("quarter_size", (12, 16, 3))):
        video, same, _, fps = bench.played(frames, labels, segments, kind)
        assert video[0].shape == shape and same is labels and fps == bench.FPS, kind
    assert bench.played(frames, labels, segments, "as_trained")[0] is frames
    grey = bench.played([np.dstack([np.full((48, 64), v, np.uint8) for v in (10, 120, 240)])], labels, segments, "grey")
    assert np.ptp(grey[0][0], axis=2).max() == 0  # no colour left
    for kind in ("night", "rain", "jpeg"):
        changed = bench.played(frames, labels, segments, kind)[0]
        assert len(changed) == len(frames) and changed[5].shape == frames[5].shape, kind


def test_the_half_rate_split_keeps_every_other_training_frame(tmp_path, tiny_video):
    from aivad.video.files import probe_video, read_frames

    source = tiny_video("clip.mp4", n_frames=12)
    target = tmp_path / "half.mp4"
    assert load_benchmark("half_rate_split").write_half_rate(source, target) == 6
    info = probe_video(target)
    assert info.n_frames == 6 and info.fps == probe_video(source).fps / 2
    kept = [frame for _, frame in read_frames(target)]
    originals = [frame for index, frame in read_frames(source) if index % 2 == 0]
    assert all(np.abs(a.astype(int) - b.astype(int)).mean() < 8 for a, b in zip(kept, originals))
