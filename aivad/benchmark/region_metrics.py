"""Region- and track-based detection criteria (RBDC, TBDC; Ramachandra and Jones, WACV 2020) from pixel masks.

Frame AUROC only asks *when*; these ask *where*: does a region the model flags overlap the anomaly?

- Ground-truth regions: the connected components (8-connected) of each frame's pixel mask, as boxes.
- Ground-truth tracks: the datasets give masks, not tracks, so a region continues the track of the region
  in the previous frame it overlaps most (one to one, any overlap); otherwise it starts a new track.
- Detections: the model's regions with their scores (the whole-frame stand-in of a frame without any
  region is left out: it says that nothing was found, not where).
- At a score threshold, a ground-truth region is found when a detection at or above the threshold in the
  same frame overlaps it with IoU >= ALPHA; a track is found when at least BETA of its regions are; a
  detection that overlaps no ground-truth region by ALPHA is a false positive.
- RBDC (TBDC): the area under the curve of the share of regions (tracks) found against false positives
  per frame (over all test frames), for 0 to MAX_FALSE_POSITIVES_PER_FRAME, thresholds swept over every
  detection score; the curve starts at (0, 0), is linear between thresholds, and stays level past the
  lowest threshold. 1 is the best value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ALPHA = 0.1  # IoU for a detection to find a ground-truth region (Ramachandra and Jones' value)
BETA = 0.1  # share of a track's regions that must be found for the track to be found (theirs)
MAX_FALSE_POSITIVES_PER_FRAME = 1.0  # the curves' range, as theirs


def mask_boxes(mask: np.ndarray) -> np.ndarray:
    """(K, 4) boxes x0, y0, x1, y1 (x1, y1 exclusive) of the mask's 8-connected components."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=8)
    boxes = stats[1:count, :4].astype(np.float64)
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes a (N, 4) and b (M, 4)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def link_tracks(frames: list[np.ndarray], first_id: int = 0) -> list[np.ndarray]:
    """Track id of every ground-truth box, frame by frame (see the module docstring)."""
    ids, previous, previous_ids, next_id = [], np.zeros((0, 4)), np.zeros(0, dtype=int), first_id
    for boxes in frames:
        current = np.full(len(boxes), -1, dtype=int)
        if len(boxes) and len(previous):
            overlap = box_iou(boxes, previous)
            for flat in np.argsort(-overlap, axis=None):  # best overlaps first, one to one
                i, j = np.unravel_index(flat, overlap.shape)
                if overlap[i, j] <= 0:
                    break
                if current[i] < 0 and previous_ids[j] not in current:
                    current[i] = previous_ids[j]
        for i in np.flatnonzero(current < 0):
            current[i], next_id = next_id, next_id + 1
        ids.append(current)
        previous, previous_ids = np.asarray(boxes).reshape(-1, 4), current
    return ids


@dataclass
class RegionTally:
    """What the curves need, gathered video by video (so no video's masks stay in memory)."""

    frames: int = 0
    videos: int = 0
    region_scores: list = field(default_factory=list)  # per ground-truth region: best score of a detection finding it
    track_regions: dict = field(default_factory=dict)  # track key -> that list of scores
    false_positive_scores: list = field(default_factory=list)
    detection_scores: list = field(default_factory=list)

    def add_video(
        self, masks: np.ndarray, detections: list[tuple[np.ndarray, np.ndarray]], scale: tuple[float, float] = (1, 1)
    ) -> None:
        """masks: (T, H, W) bool; detections: per frame (boxes (N, 4) in frame pixels, scores (N,));
        scale: (x, y) factors from mask pixels to frame pixels."""
        if len(masks) != len(detections):
            raise ValueError(f"{len(masks)} masks for {len(detections)} frames of detections")
        truth = [mask_boxes(mask) * np.array([scale[0], scale[1], scale[0], scale[1]]) for mask in masks]
        self.videos += 1  # tracks are keyed by (video, track): those of different videos never merge
        for boxes, track_ids, (found_boxes, scores) in zip(truth, link_tracks(truth), detections):
            scores = np.asarray(scores, dtype=np.float64).reshape(-1)
            overlap = box_iou(boxes, found_boxes)  # (K, N)
            hits = overlap >= ALPHA
            best = np.where(hits, scores[None, :], -np.inf).max(axis=1, initial=-np.inf)
            for value, track in zip(best, track_ids):
                self.region_scores.append(value)
                self.track_regions.setdefault((self.videos, int(track)), []).append(value)
            self.false_positive_scores.extend(scores[~hits.any(axis=0)].tolist())
            self.detection_scores.extend(scores.tolist())
        self.frames += len(masks)

    def criteria(self) -> dict:
        """{"rbdc", "tbdc", "regions", "tracks", "frames"}; the criteria are None without ground-truth regions."""
        tracks = [_found_from(np.array(values)) for values in self.track_regions.values()]
        out = {"regions": len(self.region_scores), "tracks": len(tracks), "frames": self.frames}
        if not self.region_scores or self.frames == 0:
            return {**out, "rbdc": None, "tbdc": None}
        thresholds = np.unique(np.asarray(self.detection_scores, dtype=np.float64))[::-1]
        false_positives = _at_or_above(self.false_positive_scores, thresholds) / self.frames
        rbdr = _at_or_above(self.region_scores, thresholds) / len(self.region_scores)
        tbdr = _at_or_above(tracks, thresholds) / len(tracks)
        return {**out, "rbdc": curve_area(false_positives, rbdr), "tbdc": curve_area(false_positives, tbdr)}


def _found_from(region_scores: np.ndarray) -> float:
    """The highest threshold at which at least BETA of a track's regions are found."""
    needed = max(1, int(np.ceil(BETA * len(region_scores))))
    return float(np.sort(region_scores)[::-1][needed - 1])


def _at_or_above(values, thresholds: np.ndarray) -> np.ndarray:
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    return (len(ordered) - np.searchsorted(ordered, thresholds, side="left")).astype(np.float64)


def curve_area(false_positives: np.ndarray, rates: np.ndarray, limit: float = MAX_FALSE_POSITIVES_PER_FRAME) -> float:
    """Area under (false positives per frame, detection rate) from (0, 0), thresholds falling, up to ``limit``,
    divided by ``limit``; linear between points, level after the last one."""
    x = np.concatenate(([0.0], np.asarray(false_positives, dtype=np.float64)))
    y = np.concatenate(([0.0], np.asarray(rates, dtype=np.float64)))
    inside = x <= limit
    if not inside.all():  # cut the first segment that crosses the limit where it crosses it
        k = int(np.argmin(inside))
        y_limit = y[k - 1] + (y[k] - y[k - 1]) * (limit - x[k - 1]) / (x[k] - x[k - 1])
        x, y = np.append(x[:k], limit), np.append(y[:k], y_limit)
    else:
        x, y = np.append(x, limit), np.append(y, y[-1])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / limit)
