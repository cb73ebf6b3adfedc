"""Full backend: AI-VAD as published, Mask R-CNN + foreground regions, RAFT flow, Keypoint R-CNN pose.

The frozen stages run batched on the chosen device; the trainable CLIP appearance encoder is
separate (see :mod:`aivad.features.encoders`) and embeds the crops this backend returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
from torchvision.ops import roi_align

from aivad.devices import INFERENCE_PRECISIONS, Bfloat16Inference
from aivad.errors import UserError
from aivad.features.camera_motion import camera_flow, frame_camera_motion, transformed
from aivad.features.regions_common import FrameRegions
from aivad.features.velocity import velocity_histograms
from aivad.features.weights import (
    WeightsSource,
    build_keypointrcnn,
    build_maskrcnn,
    build_raft,
    locate_or_download,
    required_weight_names,
)

POSE_BOXES = ("all", "persons")
POSE_FEATURES = 34  # 17 COCO keypoints, x and y relative to the box
PERSON_LABEL = 1  # COCO category id of "person" in torchvision's detectors; foreground boxes are labelled 0


@dataclass
class FullSettings:
    box_score_thresh: float = 0.7  # anomalib AiVad's default
    persons_only: bool = False
    min_box_area: int = 100
    max_box_overlap: float = 0.65
    foreground_regions: bool = True
    foreground_kernel_size: int = 3
    foreground_threshold: int = 18
    velocity_bins: int = 8  # the authors' and AiVadModel's value (AiVad's wrapper says 1)
    use_pose: bool = True
    pose_boxes: str = (
        "all"  # anomalib's: every region; "persons": only boxes Mask R-CNN labels person (faster, changes scores)
    )
    flow_model: str = "raft_large"  # or raft_small: faster, different flow (changes scores)
    flow_size: tuple[int, int] = (520, 960)  # RAFT working size, anomalib's fixed value
    flow_iterations: int = 12  # RAFT refinement steps, torchvision's default (fewer: faster, coarser)
    detector_size: int = 800  # shorter side fed to Mask/Keypoint R-CNN, torchvision's default
    crop_size: int = 224  # CLIP ViT-B/16 input
    inference_precision: str = "auto"  # aivad.devices.INFERENCE_PRECISIONS; bf16 is faster and changes scores slightly

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flow_size"] = list(self.flow_size)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "FullSettings":
        data = dict(data)
        if "flow_size" in data:
            data["flow_size"] = tuple(data["flow_size"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _set_detector_size(model, size: int) -> None:
    model.transform.min_size = (size,)
    model.transform.max_size = max(size, round(size * 1333 / 800))


class FullBackend:
    name = "full"

    def __init__(self, settings: FullSettings, weights: WeightsSource, device: str = "cpu") -> None:
        from aivad.features.flow import RaftFlow
        from aivad.features.pose import KeypointPose
        from aivad.features.regions import ObjectRegions

        if not weights.random:  # find every file first, so one message can name all missing ones
            locate_or_download(required_weight_names(settings.flow_model, settings.use_pose), weights)
        if settings.pose_boxes not in POSE_BOXES:
            raise UserError(f"--pose-boxes must be one of {', '.join(POSE_BOXES)}, not '{settings.pose_boxes}'.")
        if settings.inference_precision not in INFERENCE_PRECISIONS:
            raise UserError(
                f"--inference-precision must be one of {', '.join(INFERENCE_PRECISIONS)}, not "
                f"'{settings.inference_precision}'."
            )
        self.settings = settings
        self.device = device
        self.crop_size = settings.crop_size
        self.frozen_attributes = frozen_attributes(settings.use_pose)
        self.flow = (
            RaftFlow(
                build_raft(weights, small=settings.flow_model == "raft_small"),
                settings.flow_size,
                settings.flow_iterations,
            )
            .to(device)
            .eval()
        )
        maskrcnn = build_maskrcnn(weights, settings.box_score_thresh)
        _set_detector_size(maskrcnn, settings.detector_size)
        self.regions = (
            ObjectRegions(
                maskrcnn,
                persons_only=settings.persons_only,
                min_bbox_area=settings.min_box_area,
                max_bbox_overlap=settings.max_box_overlap,
                enable_foreground_detections=settings.foreground_regions,
                foreground_kernel_size=settings.foreground_kernel_size,
                foreground_binary_threshold=settings.foreground_threshold,
            )
            .to(device)
            .eval()
        )
        self.pose = None
        if settings.use_pose:
            keypointrcnn = build_keypointrcnn(weights)
            _set_detector_size(keypointrcnn, settings.detector_size)
            self.pose = KeypointPose(keypointrcnn).to(device).eval()
        if settings.inference_precision == "bf16":
            self._use_bfloat16()

    def _use_bfloat16(self) -> None:
        """bfloat16 for the trunks (RAFT's encoders and update block, ResNet-FPN backbones, RPN and
        box/keypoint heads). Box and keypoint decoding stay float32, and so does RAFT's correlation
        pyramid: grid_sample runs in float32 under autocast, and casting the pyramid back on every
        refinement step cost more than bfloat16 saved."""
        raft = self.flow.raft
        for name in ("feature_encoder", "context_encoder", "update_block", "mask_predictor"):
            if getattr(raft, name, None) is not None:
                setattr(raft, name, Bfloat16Inference(getattr(raft, name), self.device))
        maskrcnn = self.regions.backbone
        maskrcnn.backbone = Bfloat16Inference(maskrcnn.backbone, self.device)
        maskrcnn.rpn.head = Bfloat16Inference(maskrcnn.rpn.head, self.device)
        maskrcnn.roi_heads.box_head = Bfloat16Inference(maskrcnn.roi_heads.box_head, self.device)
        if self.pose is not None:
            self.pose.backbone = Bfloat16Inference(self.pose.backbone, self.device)
            self.pose.roi_heads.keypoint_head = Bfloat16Inference(self.pose.roi_heads.keypoint_head, self.device)

    def _poses(
        self, frames: torch.Tensor, boxes_list: list[torch.Tensor], is_person: list[torch.Tensor]
    ) -> list[np.ndarray]:
        """Pose features per frame, one row per box. With pose_boxes "persons", Keypoint R-CNN runs
        on person boxes only (not at all when a batch has none) and every other row is NaN: that
        region has no pose attribute, and the densities and frame scores skip it."""
        if self.settings.pose_boxes == "all":
            return [p.cpu().numpy() for p in self.pose(frames, boxes_list)]
        out = [np.full((len(boxes), POSE_FEATURES), np.nan, dtype=np.float32) for boxes in boxes_list]
        if any(bool(mask.any()) for mask in is_person):
            poses = self.pose(frames, [boxes[mask] for boxes, mask in zip(boxes_list, is_person)])
            for rows, pose, mask in zip(out, poses, is_person):
                rows[mask.cpu().numpy()] = pose.cpu().numpy()
        return out

    def velocity(self, flows: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return velocity_histograms(flows, rois, self.settings.velocity_bins)

    def _without_camera_change(
        self, index: int, pair: tuple[np.ndarray, np.ndarray], previous: torch.Tensor, flows: torch.Tensor
    ) -> str:
        """Takes pair ``index``'s exposure step and camera motion out of ``previous`` and ``flows`` (in place),
        as the lite backend does, so that foreground regions and velocities are the objects'; returns the
        camera's state. A still camera's pair is left exactly as it was."""
        flow = flows[index].permute(1, 2, 0).float().cpu().numpy()
        ratio, transform, state = frame_camera_motion(pair[0], pair[1], flow)
        if ratio is None and transform is None:
            return state
        before = pair[0] if ratio is None else cv2.convertScaleAbs(pair[0], alpha=ratio)
        if transform is not None:
            before = transformed(before, pair[1], transform)
            shape = flow.shape[:2]
            flows[index] -= torch.from_numpy(camera_flow(transform, shape)).permute(2, 0, 1).to(flows)
        previous[index] = frames_to_tensor([before], self.device)[0]
        return state

    @torch.no_grad()
    def crops(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """The encoder's input for these boxes of this BGR frame, exactly as :meth:`extract` cuts them."""
        current = frames_to_tensor([frame], self.device)
        boxes = torch.from_numpy(np.ascontiguousarray(boxes, dtype=np.float32)).to(self.device)
        rois = torch.cat([torch.zeros(len(boxes), 1, device=self.device), boxes], dim=1)
        return roi_crops(current, rois, self.crop_size)

    def extract(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[FrameRegions]:
        previous = frames_to_tensor([p for p, _ in pairs], self.device)
        current = frames_to_tensor([c for _, c in pairs], self.device)
        height, width = current.shape[-2:]
        flows = self.flow(previous, current)
        # the camera's own change taken out before regions and velocities (aivad.features.camera_motion)
        cameras = [self._without_camera_change(i, pairs[i], previous, flows) for i in range(len(pairs))]
        detections = self.regions(previous, current)
        boxes_list, whole, is_person = [], [], []
        for item in detections:
            boxes = item["boxes"].float()
            whole.append(boxes.shape[0] == 0)
            if whole[-1]:  # no region: the whole frame stands in (the authors' choice)
                boxes = torch.tensor([[0.0, 0.0, width, height]], device=self.device)
                is_person.append(torch.zeros(1, dtype=torch.bool, device=self.device))
            else:
                is_person.append(item["labels"] == PERSON_LABEL)
            boxes_list.append(boxes)
        index = torch.repeat_interleave(
            torch.arange(len(boxes_list), device=self.device),
            torch.tensor([len(b) for b in boxes_list], device=self.device),
        )
        rois = torch.cat([index[:, None].float(), torch.cat(boxes_list)], dim=1)
        velocity = self.velocity(flows, rois).cpu().numpy()
        poses = self._poses(current, boxes_list, is_person) if self.pose is not None else None
        crops = roi_crops(current, rois, self.crop_size)
        out, start = [], 0
        for i, boxes in enumerate(boxes_list):
            n = len(boxes)
            frozen = {"velocity": velocity[start : start + n]}
            if poses is not None:
                frozen["pose"] = poses[i].astype(np.float32)
            boxes_np = boxes.cpu().numpy().astype(np.float32)
            out.append(FrameRegions(boxes_np, whole[i], frozen, crops[start : start + n], camera=cameras[i]))
            start += n
        return out


def frames_to_tensor(frames: list[np.ndarray], device) -> torch.Tensor:
    """BGR uint8 frames -> RGB float (N, 3, H, W) in [0, 1]."""
    array = np.stack([f[..., ::-1] for f in frames])
    return torch.from_numpy(np.ascontiguousarray(array)).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def roi_crops(images: torch.Tensor, rois: torch.Tensor, size: int) -> np.ndarray:
    """Box crops resized to size x size (roi_align, as anomalib), uint8 (K, size, size, 3) RGB."""
    crops = roi_align(images, rois, output_size=[size, size], aligned=False)
    return (crops.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def frozen_attributes(use_pose: bool) -> tuple[str, ...]:
    """What the frozen networks describe (appearance comes from the trained encoder)."""
    return ("velocity", "pose") if use_pose else ("velocity",)
