"""Lite backend: AI-VAD's attribute idea with no downloaded network, real time on a CPU.

Regions are moving foreground (difference of the two frames, as AI-VAD's own foreground
detections). Velocity is each region's speed: the 90th percentile of OpenCV's DIS optical flow in
its box, or how far the box's content moved when a match finds that farther (aivad.features.velocity says
why). Geometry is the box's size for its place in the camera's perspective and its shape
(aivad.model.aivad_model), and appearance is a small CNN trained from random initialisation on the user's
footage (see encoders). All image work happens at a reduced processing size; boxes are reported in
frame pixels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch

from aivad.features.camera_motion import camera_flow, camera_moved, camera_state, matched_exposure
from aivad.features.person import PERSON_MODEL, PersonScorer
from aivad.features.regions_common import MOVING_SHARE, REGION_SIDE, FrameRegions, filter_boxes, whole_frame_box
from aivad.features.shape import SHAPE_MODEL, ShapeDescriber
from aivad.features.velocity import (
    MATCH_MIN_SIDE,
    flow_magnitudes,
    moving_shares,
    region_displacements,
    velocity_features,
)


@dataclass
class LiteSettings:
    process_max_side: int = 384  # frames are shrunk to this longest side for flow and foreground
    diff_threshold: int = 18  # grey-level difference (0-255) that counts as motion, anomalib's default
    blur_kernel: int = 5
    close_kernel: int = 9  # joins the edges of one moving object into one blob
    min_box_area: float = 100.0  # in frame pixels
    max_box_overlap: float = 0.65
    velocity_bins: int = 8
    velocity_grid: int = 32
    # "histogram" is what checkpoints written before the speed feature imply, "speed" those before the
    # matched displacement; new models use NEW_MODEL_VELOCITY_FEATURE (aivad.features.velocity says why).
    velocity_feature: str = "histogram"
    crop_size: int = 64
    # Regions whose shorter side is under this many processing pixels have no appearance score
    # (aivad.model.aivad_model.appearance_rows says why); 0, what older checkpoints imply, scores every region.
    appearance_min_side: int = 0
    # The pretrained person attribute (aivad.features.person): "" (what older checkpoints imply) computes none.
    person_model: str = ""
    # The shape attribute (aivad.features.shape): "" (what older checkpoints imply) computes none.
    shape_model: str = ""
    # "moving": each region also measures the share of its height that moves at its speed
    # (aivad.features.velocity.moving_shares); "box" (what older checkpoints imply) does not.
    velocity_height: str = "box"

    def to_dict(self) -> dict:
        return asdict(self)


NEW_MODEL_VELOCITY_FEATURE = "speed_matched"
NEW_MODEL_VELOCITY_HEIGHT = "moving"
NEW_MODEL_APPEARANCE_MIN_SIDE = MATCH_MIN_SIDE  # as thin as a box whose match the speed does not trust
# Slivers are a minority of the regions (22% on the development set). Where most training regions are
# that thin, the objects themselves are small at the processing size (distant people, a 4K camera
# shrunk to 384 pixels) and the gate would take their appearance away: training then scores every region.
MAX_THIN_SHARE = 0.5


def new_model_settings(diff_threshold: int = LiteSettings.diff_threshold, person: bool = False) -> LiteSettings:
    """The settings a lite model trained by this version extracts with (older checkpoints keep theirs).

    ``person`` (``--person-attribute``) adds the person attribute (aivad.features.person). It is not on
    by default: as a fourth attribute of the frame score it found nothing the others missed on the
    development splits and lowered split c (docs/experiments.md).
    """
    return LiteSettings(
        diff_threshold=diff_threshold,
        velocity_feature=NEW_MODEL_VELOCITY_FEATURE,
        appearance_min_side=NEW_MODEL_APPEARANCE_MIN_SIDE,
        person_model=PERSON_MODEL if person else "",
        shape_model=SHAPE_MODEL,
        velocity_height=NEW_MODEL_VELOCITY_HEIGHT,
    )


def appearance_gate_for(footage_frozen: dict, min_side: float) -> tuple[float, float]:
    """(the gate training keeps, the share of training regions under ``min_side``)."""
    from aivad.features.regions_common import too_thin_for_appearance

    thin = too_thin_for_appearance(footage_frozen, min_side)
    share = float(thin.mean()) if thin is not None else 0.0
    return (0.0 if share > MAX_THIN_SHARE else float(min_side)), share


class LiteBackend:
    name = "lite"

    def __init__(self, settings: LiteSettings | None = None) -> None:
        self.settings = settings or LiteSettings()
        self.crop_size = self.settings.crop_size
        self.frozen_attributes = lite_frozen_attributes(self.settings.person_model, self.settings.shape_model)
        self._person = PersonScorer() if self.settings.person_model else None
        self._shape = ShapeDescriber() if self.settings.shape_model else None
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._last: tuple[np.ndarray, tuple] | None = None  # (frame, what _shrink made of it)

    def _shrink(self, frame: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(grey image at processing size, processing pixels per frame pixel, grey image at frame size)."""
        height, width = frame.shape[:2]
        scale = min(1.0, self.settings.process_max_side / max(height, width))
        full_grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        grey = full_grey
        if scale < 1.0:
            grey = cv2.resize(full_grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        return grey, scale, full_grey

    def _shrink_once(self, frame: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """As :meth:`_shrink`; a stream's frame is the next pair's previous one, so it is shrunk once.

        Recognised by identity (the cache holds the frame itself, so its id cannot be reused).
        """
        last = self._last
        if last is not None and last[0] is frame:
            return last[1]
        shrunk = self._shrink(frame)
        self._last = (frame, shrunk)
        return shrunk

    def foreground_boxes(self, previous_grey: np.ndarray, grey: np.ndarray, scale: float) -> np.ndarray:
        s = self.settings
        k = s.blur_kernel
        difference = cv2.absdiff(cv2.GaussianBlur(previous_grey, (k, k), 0), cv2.GaussianBlur(grey, (k, k), 0))
        _, moving = cv2.threshold(difference, s.diff_threshold, 255, cv2.THRESH_BINARY)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (s.close_kernel, s.close_kernel))
        moving = cv2.morphologyEx(moving, cv2.MORPH_CLOSE, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        boxes = stats[1:count, :4].astype(np.float32)  # x, y, w, h at processing size
        boxes[:, 2:] += boxes[:, :2]
        boxes /= scale
        return filter_boxes(boxes, s.min_box_area, s.max_box_overlap)

    def velocity(
        self,
        flows: torch.Tensor,
        rois: torch.Tensor,
        previous_grey: np.ndarray,
        grey: np.ndarray,
        scale: float,
        whole_frame: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Each region's velocity feature rows, and its moving share where the settings measure it (else None).

        ``flows``: (1, 2, H, W) in frame pixels; ``rois``: (K, 5) boxes at processing size; the grey images
        at processing size (the matched displacement searches them), ``scale`` processing pixels per frame pixel.
        """
        s = self.settings
        # the speed and the moving share read the same sampled flow: sampled once
        magnitudes = (
            flow_magnitudes(flows, rois, s.velocity_grid) if s.velocity_feature in ("speed", "speed_matched") else None
        )
        velocity = velocity_features(flows, rois, s.velocity_feature, s.velocity_bins, s.velocity_grid, magnitudes)
        velocity = flow_speed = velocity.numpy()
        if s.velocity_feature == "speed_matched" and not whole_frame:
            # a region's speed is also how far its content moved: the flow loses small fast objects
            moved = region_displacements(previous_grey, grey, rois[:, 1:].numpy()) / scale
            velocity = np.maximum(velocity, moved[:, None])
        if s.velocity_height != "moving":
            return velocity, None
        # where the match found the speed, the flow cannot say where
        shares = moving_shares(flows, rois, torch.from_numpy(flow_speed[:, 0]), s.velocity_grid, magnitudes)
        return velocity, np.where(velocity[:, 0] > flow_speed[:, 0], 1.0, shares.numpy())[:, None].astype(np.float32)

    def extract_pair(self, previous: np.ndarray, frame: np.ndarray) -> FrameRegions:
        height, width = frame.shape[:2]
        previous_grey, scale, _ = self._shrink_once(previous)
        grey, _, full_grey = self._shrink_once(frame)
        # the camera's own change is taken out first (aivad.features.camera_motion): a still camera's
        # frames pass unchanged
        exposed = matched_exposure(previous_grey, grey)
        exposure_matched, previous_grey = exposed is not previous_grey, exposed
        flow = self._flow.calc(previous_grey, grey, None)  # processing pixels per frame
        moved = camera_moved(previous_grey, grey, flow)
        camera = camera_state(grey, exposure_matched, moved is not None)
        if moved is not None:
            transform, previous_grey = moved
            flow = flow - camera_flow(transform, flow.shape)  # objects' speeds relative to the scene
        flow = flow / scale  # in frame pixels per frame
        boxes = self.foreground_boxes(previous_grey, grey, scale)
        whole_frame = len(boxes) == 0
        if whole_frame:
            boxes = whole_frame_box(height, width)
        flow_tensor = torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[None]
        scaled_boxes = torch.from_numpy(boxes * scale)
        rois = torch.cat([torch.zeros(len(boxes), 1), scaled_boxes], dim=1)
        velocity, moving = self.velocity(flow_tensor, rois, previous_grey, grey, scale, whole_frame)
        side = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * scale  # at processing size
        frozen = {
            "velocity": velocity,
            "geometry": box_geometry(boxes, height, width),
            REGION_SIDE: side[:, None].astype(np.float32),
        }
        if moving is not None:
            frozen[MOVING_SHARE] = moving
        # every region, the whole-frame stand-in too, as for every attribute (slivers: aivad_model.attribute_rows)
        if self._person is not None:
            frozen["person"] = self._person.score(frame, boxes)
        if self._shape is not None:
            frozen["shape"] = self._shape.describe(full_grey, boxes)  # the grey frame made once for both
        return FrameRegions(
            boxes=boxes,
            whole_frame=whole_frame,
            frozen=frozen,
            crops=crop_regions(frame, boxes, self.crop_size),
            camera=camera,
        )

    def crops(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """The encoder's input for these boxes of this BGR frame, exactly as :meth:`extract_pair` cuts them."""
        return crop_regions(frame, boxes, self.crop_size)

    def extract(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[FrameRegions]:
        return [self.extract_pair(previous, frame) for previous, frame in pairs]


def lite_frozen_attributes(person_model: str, shape_model: str = "") -> tuple[str, ...]:
    """The frozen attributes a lite model with these settings scores (older models: no person, no shape)."""
    return ("velocity", "geometry") + (("person",) if person_model else ()) + (("shape",) if shape_model else ())


def box_geometry(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre and size relative to the frame: where objects are and how big they are there."""
    x0, y0, x1, y1 = boxes.T
    return np.stack(
        [(x0 + x1) / (2 * width), (y0 + y1) / (2 * height), (x1 - x0) / width, (y1 - y0) / height], axis=1
    ).astype(np.float32)


def crop_regions(frame_bgr: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box resized to size x size RGB (stretched, like roi_align in the full backend)."""
    crops = np.empty((len(boxes), size, size, 3), dtype=np.uint8)
    height, width = frame_bgr.shape[:2]
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
        x1, y1 = int(min(width, np.ceil(x1))), int(min(height, np.ceil(y1)))
        patch = frame_bgr[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
        crops[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crops[..., ::-1])  # BGR -> RGB for all crops at once
