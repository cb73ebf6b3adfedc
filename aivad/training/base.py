"""Base checkpoints for fine-tuning: ours, or one written by anomalib's own ``AiVad``.

A base provides the starting appearance encoder, the backend settings and, per attribute, the
normal-behaviour memory that :mod:`aivad.training.fitting` may keep. It is only ever read.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from aivad.errors import UserError
from aivad.model.anomalib import anomalib_model
from aivad.model.checkpoint import load_raw, require_known
from aivad.model.config import ModelConfig


class BaseCheckpoint:
    def __init__(
        self, path: Path, config: dict, encoder, memories: dict, description: str, lessons: list | None = None
    ) -> None:
        self.path = path
        self.config = config
        self.encoder = encoder
        self._memories = memories  # attribute -> ("bank", tensor) | ("gmm", GmmDensity)
        self.description = description
        self.lessons = list(lessons or [])  # what the base was taught (aivad.model.teach), oldest first

    def taught_speeds(self, config: ModelConfig) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The velocity rows the base was taught and their places (aivad.model.density.box_places; NaN:
        everywhere), where its velocity memory compares with ``config``'s.

        Why: a kNN lesson is rows of the memory, which a fine-tune keeps; a velocity lesson is narrow
        kernels beside the GMM, which the fine-tune's refit folds into broad components and loses.
        """
        from aivad.model.lessons import taught_centres

        memory = self._memories.get("velocity")
        if not self.lessons or memory is None or memory[0] != "gmm":
            return None
        if not _same_extractor("velocity", self.config, config) or self.config.velocity_units != config.velocity_units:
            return None
        centres, places = taught_centres(memory[1], self.lessons)
        return (centres, places) if len(centres) else None

    def memory(self, name: str, config: ModelConfig, n_samples: int) -> torch.Tensor | None:
        """The base's normal features for one attribute, or None when they are not comparable."""
        if name not in self._memories or not _same_extractor(name, self.config, config):
            return None
        kind, value = self._memories[name]
        if kind == "bank":
            return value
        return sample_gmm(value, n_samples)


def _same_extractor(name: str, old: ModelConfig, new: ModelConfig) -> bool:
    from aivad.features.full import FullSettings
    from aivad.features.lite import LiteSettings

    if old.backend != new.backend:
        return False
    if name in ("geometry", "person") and old.geometry_units != new.geometry_units:
        return False  # a base from before the perspective geometry stored frame positions
    if name == "shape" and old.shape_units != new.shape_units:
        return False  # descriptors centred elsewhere do not compare
    relevant = {
        "velocity": (
            "velocity_bins",
            "velocity_feature",
            "flow_model",
            "flow_size",
            "flow_iterations",
            "process_max_side",
            "velocity_grid",
        ),
        "pose": ("detector_size", "pose_boxes"),
        "geometry": (),
        "person": ("person_model", "appearance_min_side"),
        "shape": ("shape_model", "appearance_min_side"),
        "appearance": ("crop_size",),
    }[name]
    # settings added after a checkpoint was written take their default there
    defaults = FullSettings().to_dict() if old.backend == "full" else LiteSettings().to_dict()
    old_settings, new_settings = {**defaults, **old.backend_settings}, {**defaults, **new.backend_settings}
    return all(old_settings.get(k) == new_settings.get(k) for k in relevant)


def sample_gmm(density, n_samples: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    weights = torch.exp(density.log_weights_everywhere())  # a kernel taught at one place is no speed for everywhere
    components = torch.multinomial(weights, n_samples, replacement=True, generator=generator)
    precision_chol = density.precisions_cholesky[components]  # (n, d, d) with cov^-1 = P P^T
    noise = torch.randn(n_samples, density.means.shape[1], 1, generator=generator, dtype=torch.float64)
    # x = mu + P^-T z has covariance (P P^T)^-1
    offsets = torch.linalg.solve_triangular(precision_chol.transpose(-1, -2), noise, upper=False).squeeze(-1)
    return (density.means[components] + offsets).float()


def load_base(path: Path) -> BaseCheckpoint:
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"base checkpoint {path} was not found: fine-tuning starts from an existing model; copy your "
            "aivad_proper_checkpoint.ckpt there, pass --init-checkpoint PATH, or train one with "
            "train_aivad_from_scratch.py first."
        )
    data = load_raw(path)
    kind = require_known(path, data)
    return _from_ours(path, data) if kind == "aivad" else _from_anomalib(path, data)


def _from_ours(path: Path, data: dict) -> BaseCheckpoint:
    from aivad.model.aivad_model import AiVadModel

    config = ModelConfig.from_dict(data["hyper_parameters"])
    model = AiVadModel.empty(config)
    model.load_state_dict(data["state_dict"])
    memories = {}
    for name, density in model.densities.items():
        memories[name] = ("bank", density.bank.clone()) if hasattr(density, "bank") else ("gmm", density)
    videos = data["aivad"].get("videos", [])
    return BaseCheckpoint(
        path,
        config,
        model.encoder,
        memories,
        f"{config.backend} model trained on {len(videos)} video(s)",
        lessons=data["aivad"].get("taught", []),
    )


def _from_anomalib(path: Path, data: dict) -> BaseCheckpoint:
    model, description = anomalib_model(path, data)
    memories = {}
    for name, density in model.densities.items():
        if hasattr(density, "bank"):
            bank = density.bank.clone()
            # anomalib keeps raw CLIP features; this project compares them L2-normalised
            memories[name] = ("bank", F.normalize(bank, dim=1) if name == "appearance" else bank)
        else:
            memories[name] = ("gmm", density)
    return BaseCheckpoint(path, model.config, model.encoder, memories, description)
