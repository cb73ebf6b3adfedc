"""How much a region looks like a standing or walking person: the lite backend's pretrained attribute.

Why: AI-VAD's pose attribute is there because what is not a person gets an implausible pose. The
lite backend downloads no network, and its appearance encoder, trained from random initialisation
on 40 seconds of footage, has no idea of what a person is: to it a person never seen is as new as
a squirrel, and on footage it was not trained on it cannot separate the two. OpenCV ships a
pretrained pedestrian model inside its own library (the HOG descriptor with the Dalal-Triggs linear
SVM, ``cv2.HOGDescriptor_getDefaultPeopleDetector``): no download, every platform, about a
millisecond a region. It is present in opencv-python-headless 4.x and gone from 5.x, which is why
requirements.txt pins OpenCV below 5.

What a region gets: the detector's largest SVM margin over every window position and scale of the
region's crop (with ``CONTEXT`` of the box added on each side, scaled to ``CROP_HEIGHT`` pixels
tall, the size the detector's 64x128 window was trained at, with a margin), not a yes/no detection:
with OpenCV's default hit threshold of 0, about one ordinary region in eight gets no detection at
all, which would put a large share of normal regions at one floor value. Windows with a margin
under ``MARGIN_FLOOR`` are not reported by OpenCV; a crop with none gets the floor. Regions with no
person attribute (NaN): slivers too thin to hold a person at processing size (the gate of the
appearance attribute, aivad.model.aivad_model.appearance_rows). The whole-frame stand-in of a frame
with no motion gets the whole frame's margin, as it gets every other attribute: footage with no
motion at all still trains.

The margin is not a rule "person = normal": it is scored by a density fitted on the training
footage like every other attribute (aivad.model.aivad_model.attribute_rows pairs it with the box's size for its
place), so on a car park, where normal regions are cars, a car is normal.
"""

from __future__ import annotations

import cv2
import numpy as np

PERSON_MODEL = "hog_people"  # LiteSettings.person_model of new lite models; "" (older models): none
CONTEXT = 0.35  # of the box's width and height, added on each side: the detector needs a margin around a person
CROP_HEIGHT = 140  # pixels: the detector's window is 128 tall, so a person with context fills it
MIN_CROP_WIDTH = 72  # pixels: one 64-pixel window plus a little room to slide
MAX_ASPECT = 4.0  # crops wider than this many times their height are cut to it around the centre
MARGIN_FLOOR = -3.0  # SVM margin below which OpenCV reports no window (hit threshold); a crop with none gets it
WINDOW_STRIDE = (8, 8)
SCALE_STEP = 1.05


def require_hog(attribute: str) -> None:
    """One sentence, not an AttributeError, where this OpenCV has no HOG (5.x dropped it from its main modules)."""
    if not hasattr(cv2, "HOGDescriptor"):
        from aivad.errors import UserError

        raise UserError(
            f"OpenCV {cv2.__version__} has no HOG descriptor, which lite models use for their {attribute}; "
            'install a 4.x OpenCV: pip install "opencv-python-headless>=4.10,<5".'
        )


class PersonScorer:
    """Per-region person margins of one frame (one HOG descriptor, reused: it is not thread-safe to share)."""

    def __init__(self) -> None:
        require_hog("person attribute")
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def margin(self, crop: np.ndarray) -> float:
        """The largest SVM margin over the windows of one crop prepared by :func:`person_crop`."""
        _, weights = self._hog.detectMultiScale(
            crop,
            hitThreshold=MARGIN_FLOOR,
            winStride=WINDOW_STRIDE,
            padding=(0, 0),
            scale=SCALE_STEP,
            groupThreshold=0,  # every window: grouping would average the margins away
        )
        return float(np.max(weights)) if len(weights) else MARGIN_FLOOR

    def score(self, frame_bgr: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, 1) float32 margins of the boxes (x0, y0, x1, y1 in frame pixels)."""
        return np.array([[self.margin(person_crop(frame_bgr, box))] for box in boxes], dtype=np.float32).reshape(-1, 1)


def person_crop(frame_bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The box with context, cut from the frame and scaled to CROP_HEIGHT pixels tall (aspect kept)."""
    height, width = frame_bgr.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    box_w, box_h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    if box_w > MAX_ASPECT * box_h:  # a flat sliver of a wide object: keep its middle
        centre = (x0 + x1) / 2
        x0, x1, box_w = centre - MAX_ASPECT * box_h / 2, centre + MAX_ASPECT * box_h / 2, MAX_ASPECT * box_h
    left, right = int(max(0, np.floor(x0 - CONTEXT * box_w))), int(min(width, np.ceil(x1 + CONTEXT * box_w)))
    top, bottom = int(max(0, np.floor(y0 - CONTEXT * box_h))), int(min(height, np.ceil(y1 + CONTEXT * box_h)))
    patch = frame_bgr[top : max(bottom, top + 1), left : max(right, left + 1)]
    scale = CROP_HEIGHT / patch.shape[0]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(patch, (max(1, int(round(patch.shape[1] * scale))), CROP_HEIGHT), interpolation=interpolation)
    missing = MIN_CROP_WIDTH - crop.shape[1]
    if missing > 0:  # a narrow person: widen with the crop's own edge, never stretch the person
        crop = cv2.copyMakeBorder(crop, 0, 0, missing // 2, missing - missing // 2, cv2.BORDER_REPLICATE)
    return crop
