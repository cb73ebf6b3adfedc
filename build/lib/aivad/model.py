"""The trained AI-VAD model: appearance encoder + one density estimator per attribute + calibration.

What a checkpoint stores. The frozen networks (flow, detectors, pose) are not stored: they are
rebuilt from the public weights (or the same seeded random init) named in the config.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from aivad.config import ModelConfig
from aivad.density import GmmDensity, KnnDensity
from aivad.encoders import AppearanceEncoder, build_encoder
from aivad.regions_common import FrameRegions

FORMAT = "aivad-checkpoint"
FORMAT_VERSION = 1


def default_density_config(attributes: list[str]) -> dict[str, dict]:
    kinds = {
        # 5 components: the authors' value outside ped2. reg_covar is a variance floor in (pixels per
        # frame)^2: optical flow is not more precise than about a pixel per frame, and histogram
        # bins that are exactly zero in all normal regions (no motion in that direction) otherwise
        # get a near-zero variance, so any flow noise there outscores a truly fast object.
        "velocity": {"kind": "gmm", "n_components": 5, "reg_covar": 1.0},
        "pose": {"kind": "knn", "n_neighbors": 1},
        "appearance": {"kind": "knn", "n_neighbors": 1},
        "geometry": {"kind": "knn", "n_neighbors": 1},
    }
    return {name: kinds[name] for name in attributes}


# Velocity in box-relative units. A person near the camera crosses more pixels per frame than the
# same walk far away, so a density over pixel speeds learns "fast" only for the places the training
# footage happened to show people at. Dividing each region's flow by its box height plus a reference
# height (REFERENCE_HEIGHTS median training box heights, so small boxes of flicker are not inflated)
# makes one walking pace look alike across the frame. On the development set this is what let
# velocity carry over to footage not trained on (velocity alone, frame AUROC: split a 0.970 ->
# 0.963, split b 0.903 -> 0.977; README "Measured results").
REFERENCE_HEIGHTS = 2.0
VELOCITY_UNIT_SCALE = 100.0  # keeps the values near pixel flows, where the GMM's variance floor was set


def box_relative_units(median_box_height: float) -> dict:
    return {"kind": "box_height", "reference_height": float(REFERENCE_HEIGHTS * median_box_height)}


def velocity_in_units(velocity: np.ndarray, boxes: np.ndarray, units: dict | None) -> np.ndarray:
    """Per-region velocity histograms (pixels per frame) in the model's units."""
    if not units or units.get("kind", "pixels") == "pixels" or len(velocity) == 0:
        return velocity
    heights = np.asarray(boxes, dtype=np.float32)[:, 3] - np.asarray(boxes, dtype=np.float32)[:, 1]
    factor = VELOCITY_UNIT_SCALE / (np.clip(heights, 0.0, None) + units["reference_height"])
    return (velocity * factor[:, None]).astype(np.float32)


def attribute_rows(name: str, frozen: dict[str, np.ndarray], boxes: np.ndarray, config: ModelConfig) -> np.ndarray:
    """The feature rows a density of ``name`` sees (appearance is embedded separately)."""
    rows = frozen[name]
    return velocity_in_units(rows, boxes, config.velocity_units) if name == "velocity" else rows


def build_density(spec: dict, max_bank: int) -> nn.Module:
    if spec["kind"] == "gmm":
        return GmmDensity(n_components=spec.get("n_components", 5), reg_covar=spec.get("reg_covar", 1e-3))
    return KnnDensity(n_neighbors=spec.get("n_neighbors", 1), max_bank=max_bank)


class AiVadModel(nn.Module):
    def __init__(self, config: ModelConfig, encoder: AppearanceEncoder) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.densities = nn.ModuleDict(
            {name: build_density(spec, config.max_bank) for name, spec in config.density.items()}
        )
        self.register_buffer("threshold", torch.tensor(float("nan")))

    @classmethod
    def empty(cls, config: ModelConfig) -> "AiVadModel":
        """Same architecture with throwaway initial weights, to load a state dict into."""
        from aivad.weights import WeightsSource

        return cls(config, build_encoder(config.encoder, WeightsSource("random")))

    @property
    def attributes(self) -> list[str]:
        return self.config.attributes

    def region_scores(self, regions: FrameRegions, appearance: np.ndarray | None) -> dict[str, np.ndarray]:
        """Normalised score of every region for every attribute; NaN where a region lacks the
        attribute (pose of a non-person box with pose_boxes "persons")."""
        scores = {}
        for name, density in self.densities.items():
            rows = (
                appearance if name == "appearance" else attribute_rows(name, regions.frozen, regions.boxes, self.config)
            )
            features = np.asarray(rows, dtype=np.float32)
            present = attribute_present(features)
            scores[name] = np.full(len(features), np.nan, dtype=np.float32)
            with torch.no_grad():
                scores[name][present] = density.score(torch.from_numpy(features[present])).numpy()
        return scores


def attribute_present(features: np.ndarray) -> np.ndarray:
    """Rows that carry the attribute: a region without it has an all-NaN feature row."""
    return np.isfinite(features).all(axis=1) if len(features) else np.zeros(0, dtype=bool)
