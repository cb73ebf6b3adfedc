"""The camera's own change between two frames (a shake, an exposure step), taken out before objects are looked for.

Why: the lite backend finds objects as the blobs of the difference between two frames and measures
their speed with optical flow, both relative to the image. When the camera itself moves (a pole in the
wind, a truck passing, someone touching the housing) every edge of the scene differs between the two
frames, and when its exposure jumps (lights switched, an iris or gain step) every pixel does: the frame
is then full of "objects", large and fast, and the score goes far above the threshold. Measured on split
a's test video with 2 s of camera shake added to a normal stretch (random shifts of up to 4 px a frame):
the frame score rose from 0.3 to 5.8, geometry in alarm throughout (an alarm event on normal footage);
with a sudden 25% darker exposure, 1.5 for three frames (an alarm at the default rule).

What is taken out, both only where the frames say so unambiguously, so that footage from a still camera
is scored exactly as before:

- **exposure**: the median ratio of the two frames' grey levels over the scene (most pixels of a still
  scene are background, identical in both frames). On the seven development test videos it is exactly 1
  for every frame pair; a 25% step gives 0.75. Where it differs from 1 by more than ``EXPOSURE_MIN``
  (2%), the previous frame is scaled to the current one's exposure.
- **shake** (a translation): the median optical flow over the frame, the background's motion. On the
  seven development test videos it stays under 0.05 processing pixels for every pair (moving people
  cover a small part of the frame); the shaken pairs above gave 0.5-4.7. Where it reaches
  ``SHIFT_MIN`` (0.25 processing pixels) and moving the previous frame by it takes at least
  ``SHIFT_GAIN`` of the frames' difference away (on a textureless background flow bleeds from moving
  objects and explains nothing), the previous frame is moved by it (the strip it uncovers taken from
  the current frame, so it is no difference) and it is subtracted from the flow, so that objects'
  speeds are relative to the scene.

Measured with ``benchmarks/camera_disturbance.py`` on the seven development splits (docs/results.md, "A
disturbed camera"): the 2 s shake's peak fell from 2.8-5.8 times the threshold to 0.64-1.20 (the same
stretch undisturbed: 0.59-0.95), with no alarm frame left; a camera that jitters by up to 2 px on every
frame kept 28-117 normal frames in alarm and ranked at 0.52-0.71, and now 5-44 and 0.72-0.96.

Each frame pair also says what the camera did (:func:`camera_state`), so that the window and ``watch``
can tell the user: "shaking" (a shift was taken out), "exposure" (an exposure step was), or "no picture"
(the frame is almost uniform: a covered lens, a black or blue "no signal" screen). Scores do not depend
on it. A covered camera still alarms, through the whole-frame stand-in's appearance; the state says why.

Not taken out: rotation and zoom (a pan-tilt-zoom camera moving), a change of colour or contrast (a
camera switching to infrared at dusk); the scene baseline (aivad.model.drift) adapts to lasting changes
over minutes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

EXPOSURE_MIN = 0.02  # |log ratio| of the frames' exposure above which the previous frame is matched to it
SHIFT_MIN = 0.25  # processing pixels of median flow from which the camera counts as moved
SHIFT_GAIN = 0.3  # share of the frames' difference the shift must explain (aligned frames differ this much less)
SAMPLE_STEP = 4  # every 4th pixel in each direction: both medians cost about 0.4 ms a pair (384 x 288)
DARK_LEVEL = 16  # grey levels at or under which a pixel says nothing about exposure (noise, clipping)
# Standard deviation of the grey levels (processing size) under which a frame shows nothing: every frame
# of the development videos has 50-53; the scene at 5% of its brightness 2.7, a lens cap's sensor noise ~1.
NO_PICTURE_STD = 2.0
SHAKING, EXPOSURE, NO_PICTURE = "shaking", "exposure", "no picture"  # what camera_state reports ("" otherwise)


def exposure_ratio(previous: np.ndarray, current: np.ndarray) -> float:
    """The median of current / previous grey level over the sampled pixels that are not dark (1.0 where none is)."""
    before = previous[::SAMPLE_STEP, ::SAMPLE_STEP].astype(np.float32)
    after = current[::SAMPLE_STEP, ::SAMPLE_STEP].astype(np.float32)
    lit = before > DARK_LEVEL
    if not lit.any():
        return 1.0
    return float(np.median(after[lit] / before[lit]))


def picture_lost(grey: np.ndarray) -> bool:
    """True where a grey frame is almost uniform (NO_PICTURE_STD): a covered lens or a "no signal" screen."""
    return float(grey[::SAMPLE_STEP, ::SAMPLE_STEP].std()) < NO_PICTURE_STD


def frame_shows_nothing(frame: np.ndarray, max_side: int = 384) -> bool:
    """:func:`picture_lost` of a full-size frame (BGR or grey), shrunk as the lite backend shrinks it first,
    so that sensor noise is averaged alike (the full backend, which does not shrink, asks this)."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    scale = min(1.0, max_side / max(grey.shape[:2]))
    if scale < 1.0:
        size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return picture_lost(grey)


def camera_state(grey: np.ndarray, exposure_matched: bool, moved: bool) -> str:
    """What the camera did for this frame: NO_PICTURE, SHAKING, EXPOSURE, or "" (nothing: the usual case)."""
    if picture_lost(grey):
        return NO_PICTURE
    if moved:
        return SHAKING
    return EXPOSURE if exposure_matched else ""


def matched_exposure(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``previous`` scaled to ``current``'s exposure where it changed by more than EXPOSURE_MIN; else itself."""
    ratio = exposure_ratio(previous, current)
    if abs(math.log(max(ratio, 1e-6))) <= EXPOSURE_MIN:
        return previous
    return cv2.convertScaleAbs(previous, alpha=ratio)  # rounded and saturated to 0..255, as a camera would


def camera_shift(flow: np.ndarray) -> tuple[float, float] | None:
    """The median (dx, dy) of a flow field (H, W, 2) where it reaches SHIFT_MIN: the camera moved; else None."""
    sample = flow[::SAMPLE_STEP, ::SAMPLE_STEP].reshape(-1, 2)
    dx, dy = (float(v) for v in np.median(sample, axis=0))
    return (dx, dy) if math.hypot(dx, dy) >= SHIFT_MIN else None


def camera_moved(
    previous: np.ndarray, current: np.ndarray, flow: np.ndarray
) -> tuple[tuple[float, float], np.ndarray] | None:
    """(the camera's shift, ``previous`` moved onto ``current``'s view) where the camera moved; else None.

    The median flow must reach SHIFT_MIN, and moving the previous frame by it must take at least
    SHIFT_GAIN of the frames' difference away: where the background has no texture, optical flow bleeds
    from moving objects into it (medians of 0.26-0.67 px on 31 of 99 pairs of a synthetic scene of flat
    colour), and there a "shift" explains nothing.
    """
    shift = camera_shift(flow)
    if shift is None:
        return None
    aligned = shifted(previous, current, shift)
    before = cv2.absdiff(previous[::SAMPLE_STEP, ::SAMPLE_STEP], current[::SAMPLE_STEP, ::SAMPLE_STEP]).mean()
    after = cv2.absdiff(aligned[::SAMPLE_STEP, ::SAMPLE_STEP], current[::SAMPLE_STEP, ::SAMPLE_STEP]).mean()
    return (shift, aligned) if after <= (1.0 - SHIFT_GAIN) * before else None


def shifted(previous: np.ndarray, current: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """``previous`` moved by ``shift`` onto ``current``'s view; the strip it uncovers is ``current``'s own pixels."""
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    height, width = previous.shape[:2]
    return cv2.warpAffine(
        previous, matrix, (width, height), dst=current.copy(), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
