"""The model's configuration: what a checkpoint records about how its model was built.

Stored in the checkpoint as plain data (``hyper_parameters``), so a checkpoint loads with
``torch.load(weights_only=True)``; the scoring code reads it back to rebuild the same backend,
densities, smoothing, attribute combination, velocity units and alarm rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from aivad.errors import UserError

MEMORY_BANK_SIZE = 4096  # kNN memory rows kept per attribute (coreset): scoring cost stays flat
SMOOTHING_SIGMA = 3.0  # frames of Gaussian smoothing of frame scores, the AI-VAD authors' value
PIXELS = {"kind": "pixels"}  # velocity units of checkpoints written before box-relative velocity, and anomalib's
FRAME_GEOMETRY = {"kind": "frame"}  # geometry of checkpoints written before aivad.model.perspective_geometry_units


@dataclass
class ModelConfig:
    """How a model was built; every field's default is the value older checkpoints imply."""

    backend: str  # "full" or "lite"
    backend_settings: dict  # FullSettings or LiteSettings as plain data
    encoder: str  # "clip_vit_b16" or "small_cnn"
    density: dict  # attribute -> {"kind": "gmm" | "knn", ...} (aivad.model.default_density_config)
    weights: str = "pretrained"  # frozen networks: "pretrained" or "random"
    max_bank: int = MEMORY_BANK_SIZE
    smoothing_sigma: float = SMOOTHING_SIGMA
    combine: str = "sum"  # "max" for models calibrated on held-out footage (aivad.scoring)
    appearance_features: str = "normalised"  # "raw" for anomalib's own CLIP memories
    velocity_units: dict = field(default_factory=lambda: dict(PIXELS))  # aivad.model.velocity_in_units
    geometry_units: dict = field(default_factory=lambda: dict(FRAME_GEOMETRY))  # aivad.model.geometry_in_units
    scene_baseline: dict | None = None  # attribute -> held-out median frame maximum (aivad.drift); None: no re-centring
    alarm: dict | None = None  # aivad.alarm.AlarmRule, set by training
    false_alarm_model: dict | None = None  # aivad.alarm.RateModel, set by training

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


def build_config(args, base) -> ModelConfig:
    from aivad.full import FullSettings, frozen_attributes
    from aivad.lite import lite_frozen_attributes, new_model_settings
    from aivad.model import default_density_config

    if base is not None:
        backend = base.config.backend
        if args.backend is not None and args.backend != backend:
            raise UserError(
                f"--backend {args.backend} does not match the base checkpoint, which is a {backend} model; "
                f"drop --backend or use a {args.backend} base checkpoint."
            )
    else:
        backend = args.backend or "full"
    if backend == "lite":
        settings = new_model_settings(args.motion_threshold).to_dict()
        attributes = [*lite_frozen_attributes(settings["person_model"]), "appearance"]
        encoder = "small_cnn"
    else:
        settings = (
            FullSettings.from_dict(base.config.backend_settings).to_dict()
            if base is not None
            else FullSettings().to_dict()
        )
        settings.update(
            flow_model=args.flow_model,
            flow_size=list(args.flow_size),
            flow_iterations=args.flow_iterations,
            detector_size=args.detector_size,
            box_score_thresh=args.box_score_thresh,
            foreground_threshold=args.motion_threshold,
            use_pose=settings.get("use_pose", True) and not args.no_pose,
            pose_boxes=args.pose_boxes,
            inference_precision=args.inference_precision,
        )
        attributes = [*frozen_attributes(settings["use_pose"]), "appearance"]
        encoder = "clip_vit_b16"
    from aivad.scoring import MAX_SMOOTHED

    return ModelConfig(
        backend=backend,
        backend_settings=settings,
        encoder=encoder,
        density=default_density_config(attributes),
        weights=args.weights,
        max_bank=args.memory_bank_size,
        combine=MAX_SMOOTHED,  # calibrated attributes, each smoothed, then the most unusual one (aivad.scoring)
        smoothing_sigma=args.smoothing_sigma,
    )
