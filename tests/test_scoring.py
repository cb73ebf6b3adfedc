"""Temporal smoothing: causal for live use, centred offline; how attribute maxima become a frame score."""

import numpy as np
import pytest

from aivad.model.scoring import (
    MAX_SMOOTHED,
    CausalSmoother,
    FrameSmoother,
    frame_attribute_scores,
    smooth_causal,
    smooth_centred,
    smooth_sequence,
)


def test_causal_smoothing_never_looks_ahead():
    rng = np.random.default_rng(0)
    raw = rng.random(50)
    changed_future = raw.copy()
    changed_future[30:] += 10.0
    assert np.allclose(smooth_causal(raw, 3.0)[:30], smooth_causal(changed_future, 3.0)[:30])


def test_centred_smoothing_looks_both_ways():
    spike = np.zeros(41)
    spike[20] = 1.0
    centred = smooth_centred(spike, 3.0)
    assert centred[17] == pytest.approx(centred[23])  # symmetric around the spike
    causal = smooth_causal(spike, 3.0)
    assert causal[17] == 0.0 and causal[23] > 0.0  # nothing before the spike, a tail after it


def test_centred_matches_scipy_gaussian_filter():
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    raw = np.random.default_rng(1).random(100)
    assert np.allclose(
        smooth_centred(raw, 3.0), scipy_ndimage.gaussian_filter1d(raw, 3.0, mode="reflect", truncate=3.0), atol=1e-9
    )


def test_streaming_smoother_equals_batch_causal():
    raw = np.random.default_rng(2).random(60)
    smoother = CausalSmoother(2.5)
    assert np.allclose([smoother.update(v) for v in raw], smooth_causal(raw, 2.5))


def test_zero_sigma_is_identity():
    raw = np.array([0.1, 5.0, 0.2])
    assert np.allclose(smooth_causal(raw, 0), raw) and np.allclose(smooth_centred(raw, 0), raw)


def test_frame_score_parts_are_attribute_maxima():
    scores = frame_attribute_scores({"velocity": np.array([0.1, 0.9]), "appearance": np.array([0.5, 0.2])})
    assert scores == {"velocity": pytest.approx(0.9), "appearance": pytest.approx(0.5)}


def alternating_flicker(n: int = 60) -> dict[str, np.ndarray]:
    """Two attributes whose normal noise takes turns: one is high on even frames, the other on odd ones."""
    even = np.arange(n) % 2 == 0
    return {"velocity": np.where(even, 1.0, 0.0), "appearance": np.where(even, 0.0, 1.0)}


@pytest.mark.parametrize("combine", [MAX_SMOOTHED, "max", "sum"])
def test_streaming_frame_smoother_equals_the_batch_one(combine):
    rng = np.random.default_rng(3)
    attributes = {"velocity": rng.random(40), "appearance": rng.random(40)}
    raw = np.max(np.stack(list(attributes.values())), 0) if combine != "sum" else sum(attributes.values())
    smoother = FrameSmoother(3.0, combine)
    streamed = [smoother.update(float(raw[i]), {k: float(v[i]) for k, v in attributes.items()}) for i in range(40)]
    scores, smoothed = smooth_sequence(raw, attributes, 3.0, combine, centred=False)
    assert np.allclose([score for score, _ in streamed], scores)
    assert np.allclose([s["appearance"] for _, s in streamed], smoothed["appearance"])
    if combine != MAX_SMOOTHED:  # older checkpoints: their combined raw score, smoothed, as they were calibrated
        assert np.allclose(scores, smooth_causal(raw, 3.0))


def test_max_smoothed_does_not_add_up_the_attributes_independent_flicker():
    attributes = alternating_flicker()
    raw = np.max(np.stack(list(attributes.values())), 0)  # 1 on every frame
    scores, _ = smooth_sequence(raw, attributes, 3.0, MAX_SMOOTHED, centred=False)
    old, _ = smooth_sequence(raw, attributes, 3.0, "max", centred=False)
    assert old[10:] == pytest.approx(1.0)  # the maximum first makes a steady alarm out of two flickers
    assert scores[10:].max() < 0.6  # each attribute alone is high half the time


def test_max_smoothed_keeps_a_burst_of_one_attribute():
    burst = np.r_[np.zeros(20), np.full(10, 2.0), np.zeros(20)]
    attributes = {"velocity": burst, "appearance": np.zeros(50)}
    for centred in (False, True):
        scores, smoothed = smooth_sequence(burst, attributes, 3.0, MAX_SMOOTHED, centred=centred)
        old, _ = smooth_sequence(burst, attributes, 3.0, "max", centred=centred)
        assert np.allclose(scores, old) and np.allclose(scores, smoothed["velocity"])
