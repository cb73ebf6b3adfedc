"""Frames scored at the size the checkpoint was trained on, whatever size the camera sends.

Why: several of the model's measures are in frame pixels (the smallest region kept, speeds, the heights
speeds are counted against), so the same scene at another resolution scores differently. A camera's
sub-stream is often a half or a quarter of the main stream the training footage was recorded from, or
the other way round. Measured on the seven development test videos with their seed-42 models (docs/results.md,
"Another resolution than the training footage"): at double size six of the seven had a false-alarm event
(4-66 normal frames in alarm); at half size 8 of the 25 anomalies were missed that the training size finds,
at a quarter 17. Each frame scaled back to the training size first: no false event, normal frames in alarm
as at the training size; 2 and 4 such misses (what the smaller picture no longer shows).

A frame is scaled only where its shape is the training footage's aspect ratio (within ASPECT_TOLERANCE):
a different aspect is another crop or another camera, which scaling would distort (the view check,
aivad.features.camera_view, says when the view differs). Checkpoints whose training videos had different
sizes, or that do not say, leave every frame as it comes.
"""

from __future__ import annotations

import cv2
import numpy as np

ASPECT_TOLERANCE = 0.02  # relative difference of width / height under which two sizes are one view scaled


def training_frame_size(info: dict) -> tuple[int, int] | None:
    """(width, height) shared by every training video of a checkpoint's summary; None if they differ or it does
    not say."""
    sizes = {tuple(int(v) for v in video["size"]) for video in info.get("videos", []) if video.get("size")}
    return sizes.pop() if len(sizes) == 1 else None


class FrameSizer:
    """Scales a stream's frames to the training size (see the module's docstring); remembers the last decision."""

    def __init__(self, training_size: tuple[int, int] | None) -> None:
        self.training_size = training_size
        self._decided: tuple[tuple[int, int], float | None] | None = None  # (input shape, scale or None)

    def scale_for(self, shape: tuple[int, ...]) -> float | None:
        """Input pixels per training pixel for frames of ``shape``, or None where they are left as they are."""
        height, width = shape[:2]
        if self._decided is not None and self._decided[0] == (width, height):
            return self._decided[1]
        scale = None
        if self.training_size is not None and (width, height) != self.training_size:
            train_width, train_height = self.training_size
            aspect, train_aspect = width / height, train_width / train_height
            if abs(aspect - train_aspect) <= ASPECT_TOLERANCE * train_aspect:
                scale = width / train_width
        self._decided = ((width, height), scale)
        return scale

    def fit(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` at the training size where :meth:`scale_for` says so, else itself."""
        scale = self.scale_for(frame.shape)
        if scale is None:
            return frame
        shrinking = scale > 1.0  # area averaging when shrinking (no aliasing), linear when enlarging
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(frame, self.training_size, interpolation=interpolation)

    @property
    def resized_from(self) -> tuple[int, int] | None:
        """(width, height) of the frames last scaled, or None where the last frame was left as it came."""
        if self._decided is None or self._decided[1] is None:
            return None
        return self._decided[0]


def resize_message(resized_from: tuple[int, int] | None, training_size: tuple[int, int] | None) -> str:
    """The sentence the log and ``score`` print while a stream's frames are scaled ("" while they are not)."""
    if resized_from is None or training_size is None:
        return ""
    return (
        f"frames of {resized_from[0]}x{resized_from[1]} are scored at the training footage's size "
        f"{training_size[0]}x{training_size[1]} (boxes at the camera's own size)"
    )
