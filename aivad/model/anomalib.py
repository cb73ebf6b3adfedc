"""Reading a checkpoint written by anomalib's own ``AiVad`` as this project's model.

The detector scores with it and fine-tuning starts from it (aivad.training.base); only ever read.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aivad.errors import UserError
from aivad.model.config import ModelConfig

ANOMALIB_CLIP_VISUAL = "model.feature_extractor.deep_extractor.encoder.visual."


def anomalib_model(path: Path, data: dict):
    """An anomalib AiVad checkpoint as our model: CLIP weights, memories and its own normalisation.

    anomalib's settings come from its hyper-parameters; its appearance kNN works on raw (not
    normalised) CLIP features, which the config records so the detector scores them the same way.
    """
    from aivad.features.encoders import ClipAppearanceEncoder
    from aivad.features.full import FullSettings
    from aivad.features.weights import WeightsSource, build_clip_visual
    from aivad.model.aivad_model import AiVadModel, default_density_config

    state = data["state_dict"]
    hparams = data.get("hyper_parameters") or {}
    settings = FullSettings(
        box_score_thresh=float(hparams.get("box_score_thresh", 0.7)),
        persons_only=bool(hparams.get("persons_only", False)),
        min_box_area=int(hparams.get("min_bbox_area", 100)),
        max_box_overlap=float(hparams.get("max_bbox_overlap", 0.65)),
        foreground_regions=bool(hparams.get("enable_foreground_detections", True)),
        foreground_kernel_size=int(hparams.get("foreground_kernel_size", 3)),
        foreground_threshold=int(hparams.get("foreground_binary_threshold", 18)),
        velocity_bins=int(hparams.get("n_velocity_bins", 1)),
        use_pose=bool(hparams.get("use_pose_features", True)),
    )
    visual_state = {
        k[len(ANOMALIB_CLIP_VISUAL) :]: v.float() for k, v in state.items() if k.startswith(ANOMALIB_CLIP_VISUAL)
    }
    if not visual_state or not hparams.get("use_deep_features", True):
        raise UserError(
            f"{path} is an anomalib AiVad checkpoint without deep (CLIP) features, which this project needs; "
            "retrain it with use_deep_features=True."
        )
    visual = build_clip_visual(WeightsSource("random"))
    visual.load_state_dict(visual_state)
    prefix = "model.density_estimator."
    attributes = [
        name
        for name, key in (
            ("velocity", "velocity_estimator"),
            ("pose", "pose_estimator"),
            ("appearance", "appearance_estimator"),
        )
        if any(k.startswith(prefix + key) for k in state)
    ]
    density_config = default_density_config(attributes)
    if "velocity" in density_config:
        density_config["velocity"]["n_components"] = int(hparams.get("n_components_velocity", 2))
    config = ModelConfig(
        backend="full",
        backend_settings=settings.to_dict(),
        encoder="clip_vit_b16",
        density=density_config,
        weights="pretrained",
        max_bank=1 << 30,
        smoothing_sigma=0.0,  # anomalib does not smooth in time
        combine="sum",  # anomalib's frame score, which its threshold was set for
        appearance_features="raw",
    )
    model = AiVadModel(config, ClipAppearanceEncoder(visual))
    estimator_names = {"velocity": "velocity_estimator", "pose": "pose_estimator", "appearance": "appearance_estimator"}
    for name, density in model.densities.items():
        key = prefix + estimator_names[name] + "."
        if name == "velocity":
            density.set_parameters(
                state[key + "gmm.means"].double().numpy(),
                state[key + "gmm.covariances"].double().numpy(),
                state[key + "gmm.weights"].double().numpy(),
            )
        else:
            density.bank = state[key + "memory_bank"].float()
            density.bank_groups = torch.zeros(len(density.bank), dtype=torch.long)
        density.low = state[key + "min"].float()
        density.high = torch.maximum(state[key + "max"].float(), density.low + 1e-6)
    threshold = state.get("post_processor._image_threshold", torch.tensor(float("nan"))).float()
    model.threshold = threshold if torch.isfinite(threshold) else torch.tensor(float(len(attributes)))
    return model, "anomalib AiVad checkpoint"
