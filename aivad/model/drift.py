"""Scene baseline: each attribute re-centred on what the camera's own recent footage does.

Why: each attribute is calibrated on normal footage the densities did not see (aivad.model.calibration),
but from one or two short training videos "not seen" still means the same hour, often the same
people. On another hour the appearance of ordinary passers-by is new to a kNN memory of a few
dozen people, and the attribute's whole normal level rises (on a held-out benchmark the median
normal frame sat at 0.80 of the alarm level for appearance against 0.20 for velocity), so that the
most unusual attribute of every frame is appearance noise, and the frame score is in alarm or
blind. A person model does not fix that; adapting to the camera does.

So each stream keeps, per attribute, the median of its frame maxima over the last
``WINDOW_FRAMES`` frames, and when that median lies above the median the attribute had on held-out
normal footage (stored by training), the difference is taken off the attribute: the level normal
footage sits at is the level the calibration promised. Only upward drift is removed (calmer
footage is not made more sensitive), the median ignores short events (an anomaly of a few seconds
moves a median over minutes by a few ranks), and until the stream has history the held-out median
counts as ``PRIOR_FRAMES`` frames of it, so the first seconds are scored as trained. Training
applies the same causal re-centring to the held-out footage before it sets the threshold, so the
false-alarm rate is counted on what live use computes.
"""

from __future__ import annotations

import bisect
from collections import deque

import numpy as np

WINDOW_FRAMES = 3000  # 5 minutes at 10 fps, 2 at 25: long next to an event, short next to a change of light
# The held-out median's weight before the stream has its own history (5 s at 10 fps). Why not more: with
# 100 frames, the 40 s test videos of the development splits with people near the camera spent most of
# their length adapting (appearance's median normal frame 0.50 on split c and 0.53 on e); with 50, 0.35
# and 0.48, frame AUROC on e 0.886 / 0.831 -> 0.908 / 0.852 (centred / causal), a-d within 0.003
# (docs/experiments.md). Fewer still (25, 10) cost a and c up to 0.006 for little more on e, and an
# event under way when a stream starts would be taken for its normal level sooner.
PRIOR_FRAMES = 50


class RunningMedian:
    """Median of the last ``window`` values plus ``prior_count`` copies of ``prior``."""

    def __init__(self, prior: float, prior_count: int = PRIOR_FRAMES, window: int = WINDOW_FRAMES) -> None:
        self.prior, self.prior_count = float(prior), int(prior_count)
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._window = int(window)

    def add(self, value: float) -> None:
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        if len(self._recent) > self._window:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def median(self) -> float:
        total = len(self._sorted) + self.prior_count
        if total == 0:
            return self.prior
        below = bisect.bisect_left(self._sorted, self.prior)  # recent values under the prior's block
        ranks = (total - 1) / 2.0  # average of the two middle ranks when the total is even
        return 0.5 * (self._value_at(int(np.floor(ranks)), below) + self._value_at(int(np.ceil(ranks)), below))

    def _value_at(self, rank: int, below: int) -> float:
        if rank < below:
            return self._sorted[rank]
        if rank < below + self.prior_count:
            return self.prior
        return self._sorted[rank - self.prior_count]


class SceneBaseline:
    """Per-attribute upward drift of one stream, taken off its frame and region scores."""

    def __init__(self, reference: dict[str, float] | None) -> None:
        self.reference = dict(reference or {})  # attribute -> median held-out frame maximum; empty: no re-centring
        self._medians: dict[str, RunningMedian] = {}

    def reset(self) -> None:
        self._medians.clear()

    def shifts(self, frame_maxima: dict[str, float]) -> dict[str, float]:
        """Add this frame's maxima to the history; the amount to take off each attribute now."""
        out = {}
        for name, value in frame_maxima.items():
            if name not in self.reference:
                continue
            median = self._medians.setdefault(name, RunningMedian(self.reference[name]))
            median.add(float(value))
            out[name] = max(0.0, median.median() - self.reference[name])
        return out


def recentred_sequence(values: np.ndarray, reference: float) -> np.ndarray:
    """:class:`SceneBaseline` over one video's frame maxima of one attribute, all at once (training, replays)."""
    baseline = SceneBaseline({"attribute": reference})
    values = np.asarray(values, dtype=np.float64)
    return np.array([value - baseline.shifts({"attribute": float(value)})["attribute"] for value in values])
