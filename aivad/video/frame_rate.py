"""A stream faster than the training footage, scored at the training footage's time step.

Why: the model's speeds are in pixels per frame, and its frame differences are the blobs of what moved
between two frames. A camera's live stream often runs faster than the footage it was trained on (trained
on an NVR's 10 fps recordings, watching its 20-30 fps stream): between two of its frames everything has
moved a half or a third as far, so a sprinter looks like a walker and slow objects fall apart into slivers.
So where the stream runs at about k times the training rate (k >= 2), every k-th frame is scored, paired
with the frame k before it: the same time step as in training, and the same smoothing, scene baseline and
holds, which count scored frames. The frames in between repeat the last scored frame's result (the
model's work falls by k, too). Measured on the seven development splits with models trained on every
other frame of the training videos (5 fps) and tested at 10 fps: docs/results.md, "Another frame rate
than the training footage".

A stream *slower* than the training footage cannot be helped this way (the frames in between do not
exist): the window, ``watch`` and ``score`` say so, since speeds then look faster than they are.
The stream's rate is the median of the last frames' time steps; without times (frames given without
``time_s``) nothing is matched.
"""

from __future__ import annotations

import math
from collections import deque

RATE_SAMPLES = 9  # time steps whose median is the stream's rate: one late frame does not change it
SLOWER_WARNING = 1.0 / math.sqrt(2)  # stream / training rate under which speeds look faster (k = 1 is nearer)


def training_frame_rate(info: dict) -> float | None:
    """The frame rate every training video of a checkpoint's summary shares (within 1%); None if they differ."""
    rates = [float(video["fps"]) for video in info.get("videos", []) if video.get("fps")]
    if not rates or max(rates) > min(rates) * 1.01:
        return None
    return rates[0]


def frame_step(stream_fps: float | None, training_fps: float | None) -> int:
    """The k whose pairs (frame t - k, frame t) span the time step nearest the training's (1 if unknown)."""
    if not stream_fps or not training_fps or stream_fps < training_fps:
        return 1
    ratio = stream_fps / training_fps  # >= 1 here, so both candidates are >= 1
    return min((math.floor(ratio), math.ceil(ratio)), key=lambda k: abs(math.log(k / ratio)))


def runs_slower(stream_fps: float | None, training_fps: float | None) -> bool:
    """The stream runs clearly slower than the training footage (speeds look faster than they are)."""
    return bool(stream_fps and training_fps and stream_fps < SLOWER_WARNING * training_fps)


class FrameRate:
    """One stream's rate, from its frames' times, and the step at which it is scored."""

    def __init__(self, training_fps: float | None) -> None:
        self.training_fps = training_fps
        self.stream_fps: float | None = None
        self._last_time: float | None = None
        self._steps: deque[float] = deque(maxlen=RATE_SAMPLES)

    def reset(self) -> None:
        self.stream_fps, self._last_time = None, None
        self._steps.clear()

    def observe(self, time_s: float | None) -> int:
        """Take a frame's time; returns the step k to score the stream at (1: every frame, as it comes)."""
        if time_s is not None:
            if self._last_time is not None and time_s > self._last_time:
                self._steps.append(time_s - self._last_time)
                ordered = sorted(self._steps)
                self.stream_fps = 1.0 / ordered[len(ordered) // 2]
            self._last_time = time_s
        return self.step

    @property
    def step(self) -> int:
        return frame_step(self.stream_fps, self.training_fps)

    @property
    def slower(self) -> bool:
        """The stream runs clearly slower than the training footage (speeds look faster than they are)."""
        return runs_slower(self.stream_fps, self.training_fps)


def rate_message(stream_fps: float | None, training_fps: float | None, step: int) -> str:
    """What the log, ``score`` and the window say about the stream's rate ("" where it matches the training's)."""
    if not stream_fps or not training_fps:
        return ""
    if step > 1:
        return (
            f"the stream runs at {stream_fps:.0f} fps, the training footage at {training_fps:.0f} fps: one frame in "
            f"{step} is scored, against the frame {step} before it (the training's time step)"
        )
    if runs_slower(stream_fps, training_fps):
        return (
            f"the stream runs at {stream_fps:.0f} fps, slower than the training footage's {training_fps:.0f} fps: "
            "things look faster than they are; train on footage at this frame rate"
        )
    return ""
