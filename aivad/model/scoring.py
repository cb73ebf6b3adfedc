"""From region attribute scores to frame scores: aggregation, temporal smoothing, threshold.

Per attribute, the frame keeps its most unusual region (the per-attribute maxima say why an alarm
rang). Each attribute is calibrated on held-out normal footage (aivad.model.calibration), so a value of 1
means "as unusual as the top 1% of unseen normal footage" for every attribute alike. Scores are
smoothed in time with a Gaussian (sigma 3 frames in the authors' code): centred for offline
scoring, one-sided (past frames only) for live use, where future frames do not exist yet.

How a frame's attributes become one score (``ModelConfig.combine``):
- ``max_smoothed`` (models trained by this version): each attribute is smoothed on its own and the
  score is the largest smoothed attribute, the one the window names. Why not the maximum first and
  the smoothing after: on normal footage the attributes' frame-to-frame noise is independent, and
  the maximum of three noisy values, smoothed, adds up their upward flickers into a raised floor
  that no single attribute shows. On the development set's held-out normal footage the highest
  smoothed score fell from 1.39 to 1.19 (split a) and 1.42 to 1.17 (split b), with the anomalies'
  first-second peaks unchanged to 0.03, so the calibrated thresholds came down (README);
- ``max``: the maximum over attributes, then smoothed (checkpoints from before ``max_smoothed``);
- ``sum``: AI-VAD's plain sum, then smoothed (older checkpoints and anomalib's, whose thresholds
  were calibrated for it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def frame_attribute_scores(region_scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Max over the frame's regions per attribute; regions without the attribute (NaN) are skipped,
    and a frame where no region has it scores 0, the normal minimum."""
    out = {}
    for name, scores in region_scores.items():
        present = np.asarray(scores)[~np.isnan(scores)]
        out[name] = float(np.max(present)) if len(present) else 0.0
    return out


MAX_SMOOTHED = "max_smoothed"
COMBINATIONS = (MAX_SMOOTHED, "max", "sum")
MAXIMUM_COMBINATIONS = (MAX_SMOOTHED, "max")  # unsmoothed, both are the largest attribute


def combine_attributes(attribute_scores: dict[str, float], method: str) -> float:
    """One number for a frame (or a region) from its per-attribute scores."""
    if not attribute_scores:
        return 0.0
    if method in MAXIMUM_COMBINATIONS:  # a region's or a frame's unsmoothed value
        return float(max(attribute_scores.values()))
    return float(sum(attribute_scores.values()))


def gaussian_weights(sigma: float, causal: bool) -> np.ndarray:
    if sigma <= 0:
        return np.ones(1)
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(0, radius + 1) if causal else np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def smooth_causal(raw: np.ndarray, sigma: float) -> np.ndarray:
    """Weighted mean of each frame and the frames before it (weights renormalised at the start)."""
    raw = np.asarray(raw, dtype=np.float64)
    weights = gaussian_weights(sigma, causal=True)  # weights[k] applies to frame t - k
    out = np.empty_like(raw)
    for t in range(len(raw)):
        history = raw[max(0, t - len(weights) + 1) : t + 1][::-1]
        w = weights[: len(history)]
        out[t] = float(np.dot(history, w) / w.sum())
    return out


def smooth_causal_per_video(values: np.ndarray, video_index: np.ndarray, sigma: float) -> list[np.ndarray]:
    """:func:`smooth_causal` within each video (in ``np.unique`` order): never across two videos."""
    return [smooth_causal(values[video_index == v], sigma) for v in np.unique(video_index)]


def smooth_centred(raw: np.ndarray, sigma: float) -> np.ndarray:
    """Symmetric Gaussian smoothing with edge-reflected padding (as scipy's gaussian_filter1d)."""
    raw = np.asarray(raw, dtype=np.float64)
    if sigma <= 0 or len(raw) == 0:
        return raw.copy()
    weights = gaussian_weights(sigma, causal=False)
    radius = len(weights) // 2
    padded = np.pad(raw, radius, mode="symmetric") if len(raw) > 1 else np.full(len(raw) + 2 * radius, raw[0])
    return np.convolve(padded, weights, mode="valid")


class CausalSmoother:
    """Streaming version of :func:`smooth_causal`: one value in, one smoothed value out."""

    def __init__(self, sigma: float) -> None:
        self.sigma = sigma
        self.history: list[float] = []

    def reset(self) -> None:
        self.history.clear()

    def update(self, raw: float) -> float:
        weights = gaussian_weights(self.sigma, causal=True)
        self.history.append(float(raw))
        del self.history[: max(0, len(self.history) - len(weights))]
        recent = np.array(self.history[::-1])
        w = weights[: len(recent)]
        return float(np.dot(recent, w) / w.sum())


class AttributeSmoother:
    """Each attribute's frame maximum smoothed like the frame score, so the attribute named as the
    cause of a smoothed score is the one it comes from: seconds after a runner has left, the smoothed
    score still holds his velocity, while the current frame's top attribute may be anything."""

    def __init__(self, sigma: float) -> None:
        self._sigma = sigma
        self._smoothers: dict[str, CausalSmoother] = {}

    @property
    def sigma(self) -> float:
        return self._sigma

    @sigma.setter
    def sigma(self, value: float) -> None:
        self._sigma = value
        for smoother in self._smoothers.values():
            smoother.sigma = value

    def reset(self) -> None:
        self._smoothers.clear()

    def update(self, attribute_scores: dict[str, float]) -> dict[str, float]:
        return {
            name: self._smoothers.setdefault(name, CausalSmoother(self._sigma)).update(value)
            for name, value in attribute_scores.items()
        }


class FrameSmoother:
    """Live (causal) smoothing of one stream: (raw score, attribute scores) -> (score, smoothed attributes).

    ``score`` is what the threshold applies to, combined as ``combine`` says (module docstring).
    """

    def __init__(self, sigma: float, combine: str) -> None:
        self.combine = combine
        self._raw = CausalSmoother(sigma)
        self._attributes = AttributeSmoother(sigma)

    @property
    def sigma(self) -> float:
        return self._raw.sigma

    @sigma.setter
    def sigma(self, value: float) -> None:
        self._raw.sigma = self._attributes.sigma = value

    def reset(self) -> None:
        self._raw.reset()
        self._attributes.reset()

    def update(self, raw: float, attribute_scores: dict[str, float]) -> tuple[float, dict[str, float]]:
        smoothed_raw = self._raw.update(raw)
        smoothed = self._attributes.update(attribute_scores)
        if self.combine == MAX_SMOOTHED:
            return (max(smoothed.values()) if smoothed else 0.0), smoothed
        return smoothed_raw, smoothed


def smooth_sequence(
    raw: np.ndarray, attributes: dict[str, np.ndarray], sigma: float, combine: str, centred: bool
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A whole sequence at once: (scores, smoothed attributes), as :class:`FrameSmoother` would give
    frame by frame when causal; ``centred`` uses past and future frames alike (offline scoring)."""
    smooth = smooth_centred if centred else smooth_causal
    smoothed = {name: smooth(np.asarray(values, dtype=np.float64), sigma) for name, values in attributes.items()}
    if combine == MAX_SMOOTHED:
        scores = np.max(np.stack(list(smoothed.values())), axis=0) if smoothed else np.zeros(len(raw))
    else:
        scores = smooth(np.asarray(raw, dtype=np.float64), sigma)
    return scores, smoothed


def smooth_results(results, sigma: float, combine: str, centred: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`smooth_sequence` of a scored sequence (FrameResults in frame order), from their raw and
    per-attribute scores. Centred, frame 0 (it has no pair, so no scores) takes frame 1's values, so
    that it does not drag the edge down."""
    names = list(results[-1].attribute_scores) if results else []
    raw = np.array([r.raw_score for r in results], dtype=np.float64)
    attributes = {name: np.array([r.attribute_scores.get(name, 0.0) for r in results]) for name in names}
    if centred and len(raw) > 1:
        for values in (raw, *attributes.values()):
            values[0] = values[1]
    return smooth_sequence(raw, attributes, sigma, combine, centred)


def resmoothed(results, sigma: float, combine: str, centred: bool) -> list:
    """The FrameResults again with ``score`` and ``smoothed_attribute_scores`` from :func:`smooth_results`."""
    scores, smoothed = smooth_results(results, sigma, combine, centred)
    return [
        replace(r, score=float(scores[i]), smoothed_attribute_scores={n: float(v[i]) for n, v in smoothed.items()})
        for i, r in enumerate(results)
    ]
