"""Full backend, stage 2: object regions from Mask R-CNN plus AI-VAD's foreground regions.

anomalib's ``RegionExtractor`` does the work (detections, foreground boxes, area and overlap
filters); this subclass only builds it around networks from :mod:`aivad.weights` and lets the
detector's input size be set (torchvision's default of 800 px is what the pretrained model saw).
"""

from __future__ import annotations

from anomalib.models.video.ai_vad.regions import RegionExtractor
from torch import nn


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
        self.backbone = maskrcnn
