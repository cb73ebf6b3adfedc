"""A stream's frames as the pairs the model scores: at the training footage's size and time step.

The model sees motion as a pair of frames (the one before and this one). A live stream's frames come at
the camera's size and rate, which need not be the training footage's (aivad.video.frame_size,
aivad.video.frame_rate): here each frame is scaled to the training size, and where the stream runs at k
times the training rate only every k-th frame makes a pair, with the frame k before it. Kept apart from
the detector, which scores what this gives it.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from aivad.video.frame_rate import FrameRate, training_frame_rate
from aivad.video.frame_size import FrameSizer, training_frame_size


def as_bgr(frame: np.ndarray) -> np.ndarray:
    import cv2

    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


class FramePairs:
    """One stream's frame pairs. After :meth:`next`: ``box_scale`` (camera pixels per training pixel, None when
    not scaled) and ``between`` (the frame lies between two scored frames of a fast stream)."""

    def __init__(self, info: dict) -> None:
        self.sizer = FrameSizer(training_frame_size(info))
        self.rate = FrameRate(training_frame_rate(info))
        self.box_scale: float | None = None
        self.between = False
        self._previous: np.ndarray | None = None
        self._recent: deque[np.ndarray] = deque()  # frames since the last pair's end, while the step is > 1
        self._index = 0

    def reset(self) -> None:
        """A new stream."""
        self.restart()
        self._index = 0
        self.rate.reset()

    def restart(self) -> None:
        """The footage jumped: the next frame starts a new pair."""
        self._previous = None
        self._recent.clear()
        self.between = False

    def next(
        self, frame: np.ndarray, frame_index: int | None, previous: np.ndarray | None, time_s: float | None
    ) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray] | None]:
        """(the frame at the training size, its index, the pair to score or None).

        ``previous`` is the frame that really came just before this one, where a viewer that skips frames
        has it; a fast stream's frames in between are kept here instead."""
        frame = as_bgr(frame)
        self.box_scale = self.sizer.scale_for(frame.shape)
        frame = self.sizer.fit(frame)
        index = self._index if frame_index is None else frame_index
        self._index = index + 1
        step = self.rate.observe(time_s)
        self.between = False
        if step > 1:
            return frame, index, self._by_step(frame, step)
        self._recent.clear()
        if previous is not None:
            previous = self.sizer.fit(as_bgr(previous))
            if previous.shape == frame.shape:
                self._previous = previous
        pair = None
        if self._previous is not None and self._previous.shape == frame.shape:
            pair = (self._previous, frame)
        self._previous = frame
        return frame, index, pair

    def _by_step(self, frame: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not self._recent and self._previous is not None and self._previous.shape == frame.shape:
            self._recent.append(self._previous)  # the stream was scored frame by frame until now
        if self._recent and self._recent[0].shape != frame.shape:
            self._recent.clear()
        self._recent.append(frame)
        self._previous = frame
        if len(self._recent) <= step:
            self.between = len(self._recent) > 1  # a first frame has nothing before it to repeat
            return None
        pair = (self._recent[0], frame)
        self._recent.clear()
        self._recent.append(frame)  # the next pair starts here
        return pair
