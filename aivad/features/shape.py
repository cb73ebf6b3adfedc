"""A region's outline: a small histogram of oriented gradients of its crop, the lite backend's shape attribute.

Why: the lite backend's appearance encoder is trained from random initialisation on the user's
footage with colour and crop augmentation, so it learns what tells one normal crop from another and
little of an outline. A person walking behind a large box, or a flat cart at a walker's pace, moves
like a person, is a person's size for the place and, to that encoder, looks like one (development
splits d and e: appearance 0.25-0.52 of the alarm level). Their outline is not a person's: straight
edges across the torso, a rectangle where legs should be. A HOG descriptor (Dalal and Triggs'
gradient histograms, OpenCV's own implementation; no network, no download) of the region's crop
keeps exactly that, and the kNN memory of normal regions' descriptors (aivad.model.aivad_model.shape_rows
centres them on the training footage's mean, then scales them to unit length) finds what no normal
region's outline resembles. Measured on the five development splits (the trained models refitted
with it, benchmarks/refit.py --this-version; frame AUROC centred, a / b / c / d / e): 0.986 / 0.993 /
0.955 / 0.809 / 0.695 without it, 0.982 / 0.993 / 0.955 / 0.948 / 0.866 with it as a fourth
attribute; the carried boxes 0.749 -> 0.982 (d) and 0.534 -> 0.822 (e), the carts 0.616 -> 0.848 and
0.551 -> 0.895. Alone it ranks e's cart and carried box at 0.998 and 0.991, the car at 0.207: it is
one attribute among four, not a detector of its own (docs/experiments.md has the variants tried).

The window is 32 x 64 pixels (a standing person's proportions) with 16-pixel blocks of 8-pixel
cells side by side: 8 blocks x 4 cells x 9 orientations = 288 numbers, a few microseconds per region.
Regions too thin for an appearance get none (aivad.model.aivad_model.shape_rows).
"""

from __future__ import annotations

import cv2
import numpy as np

from aivad.features.person import require_hog

SHAPE_MODEL = "hog32x64"  # LiteSettings.shape_model of new lite models; "" (older models): no shape attribute
WINDOW = (32, 64)  # width, height: a standing person's proportions
BLOCK = (16, 16)
BLOCK_STRIDE = (16, 16)  # blocks side by side: overlapping ones (stride 8, 756 numbers) measured no better
CELL = (8, 8)
ORIENTATIONS = 9
CONTEXT = 0.1  # of the box's width and height on each side: the outline's edges need a little background
SHAPE_DIM = (WINDOW[0] // BLOCK_STRIDE[0]) * (WINDOW[1] // BLOCK_STRIDE[1]) * 4 * ORIENTATIONS


class ShapeDescriber:
    """HOG descriptors of regions (one descriptor object per backend: OpenCV's is not shared across threads)."""

    def __init__(self) -> None:
        require_hog("shape attribute")
        self._hog = cv2.HOGDescriptor(WINDOW, BLOCK, BLOCK_STRIDE, CELL, ORIENTATIONS)

    def describe(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, SHAPE_DIM) float32 descriptors of the boxes (x0, y0, x1, y1 in frame pixels) of a BGR or grey frame.

        The lite backend hands it the grey frame it made for its flow (a full-frame conversion saved)."""
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        out = np.empty((len(boxes), SHAPE_DIM), dtype=np.float32)
        for i, box in enumerate(boxes):
            out[i] = self._hog.compute(shape_crop(grey, box)).ravel()
        return out


def shape_crop(grey: np.ndarray, box) -> np.ndarray:
    """The box with CONTEXT added on each side, cut from a grey frame and scaled to the window."""
    height, width = grey.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    box_w, box_h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    left, right = int(max(0, np.floor(x0 - CONTEXT * box_w))), int(min(width, np.ceil(x1 + CONTEXT * box_w)))
    top, bottom = int(max(0, np.floor(y0 - CONTEXT * box_h))), int(min(height, np.ceil(y1 + CONTEXT * box_h)))
    patch = grey[top : max(bottom, top + 1), left : max(right, left + 1)]
    return cv2.resize(patch, WINDOW, interpolation=cv2.INTER_AREA)
