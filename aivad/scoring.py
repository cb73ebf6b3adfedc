"""From region attribute scores to frame scores: aggregation, temporal smoothing, threshold.

Per attribute, the frame keeps its most unusual region (the per-attribute maxima say why an alarm
rang). Models trained by this version combine them with the maximum: each attribute is calibrated
on held-out normal footage (aivad.calibration), so a value of 1 means "as unusual as the top 1% of
unseen normal regions" for every attribute alike, and one attribute that does not generalise
cannot add its noise to the others. Older checkpoints (and anomalib's) keep AI-VAD's plain sum,
which their thresholds were calibrated for. Scores are then
smoothed in time: offline with a centred Gaussian (sigma 3 frames in the authors' code), live with
past frames only, where future frames do not exist yet. The live filter of models trained by this
version is an exponential moving average with the same mean delay as the one-sided Gaussian of
that sigma: the newest frame weighs most, so an event shows sooner for the same delay on average
(causal frame AUROC on both development splits 0.947 / 0.946 -> 0.954 / 0.953, README). Older
checkpoints keep the one-sided Gaussian their thresholds were calibrated with.
"""

from __future__ import annotations

import numpy as np


def frame_attribute_scores(region_scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Max over the frame's regions per attribute; regions without the attribute (NaN) are skipped,
    and a frame where no region has it scores 0, the normal minimum."""
    out = {}
    for name, scores in region_scores.items():
        present = np.asarray(scores)[~np.isnan(scores)]
        out[name] = float(np.max(present)) if len(present) else 0.0
    return out


COMBINATIONS = ("max", "sum")


def combine_attributes(attribute_scores: dict[str, float], method: str) -> float:
    """One number for a frame (or a region) from its per-attribute scores."""
    if not attribute_scores:
        return 0.0
    if method == "max":
        return float(max(attribute_scores.values()))
    return float(sum(attribute_scores.values()))


def gaussian_weights(sigma: float, causal: bool) -> np.ndarray:
    if sigma <= 0:
        return np.ones(1)
    radius = int(np.ceil(3 * sigma))
    offsets = np.arange(0, radius + 1) if causal else np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


CAUSAL_FILTERS = ("exponential", "half_gaussian")


def causal_delay(sigma: float) -> float:
    """Mean delay in frames of the one-sided Gaussian of ``sigma`` (2.3 frames at sigma 3)."""
    weights = gaussian_weights(sigma, causal=True)
    return float(np.dot(np.arange(len(weights)), weights))


def exponential_alpha(sigma: float) -> float:
    """Weight of the newest frame in an exponential average whose mean delay is ``causal_delay(sigma)``."""
    return 1.0 / (1.0 + causal_delay(sigma))


def smooth_causal(raw: np.ndarray, sigma: float, kind: str) -> np.ndarray:
    """Each frame from itself and the frames before it: ``kind`` is one of ``CAUSAL_FILTERS``.

    half_gaussian: weighted mean with one-sided Gaussian weights (renormalised at the start);
    exponential: ``s[t] = a * raw[t] + (1 - a) * s[t - 1]`` with ``a = exponential_alpha(sigma)``, ``s[0] = raw[0]``.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if kind == "exponential":
        alpha = exponential_alpha(sigma)
        out = np.empty_like(raw)
        state = None
        for t, value in enumerate(raw):
            state = value if state is None else alpha * value + (1.0 - alpha) * state
            out[t] = state
        return out
    if kind != "half_gaussian":
        raise ValueError(f"unknown causal filter {kind!r}; choose one of {', '.join(CAUSAL_FILTERS)}")
    weights = gaussian_weights(sigma, causal=True)  # weights[k] applies to frame t - k
    out = np.empty_like(raw)
    for t in range(len(raw)):
        history = raw[max(0, t - len(weights) + 1) : t + 1][::-1]
        w = weights[: len(history)]
        out[t] = float(np.dot(history, w) / w.sum())
    return out


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

    def __init__(self, sigma: float, kind: str) -> None:
        if kind not in CAUSAL_FILTERS:
            raise ValueError(f"unknown causal filter {kind!r}; choose one of {', '.join(CAUSAL_FILTERS)}")
        self.sigma = sigma
        self.kind = kind
        self.history: list[float] = []
        self._state: float | None = None

    def reset(self) -> None:
        self.history.clear()
        self._state = None

    def update(self, raw: float) -> float:
        if self.kind == "exponential":
            alpha = exponential_alpha(self.sigma)
            self._state = float(raw) if self._state is None else alpha * float(raw) + (1.0 - alpha) * self._state
            return self._state
        weights = gaussian_weights(self.sigma, causal=True)
        self.history.append(float(raw))
        del self.history[: max(0, len(self.history) - len(weights))]
        recent = np.array(self.history[::-1])
        w = weights[: len(recent)]
        return float(np.dot(recent, w) / w.sum())
