"""Full backend, stage 2: object regions from Mask R-CNN plus AI-VAD's foreground regions.

anomalib's ``RegionExtractor`` does the work (detections, foreground boxes, area and overlap
filters); this subclass builds it around networks from :mod:`aivad.features.weights`, lets the detector's
input size be set (torchvision's default of 800 px is what the pretrained model saw), and skips
work whose result this project never uses, leaving the boxes identical:

- Mask R-CNN's mask branch: AI-VAD only needs boxes (anomalib keeps the masks for its pixel
  anomaly map). Boxes come from the box head before the mask head runs, so they do not change;
  what goes is the mask head and the pasting of every mask at full frame resolution.
- the foreground boxes are the bounding boxes of the connected components of the thresholded
  frame difference outside the detections, as anomalib computes them, but read from OpenCV's
  component statistics in one call instead of one full-frame ``torch.where`` and one full-frame
  mask per component.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from anomalib.models.video.ai_vad.regions import RegionExtractor
from torch import nn
from torchvision.ops import clip_boxes_to_image
from torchvision.transforms.functional import gaussian_blur, rgb_to_grayscale


def drop_mask_branch(maskrcnn: nn.Module) -> nn.Module:
    """Mask R-CNN without its mask head: torchvision then returns boxes, labels and scores only."""
    maskrcnn.roi_heads.mask_roi_pool = None
    maskrcnn.roi_heads.mask_head = None
    maskrcnn.roi_heads.mask_predictor = None
    return maskrcnn


class ObjectRegions(RegionExtractor):
    def __init__(
        self,
        maskrcnn: nn.Module,
        persons_only: bool = False,
        min_bbox_area: int = 100,
        max_bbox_overlap: float = 0.65,
        enable_foreground_detections: bool = True,
        foreground_kernel_size: int = 3,
        foreground_binary_threshold: int = 18,
    ) -> None:
        nn.Module.__init__(self)  # the parent's __init__ would download weights itself
        self.persons_only = persons_only
        self.min_bbox_area = min_bbox_area
        self.max_bbox_overlap = max_bbox_overlap
        self.enable_foreground_detections = enable_foreground_detections
        self.foreground_kernel_size = foreground_kernel_size
        self.foreground_binary_threshold = foreground_binary_threshold
        self.backbone = drop_mask_branch(maskrcnn)

    @staticmethod
    def _add_foreground_boxes(
        regions: list[dict[str, torch.Tensor]],
        first_frame: torch.Tensor,
        last_frame: torch.Tensor,
        kernel_size: int,
        binary_threshold: int,
    ) -> list[dict[str, torch.Tensor]]:
        """anomalib's foreground regions (same boxes, labels 0, scores 0.5, same order), without masks."""
        first_frame = gaussian_blur(first_frame, [kernel_size, kernel_size])
        last_frame = gaussian_blur(last_frame, [kernel_size, kernel_size])
        pixel_difference = rgb_to_grayscale(torch.abs(first_frame - last_frame)).squeeze(1)
        foreground = (pixel_difference > binary_threshold / 255).cpu().numpy().astype(np.uint8)
        height, width = foreground.shape[-2:]
        for image_regions, moving in zip(regions, foreground, strict=True):
            boxes = image_regions["boxes"]
            # detections grown by 2 px on every side, then their (truncated) pixel extent, as anomalib
            grown = clip_boxes_to_image(boxes + torch.tensor([-2, -2, 2, 2], device=boxes.device), (height, width))
            for x0, y0, x1, y1 in grown.int().tolist():
                moving[y0 : y1 + 1, x0 : x1 + 1] = 0
            # anomalib labels with cv2.connectedComponents (8-connectivity): same labels, same order
            count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
            if count <= 1:
                continue
            x, y, w, h = (stats[1:, i].astype(np.float32) for i in range(4))
            new_boxes = torch.from_numpy(np.stack([x, y, x + w - 1, y + h - 1], axis=1)).to(boxes.device)
            n = new_boxes.shape[0]
            image_regions["boxes"] = torch.cat([boxes, new_boxes.to(boxes.dtype)])
            image_regions["labels"] = torch.cat([image_regions["labels"], torch.zeros(n, device=boxes.device)])
            image_regions["scores"] = torch.cat([image_regions["scores"], torch.ones(n, device=boxes.device) * 0.5])
        return regions
