"""The scene baseline (aivad.drift): each attribute re-centred on the stream's own recent normal level."""

from __future__ import annotations

import numpy as np
import pytest

from aivad.model.drift import PRIOR_FRAMES, RunningMedian, SceneBaseline, recentred_sequence


def test_running_median_counts_the_prior_and_forgets_beyond_its_window():
    median = RunningMedian(prior=0.0, prior_count=3, window=4)
    assert median.median() == 0.0
    for value in (5.0, 6.0, 7.0):
        median.add(value)
    assert median.median() == pytest.approx(2.5)  # 0 0 0 5 6 7: between the prior block and the recent values
    for value in (8.0, 9.0):
        median.add(value)  # 5 drops out of the window of 4
    assert median.median() == pytest.approx(6.0)  # 0 0 0 6 7 8 9
    rng = np.random.default_rng(0)
    values = rng.normal(size=50)
    exact = RunningMedian(prior=0.3, prior_count=7, window=1000)
    for v in values:
        exact.add(float(v))
    assert exact.median() == pytest.approx(np.median(np.concatenate([values, np.full(7, 0.3)])))


def test_an_attribute_whose_normal_level_rose_is_brought_back_to_the_calibrated_level():
    rng = np.random.default_rng(1)
    drifted = 0.8 + 0.1 * rng.normal(size=2000)  # new footage: this attribute's normal frames sit at 0.8
    recentred = recentred_sequence(drifted, reference=0.2)
    assert np.median(recentred[PRIOR_FRAMES * 3 :]) == pytest.approx(0.2, abs=0.03)
    # the first frames are scored as trained: the held-out level counts until the stream has history
    assert recentred[0] == pytest.approx(drifted[0])


def test_a_short_event_is_not_absorbed_and_calmer_footage_is_not_made_more_sensitive():
    rng = np.random.default_rng(2)
    values = 0.2 + 0.1 * rng.normal(size=600)
    values[400:430] += 2.0  # a 3-second event at 10 fps
    recentred = recentred_sequence(values, reference=0.2)
    assert (values[400:430] - recentred[400:430]).max() < 0.1  # the event keeps (almost) all of its height
    calm = np.full(300, -0.5)
    assert np.array_equal(recentred_sequence(calm, reference=0.2), calm)  # only upward drift is taken off


def test_the_scene_baseline_is_per_attribute_and_old_models_have_none():
    baseline = SceneBaseline({"appearance": 0.2, "velocity": 0.1})
    for _ in range(500):
        shifts = baseline.shifts({"appearance": 0.9, "velocity": 0.1, "geometry": 5.0})
    assert shifts["appearance"] == pytest.approx(0.7)
    assert shifts["velocity"] == 0.0 and "geometry" not in shifts  # no reference stored: never re-centred
    baseline.reset()
    assert baseline.shifts({"appearance": 0.9})["appearance"] == 0.0  # a new stream starts as trained
    assert SceneBaseline(None).shifts({"appearance": 3.0}) == {}


def test_training_stores_each_attributes_level_and_the_detector_takes_a_streams_drift_off(lite_checkpoint, tiny_video):
    """The checkpoint holds the held-out median of every attribute; a stream whose attribute sits above
    it is scored lower by exactly the drift, region by region, and a new stream starts afresh."""
    from aivad.live.detector import Detector

    detector = Detector.load(lite_checkpoint, device="cpu")
    reference = detector.model.config.scene_baseline
    assert set(reference) == set(detector.model.attributes)
    video = tiny_video(n_frames=250)  # more than the prior's frames (PRIOR_FRAMES): the stream's own level takes over
    plain = Detector.load(lite_checkpoint, device="cpu")
    plain.model.config.scene_baseline = None
    plain._baseline = type(plain._baseline)(None)
    lowered = {name: value - 5.0 for name, value in reference.items()}  # as if this footage drifted up by 5
    detector._baseline = type(detector._baseline)(lowered)
    before, after = plain.score_video(video, centred=False), detector.score_video(video, centred=False)
    for a, b in zip(before[1:], after[1:]):
        for name, value in a.attribute_scores.items():
            assert b.attribute_scores[name] <= value + 1e-9
    last_a, last_b = before[-1], after[-1]
    assert any(last_b.attribute_scores[n] < last_a.attribute_scores[n] - 0.1 for n in last_a.attribute_scores)
    assert [r.attributes for r in last_b.regions] != [r.attributes for r in last_a.regions]
