"""Full backend, stage 3: human pose (17 keypoints relative to the box) for every region.

anomalib's ``PoseExtractor`` runs Keypoint R-CNN's backbone once per frame and its keypoint head
on the given boxes; this subclass builds it around a network from :mod:`aivad.features.weights`, keeping a
single reference to the backbone (anomalib stores the same module twice under two names).
"""

from __future__ import annotations

from anomalib.models.video.ai_vad.features import PoseExtractor
from torch import nn


class KeypointPose(PoseExtractor):
    def __init__(self, keypointrcnn: nn.Module) -> None:
        nn.Module.__init__(self)  # the parent's __init__ would download weights itself
        self.transform = keypointrcnn.transform
        self.backbone = keypointrcnn.backbone
        self.roi_heads = keypointrcnn.roi_heads
