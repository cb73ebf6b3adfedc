"""Temporal smoothing: causal for live use, centred offline; frame score = sum of attribute maxima."""

import numpy as np
import pytest

from aivad.scoring import (
    CAUSAL_FILTERS,
    CausalSmoother,
    causal_delay,
    exponential_alpha,
    frame_attribute_scores,
    smooth_causal,
    smooth_centred,
)


@pytest.mark.parametrize("kind", CAUSAL_FILTERS)
def test_causal_smoothing_never_looks_ahead(kind):
    rng = np.random.default_rng(0)
    raw = rng.random(50)
    changed_future = raw.copy()
    changed_future[30:] += 10.0
    assert np.allclose(smooth_causal(raw, 3.0, kind)[:30], smooth_causal(changed_future, 3.0, kind)[:30])
    assert not np.allclose(smooth_causal(raw, 3.0, kind)[30:], smooth_causal(changed_future, 3.0, kind)[30:])


def test_exponential_filter_has_the_half_gaussians_mean_delay_and_weighs_the_newest_frame_most():
    # The response to a unit step: its mean delay is the sum over t of (1 - response[t]).
    step = np.ones(200)
    step[0] = 0.0
    for sigma in (1.5, 3.0, 5.0):
        responses = {kind: smooth_causal(np.r_[np.zeros(50), step], sigma, kind)[51:] for kind in CAUSAL_FILTERS}
        delays = {kind: float(np.sum(1.0 - r)) for kind, r in responses.items()}
        assert delays["exponential"] == pytest.approx(delays["half_gaussian"], rel=1e-3)
        assert delays["half_gaussian"] == pytest.approx(causal_delay(sigma), rel=1e-6)
        # one frame after a step the exponential filter has moved further: events show sooner
        assert responses["exponential"][0] > responses["half_gaussian"][0]


def test_exponential_filter_is_the_recursive_average():
    raw = np.random.default_rng(5).random(30)
    alpha = exponential_alpha(3.0)
    expected = [raw[0]]
    for value in raw[1:]:
        expected.append(alpha * value + (1 - alpha) * expected[-1])
    assert np.allclose(smooth_causal(raw, 3.0, "exponential"), expected)


def test_unknown_causal_filter_is_refused():
    with pytest.raises(ValueError, match="exponential"):
        smooth_causal(np.zeros(3), 3.0, "boxcar")


def test_centred_smoothing_looks_both_ways():
    spike = np.zeros(41)
    spike[20] = 1.0
    centred = smooth_centred(spike, 3.0)
    assert centred[17] == pytest.approx(centred[23])  # symmetric around the spike
    causal = smooth_causal(spike, 3.0, "half_gaussian")
    assert causal[17] == 0.0 and causal[23] > 0.0  # nothing before the spike, a tail after it


def test_centred_matches_scipy_gaussian_filter():
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    raw = np.random.default_rng(1).random(100)
    assert np.allclose(
        smooth_centred(raw, 3.0), scipy_ndimage.gaussian_filter1d(raw, 3.0, mode="reflect", truncate=3.0), atol=1e-9
    )


@pytest.mark.parametrize("kind", CAUSAL_FILTERS)
def test_streaming_smoother_equals_batch_causal(kind):
    raw = np.random.default_rng(2).random(60)
    smoother = CausalSmoother(2.5, kind)
    assert np.allclose([smoother.update(v) for v in raw], smooth_causal(raw, 2.5, kind))
    smoother.reset()
    assert np.allclose([smoother.update(v) for v in raw[:5]], smooth_causal(raw[:5], 2.5, kind))


@pytest.mark.parametrize("kind", CAUSAL_FILTERS)
def test_zero_sigma_is_identity(kind):
    raw = np.array([0.1, 5.0, 0.2])
    assert np.allclose(smooth_causal(raw, 0, kind), raw) and np.allclose(smooth_centred(raw, 0), raw)


def test_frame_score_parts_are_attribute_maxima():
    scores = frame_attribute_scores({"velocity": np.array([0.1, 0.9]), "appearance": np.array([0.5, 0.2])})
    assert scores == {"velocity": pytest.approx(0.9), "appearance": pytest.approx(0.5)}


def test_checkpoints_written_before_the_exponential_filter_keep_their_half_gaussian():
    from aivad.config import ModelConfig

    old = ModelConfig.from_dict({"backend": "lite", "backend_settings": {}, "encoder": "small_cnn", "density": {}})
    assert old.causal_filter == "half_gaussian" and old.combine == "sum"  # what their thresholds were set with
