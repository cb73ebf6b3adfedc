"""How a lesson enters each kind of normal memory: rows of a kNN bank, narrow kernels beside a velocity GMM.

aivad.model.teach extracts what the user says is normal and writes the taught checkpoint; this module
adds those rows to the memories so that no score can rise: a kNN bank gets them as rows (capped by the
training's coreset rule, the scale raised by what dropped rows leave), the velocity GMM a narrow kernel
at each taught row it still finds unusual, holding near the box it was taught on
(aivad.model.density.place_distances). Training calls the same functions to keep a base's lessons
through a fine-tune (aivad.training.fitting.keep_velocity_lessons).
"""

from __future__ import annotations

import math

import torch

from aivad.errors import UserError

# The velocity GMM's taught kernels (add_to_gmm), on the calibrated scale (0: the median normal region,
# 1: the 99th percentile, where alarms begin):
TAUGHT_LEVEL = 0.0  # a taught row scores as the median normal region does
COVERED_LEVEL = 0.1  # a taught row scoring at most this is normal enough: it adds no kernel
# A kernel's variance, in units of the GMM's variance floor (reg_covar): half its standard deviation.
# Lite's velocity is one number, so a kernel quietens every region at about the taught speed near its
# place (aivad.model.density.PLACE_SIZE_STEP); measured before kernels had places, on the five
# development splits the floor itself (1.0) let a 3-frame lesson hide split b's crowd and foreign
# object and delay split a's crowd from 0.2 to 1.9 s, 0.25 delayed them by 0.2-0.4 s
# (benchmarks/teach_table.py, docs/results.md).
KERNEL_VARIANCE = 0.25
MAX_TAUGHT_KERNELS = 1024  # per velocity GMM; scoring costs one Gaussian per kernel and region (1-D in lite)


def add_to_knn(density, rows: torch.Tensor, seed: int = 0) -> dict:
    """Append the taught rows to a kNN bank, capped by the training's coreset rule.

    Why the scale may move: while the bank is under its cap every old row stays, so every distance to
    the bank can only shrink and the stored scale is kept as it is. Over the cap the coreset drops some
    rows; a query whose nearest row was dropped is then at most ``radius`` farther from the bank (the
    largest distance of a dropped row to the rows kept: triangle inequality, exact for the 1-NN every
    attribute uses). Raising both ends of the scale by that radius keeps every score at or below the one
    the threshold was calibrated with, instead of recalibrating on footage teaching has not seen.
    """
    from aivad.model.density import coreset_indices

    old = density.bank.float()
    features = torch.cat([old, rows.float()]) if len(old) else rows.float()
    groups = torch.cat([density.bank_groups, torch.full((len(rows),), -2, dtype=torch.long)])
    keep = coreset_indices(features, density.max_bank, seed=seed)
    kept = torch.zeros(len(features), dtype=torch.bool)
    kept[keep] = True
    radius = 0.0
    dropped = ~kept[: len(old)]
    if dropped.any():
        radius = float(torch.cdist(old[dropped], features[keep]).min(dim=1).values.max())
        density.set_scale(float(density.low) + radius, float(density.high) + radius)
    density.bank = features[keep].contiguous()
    density.bank_groups = groups[keep].contiguous()
    return {"rows_kept": int(kept[len(old) :].sum()), "bank_rows": int(len(keep)), "scale_shift": radius}


def add_to_gmm(density, rows: torch.Tensor, places: torch.Tensor | None = None) -> dict:
    """Kernels at the taught rows that still score above normal, beside the GMM's components, with no rescaling.

    The taught stretch forms its own small density: one narrow Gaussian kernel (variance ``KERNEL_VARIANCE``
    times the GMM's variance floor ``reg_covar``, the precision of a speed measurement) per taught row that
    the model still finds unusual, weighted so that the kernel alone scores its centre at ``TAUGHT_LEVEL``
    on the calibrated scale. The trained components keep their weights and the scale is not touched, so the score of a
    region is ``-log(p_trained + p_taught)``: the lower of the trained score and the taught one (up to
    log 2 lower where both are equal). The taught score of a region d kernel widths from the nearest
    kernel is ``TAUGHT_LEVEL`` plus ``d**2 / 2`` raw units, so a region that is not near what was taught
    keeps its score where the trained density already explains it (ordinary speeds: exactly), and
    anywhere else stays at least that high (six widths away: 18 raw units, several times the alarm
    level). No score can rise (a density only gains terms), so the threshold and its false-alarm rate
    stay honest.

    With ``places`` (aivad.model.density.box_places of the taught regions, row for row; NaN rows:
    everywhere) each kernel holds near the box it was taught on only: its score rises with the
    distance to that place (aivad.model.density.place_distances), so a region one step of size or one
    box height away at the taught speed scores at least at the alarm level from it. Without places
    (lessons stored before places were) the kernels hold everywhere.

    Kernels are placed greedily: the taught row scoring highest gets one, every row is re-scored, and
    so on until every taught row scores at most ``COVERED_LEVEL``. Rows the model already finds
    ordinary add nothing, and teaching the same rows twice adds nothing the second time.
    (The design this replaces fitted components on the taught rows with the variance floor, gave each the
    weight of the whole trained GMM and raised the scale's ends by log(total/mass), which those weights
    cancelled exactly; the wide, heavy components lowered velocity over a broad band of speeds, and on
    split b a 3-frame lesson hid the crowd and the foreign object.)
    """
    from aivad.model.density import PLACE_COLUMNS, place_distances

    data = rows.double()
    dims = data.shape[1]
    everywhere = torch.full((len(data), PLACE_COLUMNS), float("nan"), dtype=torch.float64)
    where = places.double() if places is not None else everywhere
    spread = float(density.high) - float(density.low)
    level = float(density.low) + TAUGHT_LEVEL * spread
    covered = float(density.low) + COVERED_LEVEL * spread
    variance = KERNEL_VARIANCE * float(density.reg_covar)
    # weight of a kernel whose negative log-likelihood at its centre is ``level``
    log_weight = 0.5 * dims * math.log(2 * math.pi * variance) - level
    current = density.raw_scores(data, places=where).double()
    centres: list[int] = []
    room = MAX_TAUGHT_KERNELS - max(0, len(density.means) - density.n_components)  # kernels of earlier lessons
    while len(centres) < room and len(current) and float(current.max()) > covered:
        index = int(torch.argmax(current))
        centres.append(index)
        kernel = level + 0.5 * ((data - data[index]) ** 2).sum(dim=1) / variance
        kernel = kernel + place_distances(where, where[index : index + 1])[:, 0] * spread
        current = -torch.logaddexp(-current, -kernel)
    if len(current) and float(current.max()) > covered:
        raise UserError(
            f"this model's velocity memory has been taught as much as it holds ({MAX_TAUGHT_KERNELS} kernels); "
            "fine-tune a model from this checkpoint on footage that includes the stretches it was taught "
            "(train_aivad_finetune.py --init-checkpoint), then teach that one."
        )
    if centres:
        count = len(centres)
        eye = torch.eye(dims, dtype=torch.float64).expand(count, dims, dims) / math.sqrt(variance)
        # places cover the last kernels (earlier ones, taught without places, hold everywhere): append row for row
        if len(density.taught_places) or not bool(torch.isnan(where[centres]).all()):
            density.taught_places = torch.cat([density.taught_places.double(), where[centres]])
        density.means = torch.cat([density.means, data[centres]])
        density.precisions_cholesky = torch.cat([density.precisions_cholesky, eye])
        density.log_det = torch.cat([density.log_det, torch.full((count,), -0.5 * dims * math.log(variance))])
        density.log_weights = torch.cat([density.log_weights, torch.full((count,), log_weight, dtype=torch.float64)])
    return {"kernels_added": len(centres), "components": int(len(density.means)), "scale_shift": 0.0}


def taught_centres(density, lessons: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """The speeds a velocity GMM was taught and their places (NaN: everywhere): the means of the
    components its ``lessons`` (the checkpoint's ``taught`` records) added, the last ones of the mixture.

    For a fine-tune that refits the GMM on samples (aivad.training): the refit folds the narrow kernels into
    broad components and the lesson is lost (measured on split a: a taught speed scoring -0.01 scored 1.88
    after ``--epochs 0``, 1.49 before teaching). ``add_to_gmm(new, taught_centres(base, lessons))``
    after the new model's calibration puts them back where the new model still finds them unusual.
    """
    from aivad.model.density import PLACE_COLUMNS

    velocity = [lesson.get("memory", {}).get("velocity", {}) for lesson in lessons]
    added = sum(int(m.get("kernels_added", 0)) + int(m.get("components_added", 0)) for m in velocity)
    places = torch.full((added, PLACE_COLUMNS), float("nan"), dtype=torch.float64)
    known = density.taught_places[-added:] if added else density.taught_places[:0]
    if len(known):
        places[added - len(known) :] = known
    return density.means[len(density.means) - added :].float().clone(), places
