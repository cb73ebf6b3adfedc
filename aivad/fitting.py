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
from aivad.model import AiVadModel, attribute_present
from aivad.scoring import smooth_causal
from aivad.train import GROUP_FRAMES, Footage


def footage_groups(footage: Footage) -> np.ndarray:
    """Leave-one-group-out groups: chunks of GROUP_FRAMES consecutive frames of each video."""
    pair_group = footage.video_index * 1_000_000 + footage.frame_index // GROUP_FRAMES
    return pair_group[footage.region_pair]


def missing_attribute(name: str) -> UserError:
    return UserError(
        f"no region of the training footage has a {name} attribute (with --pose-boxes persons: no person was detected), "
        "so there is nothing normal to compare with; train with --pose-boxes all or --no-pose."
    )


def require_attributes(frozen: dict[str, np.ndarray]) -> dict[str, int]:
    """Regions that carry each frozen attribute; fails early (before encoder training) when one has none."""
    counts = {name: int(attribute_present(rows).sum()) for name, rows in frozen.items()}
    for name, count in counts.items():
        if count == 0:
            raise missing_attribute(name)
    return counts


def fit_model(config: dict, encoder, footage: Footage, appearance: np.ndarray, base, encoder_changed: bool, seed: int = 0):
    model = AiVadModel(config, encoder)
    groups = torch.from_numpy(footage_groups(footage))
    percentile = config["normalisation_percentile"]
    region_scores: dict[str, np.ndarray] = {}
    kept = []
    for name, density in model.densities.items():
        all_rows = appearance if name == "appearance" else footage.frozen[name]
        present = attribute_present(all_rows)  # pose_boxes "persons": only person regions have a pose
        if not present.any():
            raise missing_attribute(name)
        features = torch.from_numpy(np.ascontiguousarray(all_rows[present]))
        fit_features, fit_groups = features, groups[torch.from_numpy(present)]
        old = base.memory(name, config, n_samples=len(features)) if base is not None and (name != "appearance" or not encoder_changed) else None
        if old is not None and len(old):
            kept.append(name)
            fit_features = torch.cat([features, old.float()])
            fit_groups = torch.cat([fit_groups, torch.full((len(old),), -1, dtype=torch.long)])  # the base's memory is its own group
        raw = density.fit(fit_features, fit_groups, percentile=percentile, seed=seed)[: len(features)]
        region_scores[name] = np.full(len(all_rows), np.nan, dtype=np.float32)
        region_scores[name][present] = density.normalise(raw).numpy()
    frame_raw = frame_scores_from_regions(footage, region_scores)
    smoothed = np.concatenate(
        [smooth_causal(frame_raw[footage.video_index == v], config["smoothing_sigma"]) for v in np.unique(footage.video_index)]
    )
    threshold = float(np.percentile(smoothed, config["threshold_percentile"]))
    model.threshold = torch.tensor(threshold)
    calibration = {
        "threshold": threshold,
        "normal_score_median": float(np.median(smoothed)),
        "normal_score_max": float(np.max(smoothed)),
        "kept_from_base": kept,
        "memory_rows": {name: int(getattr(d, "bank", torch.zeros(0)).shape[0]) for name, d in model.densities.items()},
    }
    return model, calibration


def frame_scores_from_regions(footage: Footage, region_scores: dict[str, np.ndarray]) -> np.ndarray:
    """Raw frame score per pair = sum over attributes of the max over that pair's regions."""
    n_pairs = len(footage.video_index)
    total = np.zeros(n_pairs)
    for scores in region_scores.values():
        per_pair = np.full(n_pairs, -np.inf)
        np.maximum.at(per_pair, footage.region_pair, np.where(np.isnan(scores), -np.inf, scores))  # NaN: region lacks it
        total += np.where(np.isfinite(per_pair), per_pair, 0.0)
    return total
