"""Fit the density estimators on the footage's features and calibrate scores and threshold.

What a fine-tuned model keeps from its base checkpoint (its normal-behaviour memory), per attribute:
- velocity, pose, geometry: always, when the base used the same backend settings for that
  attribute, because the frozen networks that produce them are the same, so old and new features
  are directly comparable. A kNN bank is merged row by row; a velocity GMM (whose raw features are
  not stored) contributes samples drawn from it, as many as the new footage has features;
- appearance: only when the encoder did not change (``--epochs 0``). After training, the base's
  appearance features come from a different encoder and no longer compare with new ones, so the
  appearance memory is rebuilt from the new footage with the adapted encoder.
Calibration (normalisation and threshold) always comes from the new footage alone.
"""

from __future__ import annotations

import numpy as np
import torch

from aivad.errors import UserError
from aivad.model.aivad_model import AiVadModel, attribute_present
from aivad.model.scoring import MAXIMUM_COMBINATIONS, smooth_sequence
from aivad.training.footage import GROUP_FRAMES, Footage


def footage_groups(footage: Footage) -> np.ndarray:
    """Leave-one-group-out groups: chunks of GROUP_FRAMES consecutive frames of each video."""
    pair_group = footage.video_index * 1_000_000 + footage.frame_index // GROUP_FRAMES
    return pair_group[footage.region_pair]


def missing_attribute(name: str) -> UserError:
    return UserError(
        f"no region of the training footage has a {name} attribute (with --pose-boxes persons: no person was "
        "detected), "
        "so there is nothing normal to compare with; train with --pose-boxes all or --no-pose."
    )


def require_attributes(frozen: dict[str, np.ndarray]) -> dict[str, int]:
    """Regions that carry each frozen attribute; fails early (before encoder training) when one has none."""
    from aivad.features.regions_common import REGION_MEASURES

    counts = {name: int(attribute_present(rows).sum()) for name, rows in frozen.items() if name not in REGION_MEASURES}
    for name, count in counts.items():
        if count == 0:
            raise missing_attribute(name)
    return counts


def fit_model(
    config,
    encoder,
    footage: Footage,
    appearance: np.ndarray,
    base,
    encoder_changed: bool,
    seed: int = 0,
    pairs_per_second: list[float] | None = None,
    false_alarms_per_hour: float = 1.0,
):
    """Fit every density on all the footage, calibrate each attribute and the alarm on held-out footage.

    ``pairs_per_second``: frame pairs per second of each training video (fps / frame stride), to
    turn event counts into events per hour.
    """
    from aivad.model.aivad_model import appearance_rows, attribute_rows, build_density
    from aivad.model.alarm import MERGE_GAP_S, AlarmRule, RateModel
    from aivad.model.calibration import (
        MIN_FOLDS,
        frame_level_scales,
        heldout_raw_scores,
        heldout_splits,
        scale_from_heldout,
    )

    model = AiVadModel(config, encoder)
    groups = torch.from_numpy(footage_groups(footage))
    splits = heldout_splits(footage.video_index, footage.frame_index)
    heldout: dict[str, np.ndarray] = {}
    scales: dict[str, list[float]] = {}
    kept = []
    for name, density in model.densities.items():
        all_rows = (
            appearance_rows(appearance, footage.frozen, config)
            if name == "appearance"
            else attribute_rows(name, footage.frozen, footage.boxes, config)
        )
        present = attribute_present(all_rows)  # pose_boxes "persons": only person regions have a pose
        if not present.any():
            raise missing_attribute(name)
        rows = np.ascontiguousarray(all_rows if present.all() else all_rows[present])  # no copy when all have it
        features = torch.from_numpy(rows)
        fit_features, fit_groups = features, groups[torch.from_numpy(present)]
        old = (
            base.memory(name, config, n_samples=len(features))
            if base is not None and (name != "appearance" or not encoder_changed)
            else None
        )
        if old is not None and len(old):
            kept.append(name)
            fit_features = torch.cat([features, old.float()])
            fit_groups = torch.cat(
                [fit_groups, torch.full((len(old),), -1, dtype=torch.long)]
            )  # the base's memory is its own group
        density.fit_estimator(fit_features, fit_groups, seed=seed)
        spec, max_bank = config.density[name], config.max_bank
        raw = heldout_raw_scores(
            lambda: build_density(spec, max_bank), rows, footage.region_pair[present], splits, extra=old, seed=seed
        )
        if not np.isfinite(raw).any():  # no held-out fold has a region with it (tiny footage): its own scores
            with torch.no_grad():
                raw = density.raw_scores(features).numpy().astype(np.float32)
        low, high = scale_from_heldout(raw)
        density.set_scale(low, high)
        scales[name] = [low, high]
        heldout[name] = np.full(len(all_rows), np.nan, dtype=np.float32)
        heldout[name][present] = (raw - low) / (high - low)
    method = config.combine
    maxima = attribute_frame_maxima(footage, heldout)
    if method in MAXIMUM_COMBINATIONS:  # the alarm's level: each attribute equally loud in smoothed held-out frames
        for name, stretch in frame_level_scales(maxima, footage.video_index, config.smoothing_sigma).items():
            low, high = scales[name]
            scales[name] = [low, low + (high - low) * stretch]
            model.densities[name].set_scale(*scales[name])
            maxima[name] = maxima[name] / stretch  # the max over regions of scores divided by the stretch
    if method in MAXIMUM_COMBINATIONS:  # each stream re-centres its attributes live: count alarms on the same
        config.scene_baseline = {name: float(np.median(values)) for name, values in maxima.items()}
        maxima = recentred_maxima(maxima, footage.video_index, config.scene_baseline)
    smoothed = causal_frame_scores(maxima, footage.video_index, method, config.smoothing_sigma)
    videos = np.unique(footage.video_index)
    rates = pairs_per_second or [10.0] * len(videos)
    # Alarms are counted without the merge gap: merging only joins events, so the rate stays an upper
    # bound for merged events. Counted with it, the few long merged events of short footage made the
    # tail's slope steeper, and the 1-per-hour threshold rose from 1.88 to 3.84 on the development set.
    rule = AlarmRule(threshold=0.0)
    rate_model = RateModel.fit([(s, rates[int(v)]) for s, v in zip(smoothed, videos)], rule)
    supported = rate_model.supported_rate(false_alarms_per_hour)  # never an extrapolation (RateModel says why)
    rule.threshold = float(rate_model.threshold_for(supported))
    rule.merge_gap_s = MERGE_GAP_S
    model.threshold = torch.tensor(rule.threshold)
    config.alarm = rule.to_dict()
    config.false_alarm_model = rate_model.to_dict()
    kept_lessons = keep_velocity_lessons(model, config, base)
    everything = np.concatenate(smoothed)
    calibration = {
        "threshold": rule.threshold,
        "false_alarms_per_hour_target": false_alarms_per_hour,
        "false_alarms_per_hour_supported": supported,
        "false_alarms_per_hour_expected": rate_model.expected_per_hour(rule.threshold),
        "heldout": f"{len(splits)} folds ({'whole videos' if len(videos) >= MIN_FOLDS else 'blocks with a gap'})",
        "heldout_hours": rate_model.hours,
        "heldout_events_at_tail_base": rate_model.tail_events,
        "rarest_countable_per_hour": rate_model.rarest_countable_per_hour,
        "extrapolation_note": rate_model.extrapolation_note(false_alarms_per_hour),
        "normal_score_median": float(np.median(everything)),
        "normal_score_max": float(np.max(everything)),
        "scene_baseline": config.scene_baseline,
        "attribute_scale": scales,
        "kept_from_base": kept,
        "velocity_lessons_kept": kept_lessons,
        "memory_rows": {name: int(getattr(d, "bank", torch.zeros(0)).shape[0]) for name, d in model.densities.items()},
    }
    return model, calibration


def keep_velocity_lessons(model, config, base) -> int:
    """Put the base's taught speeds back beside the refitted velocity GMM (aivad.model.lessons.add_to_gmm).

    After calibration, as teaching does it: the lessons lower scores near what was taught and nowhere
    else, and the threshold stays the one the held-out footage set. Returns the kernels added.
    """
    if base is None or "velocity" not in model.densities or not hasattr(model.densities["velocity"], "means"):
        return 0
    taught = base.taught_speeds(config)
    if taught is None:
        return 0
    from aivad.model.lessons import add_to_gmm

    speeds, places = taught
    return int(add_to_gmm(model.densities["velocity"], speeds, places).get("kernels_added", 0))


def attribute_frame_maxima(footage: Footage, region_scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per attribute, the max over each pair's regions (0 where no region has the attribute)."""
    n_pairs = len(footage.video_index)
    out = {}
    for name, scores in region_scores.items():
        per_pair = np.full(n_pairs, -np.inf)
        np.maximum.at(
            per_pair, footage.region_pair, np.where(np.isnan(scores), -np.inf, scores)
        )  # NaN: region lacks it
        out[name] = np.where(np.isfinite(per_pair), per_pair, 0.0)
    return out


def recentred_maxima(
    maxima: dict[str, np.ndarray], video_index: np.ndarray, reference: dict[str, float]
) -> dict[str, np.ndarray]:
    """Each attribute's frame maxima as a live stream's scene baseline leaves them (aivad.model.drift), per video."""
    from aivad.model.drift import recentred_sequence

    out = {}
    for name, values in maxima.items():
        recentred = np.array(values, dtype=np.float64, copy=True)
        for video in np.unique(video_index):
            mine = video_index == video
            recentred[mine] = recentred_sequence(values[mine], reference[name])
        out[name] = recentred
    return out


def causal_frame_scores(
    maxima: dict[str, np.ndarray], video_index: np.ndarray, method: str, sigma: float
) -> list[np.ndarray]:
    """Per video (``np.unique`` order), the frame scores live use would see, from each attribute's
    max over each pair's regions (:func:`attribute_frame_maxima`), combined and smoothed causally as
    ``method`` says (aivad.model.scoring)."""
    stacked = np.stack(list(maxima.values()))
    raw = stacked.max(axis=0) if method in MAXIMUM_COMBINATIONS else stacked.sum(axis=0)
    out = []
    for video in np.unique(video_index):
        mine = video_index == video
        scores, _ = smooth_sequence(raw[mine], {k: v[mine] for k, v in maxima.items()}, sigma, method, centred=False)
        out.append(scores)
    return out
