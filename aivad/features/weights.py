"""Where the frozen networks' weights come from: the usual caches, a folder, or random init.

``--weights pretrained`` (default) loads the public weights: first from ``--weights-dir`` if given,
else from torch's hub cache (``~/.cache/torch/hub/checkpoints``) and CLIP's cache
(``~/.cache/clip``), downloading on first use when online. ``--weights random`` builds exactly the
same architectures with a fixed random initialisation instead: that is the one switch tests use
on machines without the weights, and the only difference between the two paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from aivad.errors import UserError

WEIGHT_MODES = ("pretrained", "random")
# Random initialisation is seeded per network so that a checkpoint trained with --weights random
# is scored later by identical (random) frozen networks.
RANDOM_INIT_SEED = 20221201
CLIP_FILE = "ViT-B-16.pt"
CLIP_CACHE = Path(os.path.expanduser("~/.cache/clip"))


@dataclass(frozen=True)
class WeightsSource:
    mode: str = "pretrained"
    weights_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.mode not in WEIGHT_MODES:
            raise UserError(f"--weights must be one of {', '.join(WEIGHT_MODES)}, not '{self.mode}'.")
        if self.weights_dir is not None and not Path(self.weights_dir).is_dir():
            raise UserError(
                f"--weights-dir {self.weights_dir} is not a folder; create it and put the weight files there."
            )

    @property
    def random(self) -> bool:
        return self.mode == "random"


def _torchvision_weights(name: str):
    from torchvision.models import detection, optical_flow

    return {
        "raft_large": optical_flow.Raft_Large_Weights.DEFAULT,
        "raft_small": optical_flow.Raft_Small_Weights.DEFAULT,
        "maskrcnn_v2": detection.MaskRCNN_ResNet50_FPN_V2_Weights.DEFAULT,
        "keypointrcnn": detection.KeypointRCNN_ResNet50_FPN_Weights.DEFAULT,
    }[name]


def weight_file_name(name: str) -> str:
    return CLIP_FILE if name == "clip_vit_b16" else Path(_torchvision_weights(name).url).name


def _cache_folder(name: str) -> Path:
    return CLIP_CACHE if name == "clip_vit_b16" else Path(torch.hub.get_dir()) / "checkpoints"


def locate_or_download(names: list[str], source: WeightsSource) -> dict[str, Path]:
    """Find (or fetch) every weight file at once, or explain in one message which files go where."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in names:
        file_name = weight_file_name(name)
        if source.weights_dir is not None:
            candidate = Path(source.weights_dir) / file_name
            if candidate.is_file():
                found[name] = candidate
            else:
                missing.append(name)
            continue
        candidate = _cache_folder(name) / file_name
        if candidate.is_file():
            found[name] = candidate
            continue
        try:
            found[name] = _download(name)
        except Exception:  # offline, proxy, DNS...: all end in the same advice below
            missing.append(name)
    if missing:
        files = ", ".join(weight_file_name(n) for n in missing)
        where = (
            f"into {source.weights_dir}"
            if source.weights_dir is not None
            else (
                "into a folder passed with --weights-dir (or into "
                f"{Path(torch.hub.get_dir()) / 'checkpoints'} and, for CLIP, {CLIP_CACHE})"
            )
        )
        raise UserError(
            f"pretrained weights are missing and could not be downloaded: copy {files} {where}; "
            "README 'Pretrained weights' lists the download links (or use --backend lite, which needs none)."
        )
    return found


def _download(name: str) -> Path:
    if name == "clip_vit_b16":
        from anomalib.models.video.ai_vad.clip import clip

        return Path(clip._download(clip._MODELS["ViT-B/16"], str(CLIP_CACHE)))
    from torch.hub import load_state_dict_from_url

    url = _torchvision_weights(name).url
    load_state_dict_from_url(url, progress=True, check_hash=True)
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def _seeded(build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        return build()


def _load_torchvision_state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def build_raft(source: WeightsSource, small: bool = False) -> nn.Module:
    from torchvision.models.optical_flow import raft_large, raft_small

    builder, name = (raft_small, "raft_small") if small else (raft_large, "raft_large")
    model = _seeded(lambda: builder(weights=None, progress=False))
    if not source.random:
        model.load_state_dict(_load_torchvision_state(locate_or_download([name], source)[name]))
    return model.eval()


def build_maskrcnn(source: WeightsSource, box_score_thresh: float) -> nn.Module:
    from torchvision.models.detection import maskrcnn_resnet50_fpn_v2

    model = _seeded(
        lambda: maskrcnn_resnet50_fpn_v2(
            weights=None, weights_backbone=None, num_classes=91, box_score_thresh=box_score_thresh, rpn_nms_thresh=0.3
        )
    )
    if not source.random:
        model.load_state_dict(_load_torchvision_state(locate_or_download(["maskrcnn_v2"], source)["maskrcnn_v2"]))
    return model.eval()


def build_keypointrcnn(source: WeightsSource) -> nn.Module:
    from torchvision.models.detection import keypointrcnn_resnet50_fpn

    model = _seeded(
        lambda: keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=2, num_keypoints=17)
    )
    if not source.random:
        model.load_state_dict(_load_torchvision_state(locate_or_download(["keypointrcnn"], source)["keypointrcnn"]))
    return model.eval()


def build_clip_visual(source: WeightsSource) -> nn.Module:
    """CLIP ViT-B/16 image tower (the text tower is never used by AI-VAD)."""
    from anomalib.models.video.ai_vad.clip.model import VisionTransformer

    if source.random:
        return _seeded(
            lambda: VisionTransformer(
                input_resolution=224, patch_size=16, width=768, layers=12, heads=12, output_dim=512
            )
        )
    from anomalib.models.video.ai_vad.clip import clip

    path = locate_or_download(["clip_vit_b16"], source)["clip_vit_b16"]
    model, _ = clip.load(str(path), device="cpu", jit=False)
    return model.visual.float()


def required_weight_names(flow_model: str, use_pose: bool) -> list[str]:
    names = [flow_model, "maskrcnn_v2", "clip_vit_b16"]
    if use_pose:
        names.append("keypointrcnn")
    return names
