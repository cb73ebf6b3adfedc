"""Issue 12: calibration on held-out normal footage (leave one video out / contiguous blocks with a gap)."""

import numpy as np
import pytest
import torch
from helpers import velocity_pose_config

from aivad.model.calibration import (
    GAP_FRAMES,
    MAX_FOLDS,
    MIN_FOLDS,
    heldout_raw_scores,
    heldout_splits,
    scale_from_heldout,
)
from aivad.model.density import KnnDensity


def test_fewer_videos_than_min_folds_are_cut_into_blocks_with_a_gap_their_own_video_does_not_train_on():
    video = np.array([0] * 300 + [1] * 200)
    frame = np.concatenate([np.arange(300), np.arange(200)])
    splits = heldout_splits(video, frame)
    assert len(splits) == MIN_FOLDS == 4  # two blocks of each video
    assert (np.sum([held for held, _ in splits], axis=0) == 1).all()  # every pair held out exactly once
    for held, train in splits:
        (owner,) = np.unique(video[held])
        first, last = frame[held].min(), frame[held].max()
        assert not (held & train).any()
        assert train[video != owner].all()  # the other video trains every fold
        same = train & (video == owner)
        assert same.any()  # and the rest of its own video, beyond the gap
        assert np.all((frame[same] < first - GAP_FRAMES) | (frame[same] > last + GAP_FRAMES))


def test_min_folds_videos_are_left_out_whole():
    video = np.repeat(np.arange(MIN_FOLDS), 30)
    splits = heldout_splits(video, np.tile(np.arange(30), MIN_FOLDS))
    assert len(splits) == MIN_FOLDS
    for held, train in splits:
        assert len(np.unique(video[held])) == 1 and not (held & train).any() and (held | train).all()


def test_many_videos_make_at_most_max_folds_of_whole_videos():
    video = np.repeat(np.arange(12), 10)
    splits = heldout_splits(video, np.tile(np.arange(10), 12))
    assert len(splits) == MAX_FOLDS
    held_count = np.sum([held for held, _ in splits], axis=0)
    assert (held_count == 1).all()  # every pair held out exactly once
    for held, train in splits:
        assert not set(video[held]) & set(video[train])  # a video is never on both sides


def test_a_single_video_is_cut_into_blocks_with_a_gap_nobody_trains_on():
    frame = np.arange(1000)
    splits = heldout_splits(np.zeros(1000, int), frame)
    assert len(splits) == 4
    assert (np.sum([held for held, _ in splits], axis=0) == 1).all()
    for held, train in splits:
        first, last = frame[held].min(), frame[held].max()
        assert train.any()
        assert np.all((frame[train] < first - GAP_FRAMES) | (frame[train] > last + GAP_FRAMES))


def test_heldout_calibration_predicts_the_tail_of_unseen_normal_regions():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1000, 4)).astype(np.float32)
    video = np.repeat([0, 1], 500)
    splits = heldout_splits(video, np.tile(np.arange(500), 2))
    raw = heldout_raw_scores(lambda: KnnDensity(1, max_bank=10_000), features, np.arange(1000), splits)
    low, high = scale_from_heldout(raw)
    final = KnnDensity(1, max_bank=10_000)
    final.fit_estimator(torch.from_numpy(features))
    final.set_scale(low, high)
    unseen = final.score(torch.from_numpy(rng.normal(size=(4000, 4)).astype(np.float32))).numpy()
    # 1 = the held-out 99th percentile: about 1% of unseen normal regions lie above it (fewer, as
    # the final memory holds twice the footage of each fold's)
    assert 0.001 < np.mean(unseen > 1.0) < 0.03
    assert abs(np.median(unseen)) < 0.2
    # calibrating on the training rows themselves (what the held-out folds avoid) says nothing
    in_sample = final.score(torch.from_numpy(features)).numpy()
    assert np.mean(in_sample > 1.0) == 0.0


def test_base_memory_joins_every_fold():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(200, 2)).astype(np.float32)
    splits = heldout_splits(np.repeat([0, 1], 100), np.tile(np.arange(100), 2))
    without = heldout_raw_scores(lambda: KnnDensity(1), features, np.arange(200), splits)
    with_base = heldout_raw_scores(
        lambda: KnnDensity(1), features, np.arange(200), splits, extra=torch.from_numpy(features[:50] + 1e-3)
    )
    assert (with_base[:50] < without[:50]).all()  # the base's copy of those rows is always in memory


def test_frame_level_scale_is_larger_for_an_attribute_whose_peaks_persist():
    from aivad.model.calibration import MIN_FRAME_SCALE, frame_level_scales

    video = np.repeat([0, 1], 500)
    steady = np.zeros(1000)  # one odd place held for 20 frames at a time, 4 times
    for start in (50, 300, 550, 800):
        steady[start : start + 20] = 2.0
    flicker = np.zeros(1000)  # as many frames at the same level, one frame at a time
    flicker[np.arange(5, 1000, 12)] = 2.0
    scales = frame_level_scales({"steady": steady, "flicker": flicker, "never": np.zeros(1000)}, video, sigma=3.0)
    assert scales["steady"] == pytest.approx(2.0, rel=0.05)  # smoothing keeps a held value
    assert scales["flicker"] < 0.8  # and averages a single frame away
    assert scales["never"] == MIN_FRAME_SCALE


def test_frame_level_scale_is_the_top_of_the_heldout_footage_not_its_99th_percentile():
    """An attribute that is quiet but for one held excursion (a tenth of a percent of the footage) is
    scaled by that excursion: the threshold sits at the top of held-out footage, where each attribute
    must be as loud as the others. Scaled by its 99th percentile, the excursion alone would be at 6x
    the alarm level and set the threshold for every attribute."""
    from aivad.model.calibration import frame_level_scales

    video = np.zeros(4000, dtype=int)
    quiet = np.full(4000, 0.5)
    quiet[2000:2008] = 3.0  # 8 of 4000 frames, held long enough for smoothing to keep most of it
    scale = frame_level_scales({"quiet": quiet}, video, sigma=3.0)["quiet"]
    assert scale > 2.0  # its 99th percentile is 0.5


def flicker_and_persist_footage():
    """Two videos of 200 pairs, 3 regions each: velocity features new every frame, pose features constant
    for 25 frames (as (footage, video index of each pair))."""
    from aivad.training.footage import Footage

    rng = np.random.default_rng(0)
    pairs, regions = 200, 3
    video = np.repeat([0, 1], pairs)
    n = len(video) * regions
    pose = np.repeat(rng.normal(size=(n // 25, 34)), 25, axis=0).reshape(len(video) // 25, 25, regions, 34)
    pose = pose.reshape(n, 34).astype(np.float32)  # row = pair * regions + region, constant along 25 pairs
    footage = Footage(
        video_index=video,
        frame_index=np.tile(np.arange(pairs), 2),
        region_pair=np.repeat(np.arange(len(video)), regions),
        boxes=np.zeros((n, 4), np.float32),
        whole_frame=np.zeros(len(video), dtype=bool),
        frozen={"velocity": rng.normal(size=(n, 8)).astype(np.float32), "pose": pose},
    )
    return footage, video


def test_after_calibration_each_attribute_reaches_1_equally_rarely_in_smoothed_heldout_frames(monkeypatch):
    """Velocity features flicker (new every frame), pose features persist (one per region for 25 frames):
    region percentiles alone leave them unequal where the alarm acts, the frame-level scale does not."""
    import aivad.training.fitting as fitting
    from aivad.model.calibration import FRAME_SCALE_PERCENTILE
    from aivad.model.scoring import smooth_causal

    footage, video = flicker_and_persist_footage()
    config = velocity_pose_config(smoothing_sigma=3.0)
    seen = []
    original = fitting.causal_frame_scores

    def keep(maxima, video_index, method, sigma):
        seen.append({name: per_pair.copy() for name, per_pair in maxima.items()})
        return original(maxima, video_index, method, sigma)

    monkeypatch.setattr(fitting, "causal_frame_scores", keep)
    _, calibration = fitting.fit_model(config, None, footage, None, None, encoder_changed=True)
    smoothed_attributes = []
    for name, per_pair in seen[-1].items():  # the held-out frame maxima the threshold is chosen on
        smoothed = np.concatenate([smooth_causal(per_pair[video == v], 3.0) for v in (0, 1)])
        assert np.percentile(smoothed, FRAME_SCALE_PERCENTILE) == pytest.approx(1.0, abs=1e-6), name
        smoothed_attributes.append(smoothed)
    # the threshold is chosen on the score live use computes: the largest smoothed attribute
    assert calibration["normal_score_max"] == pytest.approx(np.max(smoothed_attributes), abs=1e-6)


def test_false_alarm_rate_counts_every_alarm_and_the_stored_rule_merges_restarts(monkeypatch):
    """Merging only joins events, so the rate of unmerged alarms bounds the merged one from above. Counted
    with merging, short footage holds a few long events whose tail slope says little (README)."""
    import aivad.training.fitting as fitting
    from aivad.model.alarm import MERGE_GAP_S, RateModel

    rules = []
    original = RateModel.fit.__func__

    def spy(cls, videos, rule):
        rules.append(rule.to_dict())
        return original(cls, videos, rule)

    monkeypatch.setattr(RateModel, "fit", classmethod(spy))
    footage, _ = flicker_and_persist_footage()
    model, calibration = fitting.fit_model(
        velocity_pose_config(smoothing_sigma=3.0), None, footage, None, None, encoder_changed=True
    )
    assert rules[-1]["merge_gap_s"] == 0.0
    assert model.config.alarm["merge_gap_s"] == MERGE_GAP_S
    assert model.config.alarm["threshold"] == pytest.approx(calibration["threshold"])
