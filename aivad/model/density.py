"""Density estimators for the attribute features: kNN (pose, appearance, geometry) and GMM (velocity).

AI-VAD's estimators, rewritten where anomalib 2.7's ``density.py`` is wrong:
- its grouped kNN normalisation excludes the sample's own video, so with a single training video
  the remaining memory bank is empty and ``predict`` raises IndexError; here groups are chunks of
  consecutive frames of each video (several per video), and a bank with one group falls back to
  two temporal halves;
- its normalisation maximum is ``torch.max(self.min, ...)`` of the *last* group only; here the
  statistics come from all training scores at once;
- the authors normalise with the minimum and the 99.9th percentile of training scores (robust to
  a few odd training regions), not the maximum; so do we.
The kNN memory bank is reduced to at most ``max_bank`` rows by greedy k-centre coreset selection, so
scoring cost stays bounded however much footage the user trains on.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

CHUNK = 256  # query rows per cdist block: against a full bank (4096 rows) a block and its work buffers take ~20 MB


class NormalisedScores(nn.Module):
    """Maps raw anomaly scores to roughly [0, 1] on normal data: (raw - low) / (high - low)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("low", torch.tensor(0.0))
        self.register_buffer("high", torch.tensor(1.0))

    def set_from(self, train_scores: torch.Tensor, percentile: float) -> None:
        if train_scores.numel() == 0:
            return
        low = train_scores.min()
        high = torch.quantile(train_scores.double(), percentile / 100.0).float()
        self.low = low.float()
        self.high = torch.maximum(high, low + 1e-6)

    def set_scale(self, low: float, high: float) -> None:
        """Normalisation from scores measured elsewhere (held-out normal footage: aivad.model.calibration)."""
        self.low = torch.tensor(float(low))
        self.high = torch.tensor(max(float(high), float(low) + 1e-6))

    def normalise(self, raw: torch.Tensor) -> torch.Tensor:
        return (raw - self.low) / (self.high - self.low)


# torch.cdist computes Euclidean distances as a matrix product when either side has more rows than this
# (its default compute mode); below, pair by pair.
CDIST_MM_ROWS = 25


def extended_bank(bank: torch.Tensor) -> torch.Tensor:
    """(R, D + 2): each bank row followed by 1 and its squared norm, as torch.cdist extends it."""
    norms = bank.pow(2).sum(dim=-1, keepdim=True)
    return torch.cat([bank, torch.ones_like(norms), norms], dim=-1)


def bank_distances(rows: torch.Tensor, extended: torch.Tensor) -> torch.Tensor:
    """torch.cdist(rows, bank) from :func:`extended_bank` (bank), to the bit: the same product, clamp and root.

    Only where cdist itself takes its matrix-product path (the bank has more than CDIST_MM_ROWS rows).
    """
    norms = rows.pow(2).sum(dim=-1, keepdim=True)
    extended_rows = torch.cat([rows.mul(-2), norms, torch.ones_like(norms)], dim=-1)
    return extended_rows.matmul(extended.mT).clamp_min_(0).sqrt_()


class KnnDensity(NormalisedScores):
    """Mean distance to the k nearest normal features."""

    def __init__(self, n_neighbors: int = 1, max_bank: int = 4096) -> None:
        super().__init__()
        self.n_neighbors = n_neighbors
        self.max_bank = max_bank
        self.register_buffer("bank", torch.zeros(0, 0))
        self.register_buffer("bank_groups", torch.zeros(0, dtype=torch.long))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The bank's size is only known once fitted: take the stored shapes.
        for name in ("bank", "bank_groups"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def fit(
        self, features: torch.Tensor, groups: torch.Tensor, percentile: float = 99.9, seed: int = 0
    ) -> torch.Tensor:
        """Fill the bank and the normalisation; returns the leave-group-out raw training scores."""
        features = features.float()
        groups = distinct_or_halves(groups)
        self.fit_estimator(features, groups, seed=seed)
        train_scores = self.raw_scores(features, exclude_groups=groups)
        self.set_from(train_scores, percentile)
        return train_scores

    def fit_estimator(
        self,
        features: torch.Tensor,
        groups: torch.Tensor | None = None,
        seed: int = 0,
        rows: torch.Tensor | None = None,
    ) -> None:
        """Fill the memory bank (coreset-bounded) without scoring the training rows.

        ``rows``: fit on these rows of ``features`` only, without copying them (held-out folds).
        """
        features = features.float()
        groups = (
            torch.zeros(len(features), dtype=torch.long)
            if groups is None
            else torch.as_tensor(groups, dtype=torch.long)
        )
        keep = coreset_indices(features, self.max_bank, seed=seed, rows=rows)
        self.bank = features[keep].contiguous()
        self.bank_groups = groups[keep].contiguous()

    def _extended_bank(self, device: torch.device) -> torch.Tensor:
        """The bank extended as cdist's matrix-product path extends it, kept while the bank stays the same.

        Why: scoring a frame's few regions, cdist extended the whole bank again at every call (its squared
        norms and a copy): 0.95 -> 0.47 ms for 5 rows against 1,731 x 288 (microbench, one thread). The
        cache holds the bank tensor itself, so a new bank (fitted, loaded, taught) is never mistaken for it.
        """
        bank = self.bank
        cached = getattr(self, "_extended", None)
        if cached is None or cached[0] is not bank or cached[1] != bank._version or cached[2] != device:
            on_device = bank.to(device)
            cached = (bank, bank._version, device, extended_bank(on_device))
            self._extended = cached
        return cached[3]

    def raw_scores(
        self, features: torch.Tensor, exclude_groups: torch.Tensor | None = None, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean distance of each row (or of ``rows`` of ``features``) to its nearest bank rows."""
        n = features.shape[0] if rows is None else len(rows)
        if n == 0:
            return torch.zeros(0, device=features.device)
        bank = self.bank.to(features.device)
        k = min(self.n_neighbors, max(1, bank.shape[0] - 1))
        extended = self._extended_bank(features.device) if bank.shape[0] > CDIST_MM_ROWS else None
        out = []
        for start in range(0, n, CHUNK):
            block = (features[start : start + CHUNK] if rows is None else features[rows[start : start + CHUNK]]).float()
            distances = torch.cdist(block, bank) if extended is None else bank_distances(block, extended)
            if exclude_groups is not None:
                same = exclude_groups[start : start + CHUNK, None].to(bank.device) == self.bank_groups[None].to(
                    bank.device
                )
                distances = distances.masked_fill(same, float("inf"))
            nearest = distances.topk(k, largest=False, dim=1).values
            nearest = torch.where(torch.isinf(nearest), torch.zeros_like(nearest), nearest)
            out.append(nearest.mean(dim=1))
        return torch.cat(out)

    def score(self, features: torch.Tensor, places: torch.Tensor | None = None) -> torch.Tensor:
        del places  # a bank's taught rows are rows like the others (aivad.model.lessons.add_to_knn)
        return self.normalise(self.raw_scores(features))


# Where a taught velocity kernel holds (aivad.model.lessons.add_to_gmm): near the box it was taught on.
# A place is a box's vertical centre, height and width in pixels; the distance to a taught box counts its
# heights of vertical offset and its size ratio in steps of PLACE_SIZE_STEP (1.5: a person a few metres
# nearer or farther), squared and summed. A kernel's score rises by that distance squared times the
# scale's spread, so a region one step away at the taught speed scores at least at the alarm level (1).
# Why: lite's velocity is one number per region, and a kernel that held everywhere quietened every region
# at the taught speed; on the development splits a 4-frame lesson of a fast region near the camera (split c)
# hid the sprinter crossing the lawn, and on split e the car (benchmarks/teach_table.py, docs/results.md).
# The horizontal position does not count: a perspective camera sees the same kind of object at the same
# height anywhere along a row.
PLACE_SIZE_STEP = 1.5
PLACE_COLUMNS = 3  # vertical centre, height, width


def box_places(boxes: np.ndarray) -> np.ndarray:
    """(N, 3) float64 places of (N, 4) x0 y0 x1 y1 boxes: vertical centre, height, width (pixels, at least 1)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    return np.stack([(boxes[:, 1] + boxes[:, 3]) / 2, height, width], axis=1)


def place_distances(places: torch.Tensor, taught: torch.Tensor) -> torch.Tensor:
    """(N, K) squared distance of each place to each taught place (0 where the taught place is NaN: everywhere)."""
    places, taught = places.double(), taught.double()
    offset = (places[:, None, 0] - taught[None, :, 0]) / taught[None, :, 1]
    size = torch.log(places[:, None, 1:] / taught[None, :, 1:]) / np.log(PLACE_SIZE_STEP)
    distance = offset**2 + (size**2).sum(-1)
    return torch.nan_to_num(distance, nan=0.0)


class GmmDensity(NormalisedScores):
    """Negative log-likelihood under a Gaussian mixture (full covariances), fitted with scikit-learn.

    Taught kernels (aivad.model.lessons) are components after the fitted ones; the last
    ``len(taught_places)`` of them hold only near their place (a NaN row: everywhere, as kernels of
    older lessons, stored without places, do).
    """

    def __init__(self, n_components: int = 5, reg_covar: float = 1e-3) -> None:
        super().__init__()
        self.n_components = n_components
        self.reg_covar = reg_covar
        for name in ("means", "precisions_cholesky", "log_weights", "log_det"):
            self.register_buffer(name, torch.zeros(0))
        self.register_buffer("taught_places", torch.zeros(0, PLACE_COLUMNS, dtype=torch.float64))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ("means", "precisions_cholesky", "log_weights", "log_det"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        # checkpoints written before places: their kernels hold everywhere
        places = state_dict.setdefault(prefix + "taught_places", torch.zeros(0, PLACE_COLUMNS, dtype=torch.float64))
        self.taught_places = torch.empty_like(places)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def place_penalty(self, places: torch.Tensor | None, n_rows: int) -> torch.Tensor | None:
        """(N, K) raw units added to the last K components' scores (None: no component has a place).

        Without the regions' places (``places`` None) a kernel that holds at one place counts nowhere.
        """
        taught = self.taught_places
        if len(taught) == 0 or bool(torch.isnan(taught).all()):
            return None
        if places is None:
            return torch.where(torch.isnan(taught[:, 0]), 0.0, float("inf")).double().expand(n_rows, len(taught))
        spread = float(self.high) - float(self.low)
        return place_distances(places, taught) * spread

    def fit(
        self, features: torch.Tensor, groups: torch.Tensor | None = None, percentile: float = 99.9, seed: int = 0
    ) -> torch.Tensor:
        del groups  # a parametric fit does not memorise single samples: no leave-out needed
        self.fit_estimator(features, seed=seed)
        train_scores = self.raw_scores(features)
        self.set_from(train_scores, percentile)
        return train_scores

    def fit_estimator(
        self,
        features: torch.Tensor,
        groups: torch.Tensor | None = None,
        seed: int = 0,
        rows: torch.Tensor | None = None,
    ) -> None:
        from sklearn.mixture import GaussianMixture

        data = (features if rows is None else features[rows]).double().cpu().numpy()
        n_components = max(1, min(self.n_components, len(data)))
        gmm = GaussianMixture(n_components, covariance_type="full", reg_covar=self.reg_covar, random_state=seed)
        gmm.fit(data)
        self.set_parameters(gmm.means_, gmm.covariances_, gmm.weights_)

    def set_parameters(self, means, covariances, weights) -> None:
        covariances = torch.as_tensor(np.asarray(covariances), dtype=torch.float64)
        cholesky = torch.linalg.cholesky(covariances)
        eye = torch.eye(covariances.shape[-1], dtype=torch.float64).expand_as(covariances)
        precisions_cholesky = torch.linalg.solve_triangular(cholesky, eye, upper=False).transpose(-1, -2)
        self.means = torch.as_tensor(np.asarray(means), dtype=torch.float64)
        self.precisions_cholesky = precisions_cholesky
        self.log_det = torch.log(torch.diagonal(precisions_cholesky, dim1=-2, dim2=-1)).sum(-1)
        self.log_weights = torch.log(torch.as_tensor(np.asarray(weights), dtype=torch.float64))

    def raw_scores(
        self, features: torch.Tensor, rows: torch.Tensor | None = None, places: torch.Tensor | None = None
    ) -> torch.Tensor:
        if rows is not None:
            features = features[rows]
            places = places[rows] if places is not None else None
        if features.shape[0] == 0:
            return torch.zeros(0, device=features.device)
        x = features.double().to(self.means.device)
        # y = (x - mu) @ P for each component: Mahalanobis distance without inverting covariances
        y = (
            torch.einsum("nd,kde->nke", x, self.precisions_cholesky)
            - torch.einsum("kd,kde->ke", self.means, self.precisions_cholesky)[None]
        )
        dims = x.shape[1]
        log_prob = -0.5 * (dims * np.log(2 * np.pi) + (y**2).sum(-1)) + self.log_det[None]
        penalty = self.place_penalty(places, len(x))
        if penalty is not None:
            log_prob = torch.cat([log_prob[:, : -penalty.shape[1]], log_prob[:, -penalty.shape[1] :] - penalty], dim=1)
        return -torch.logsumexp(log_prob + self.log_weights[None], dim=1).float().to(features.device)

    def score(self, features: torch.Tensor, places: torch.Tensor | None = None) -> torch.Tensor:
        """Calibrated scores; ``places`` (box_places of the regions) for kernels taught at one place."""
        return self.normalise(self.raw_scores(features, places=places))

    def log_weights_everywhere(self) -> torch.Tensor:
        """The components' log weights, -inf for kernels that hold at one place only (sampling the memory)."""
        weights = self.log_weights.clone()
        taught = len(self.taught_places)
        if taught:
            local = ~torch.isnan(self.taught_places[:, 0])
            weights[len(weights) - taught :][local] = float("-inf")
        return weights


def distinct_or_halves(groups: torch.Tensor) -> torch.Tensor:
    """Leave-group-out needs two groups at least; one group is split into two temporal halves."""
    groups = torch.as_tensor(groups, dtype=torch.long)
    if groups.numel() > 1 and torch.unique(groups).numel() < 2:
        return (torch.arange(groups.numel()) >= groups.numel() // 2).long()
    return groups


def coreset_indices(
    features: torch.Tensor, size: int, seed: int = 0, projection_dim: int = 128, rows: torch.Tensor | None = None
) -> torch.Tensor:
    """Greedy k-centre selection (as PatchCore's coreset) on a random projection, sorted indices.

    ``rows``: select among these rows of ``features`` only; indices are still into ``features``.
    Wide features are projected block by block, so no full-width copy of the rows is made.
    """
    if size < 1:  # greedy selection starts from one row, so 0 would silently keep one
        raise ValueError(f"coreset size must be at least 1, got {size}")
    n = features.shape[0] if rows is None else len(rows)
    if n <= size:
        return torch.arange(n) if rows is None else torch.sort(torch.as_tensor(rows)).values
    generator = torch.Generator().manual_seed(seed)
    width = features.shape[1]
    projection = None
    if width > projection_dim:
        projection = torch.randn(width, projection_dim, generator=generator) / projection_dim**0.5
    blocks = []
    for start in range(0, n, 16 * CHUNK):
        block = (
            features[start : start + 16 * CHUNK] if rows is None else features[rows[start : start + 16 * CHUNK]]
        ).float()
        blocks.append(block @ projection.to(block.device) if projection is not None else block)
    x = torch.cat(blocks) if len(blocks) > 1 else blocks[0]
    selected = [int(torch.randint(n, (1,), generator=generator))]
    squared_norms = (x * x).sum(dim=1)

    def distance_to(index: int) -> torch.Tensor:
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2: one matrix-vector product, O(rows) memory (cdist keeps
        # about 100 MB of work buffers per call, whatever the footage)
        return (squared_norms - 2.0 * (x @ x[index]) + squared_norms[index]).clamp_(min=0.0)

    min_distance = distance_to(selected[0])
    for _ in range(size - 1):
        index = int(torch.argmax(min_distance))
        selected.append(index)
        min_distance = torch.minimum(min_distance, distance_to(index))
    chosen = torch.tensor(sorted(selected))
    return chosen if rows is None else torch.sort(torch.as_tensor(rows)[chosen]).values
