"""Temporal smoothing: causal for live use, centred offline; frame score = sum of attribute maxima."""

import numpy as np
import pytest

from aivad.scoring import CausalSmoother, frame_attribute_scores, smooth_causal, smooth_centred


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
