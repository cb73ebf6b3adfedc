"""The AI-VAD authors' evaluation protocol: per-video smoothing, micro and macro frame AUROC, AP, per-video AUROC.

As the authors' ``evaluate.py`` (github.com/talreiss/Accurate-Interpretable-VAD) computes them:

- each test video's frame scores are smoothed on their own with ``scipy.ndimage.gaussian_filter1d`` (its
  defaults: reflected edges, kernel truncated at 4 sigma), sigma 3 on Ped2 and Avenue, 7 on ShanghaiTech;
- **micro** AUROC: one ROC over the frames of all test videos concatenated;
- **macro** AUROC: the mean over test videos of each video's AUROC, where *every* video's labels and scores
  are padded with one normal frame scored 0 and one anomalous frame scored ``sys.float_info.max``. The
  authors pad every video, not only the ones with a single class: that keeps the AUROC of a video that is
  all normal (or all anomalous) defined, and lifts every other video's AUROC slightly. We do the same, so
  the figures compare; the per-video AUROC without padding is reported beside it (None for one class).

How our model's frame score is smoothed: the model combines its attributes as its checkpoint says
(aivad.model.scoring). With ``max_smoothed`` (models trained by this version) each attribute's frame
maximum is smoothed with the filter above and the frame score is the largest smoothed attribute; with
``sum`` (the authors' and anomalib's combination) and ``max`` the combined score is smoothed. For a sum both
orders give the same numbers, since the filter is linear.
"""

from __future__ import annotations

import sys

import numpy as np

from aivad.model.scoring import MAX_SMOOTHED, combine_attributes

PAD_NORMAL_SCORE = 0.0
PAD_ANOMALOUS_SCORE = sys.float_info.max


def smooth(scores: np.ndarray, sigma: float) -> np.ndarray:
    """One video's frame scores smoothed as the authors do (float64; sigma 0 leaves them as they are)."""
    from scipy.ndimage import gaussian_filter1d

    scores = np.asarray(scores, dtype=np.float64)
    return gaussian_filter1d(scores, sigma) if sigma > 0 and len(scores) else scores.copy()


def smoothed_frame_scores(attributes: dict[str, np.ndarray], combine: str, sigma: float) -> np.ndarray:
    """One video's smoothed frame scores from its per-attribute frame maxima (each (T,)), combined as ``combine``."""
    names = list(attributes)
    if not names:
        raise ValueError("no attribute scores to smooth")
    if combine == MAX_SMOOTHED:
        return np.max(np.stack([smooth(attributes[name], sigma) for name in names]), axis=0)
    length = len(attributes[names[0]])
    raw = [combine_attributes({name: float(attributes[name][t]) for name in names}, combine) for t in range(length)]
    return smooth(np.array(raw), sigma)


def auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Plain frame AUROC; None when the labels hold one class only."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).astype(int)
    if labels.min(initial=0) == labels.max(initial=0) or len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def padded_auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """One video's AUROC by the authors' rule: one normal frame scored 0 and one anomalous frame scored at
    the float maximum added, so that it is defined for a video of one class too."""
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate(([0], np.asarray(labels).astype(int), [1]))
    scores = np.concatenate(([PAD_NORMAL_SCORE], np.asarray(scores, dtype=np.float64), [PAD_ANOMALOUS_SCORE]))
    return float(roc_auc_score(labels, scores))


def frame_metrics(labels: list[np.ndarray], scores: list[np.ndarray]) -> dict:
    """Every frame-level figure of the protocol from per-video labels and smoothed scores (same order).

    Returns micro and macro AUROC, average precision over all frames, and per video its frame counts,
    its AUROC (None for one class) and the padded AUROC that enters the macro mean.
    """
    from sklearn.metrics import average_precision_score

    if len(labels) != len(scores) or not labels:
        raise ValueError("need the same, non-zero number of label and score arrays")
    for y, s in zip(labels, scores):
        if len(y) != len(s):
            raise ValueError(f"a video has {len(y)} labels but {len(s)} scores")
    all_labels = np.concatenate(labels).astype(int)
    all_scores = np.concatenate(scores).astype(np.float64)
    per_video = [
        {
            "frames": int(len(y)),
            "anomalous_frames": int(np.sum(y)),
            "auroc": auroc(y, s),
            "auroc_padded": padded_auroc(y, s),
        }
        for y, s in zip(labels, scores)
    ]
    both = len(np.unique(all_labels)) == 2
    return {
        "micro_auroc": auroc(all_labels, all_scores),
        "macro_auroc": float(np.mean([video["auroc_padded"] for video in per_video])),
        "average_precision": float(average_precision_score(all_labels, all_scores)) if both else None,
        "frames": int(len(all_labels)),
        "anomalous_frames": int(all_labels.sum()),
        "per_video": per_video,
    }
