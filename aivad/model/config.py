"""The model's configuration: what a checkpoint records about how its model was built.

Stored in the checkpoint as plain data (``hyper_parameters``), so a checkpoint loads with
``torch.load(weights_only=True)``; the scoring code reads it back to rebuild the same backend,
densities, smoothing, attribute combination, velocity units and alarm rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

MEMORY_BANK_SIZE = 4096  # kNN memory rows kept per attribute (coreset): scoring cost stays flat
SMOOTHING_SIGMA = 3.0  # frames of Gaussian smoothing of frame scores, the AI-VAD authors' value
PIXELS = {"kind": "pixels"}  # velocity units of checkpoints written before box-relative velocity, and anomalib's
FRAME_GEOMETRY = {"kind": "frame"}  # geometry of checkpoints written before aivad_model.perspective_geometry_units


@dataclass
class ModelConfig:
    """How a model was built; every field's default is the value older checkpoints imply."""

    backend: str  # "full" or "lite"
    backend_settings: dict  # FullSettings or LiteSettings as plain data
    encoder: str  # "clip_vit_b16" or "small_cnn"
    density: dict  # attribute -> {"kind": "gmm" | "knn", ...} (aivad.model.aivad_model.default_density_config)
    weights: str = "pretrained"  # frozen networks: "pretrained" or "random"
    max_bank: int = MEMORY_BANK_SIZE
    smoothing_sigma: float = SMOOTHING_SIGMA
    combine: str = "sum"  # "max" for models calibrated on held-out footage (aivad.model.scoring)
    appearance_features: str = "normalised"  # "raw" for anomalib's own CLIP memories
    velocity_units: dict = field(default_factory=lambda: dict(PIXELS))  # aivad.model.aivad_model.velocity_in_units
    geometry_units: dict = field(default_factory=lambda: dict(FRAME_GEOMETRY))  # aivad_model.geometry_in_units
    shape_units: dict | None = None  # {"mean": [...]}: aivad.model.aivad_model.shape_rows; None: no shape attribute
    scene_baseline: dict | None = None  # attribute -> held-out median frame maximum (drift.py); None: no re-centring
    alarm: dict | None = None  # aivad.model.alarm.AlarmRule, set by training
    false_alarm_model: dict | None = None  # aivad.model.alarm.RateModel, set by training

    @property
    def attributes(self) -> list[str]:
        return list(self.density)

    @property
    def inference_precision(self) -> str:
        """The precision the model's networks extract features in (aivad.devices.INFERENCE_PRECISIONS)."""
        return self.backend_settings.get("inference_precision", "auto")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """Also reads older checkpoints: keys that no longer exist (percentiles) are left out."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        return cls(**values)


def weights_line(config, settings: dict) -> str:
    """What the model's networks started from. The training flag --weights (default pretrained) only
    concerns the full backend's frozen networks: the lite backend has none, and its small CNN starts random."""
    if config.backend != "lite":
        return config.weights
    base = settings.get("init_checkpoint")
    start = f"fine-tuned from {base}" if base else "trained from random initialisation"
    return f"none (lite backend: no pretrained networks; the appearance encoder is {start} on your footage)"
