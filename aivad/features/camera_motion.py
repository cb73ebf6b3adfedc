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
- **shake and turn** (a shift, or a small roll, tilt or zoom about the camera itself): the background's
  motion, fitted to the optical flow over the frame (:func:`camera_transform`). On the seven development
  test and training videos the median flow magnitude stays under 0.11 processing pixels for every pair
  (moving people cover a small part of the frame); shaken pairs give 0.5-4.7. Where it reaches
  ``SHIFT_MIN`` (0.25 processing pixels), the motion is a similarity where its turn or zoom moves the
  picture's corners by ``TURN_MIN`` or more and else the median flow, and moving the previous frame by it
  takes at least ``SHIFT_GAIN`` of the frames' difference away (on a textureless background flow bleeds
  from moving objects and explains nothing), the previous frame is moved by it (what it uncovers taken
  from the current frame, so it is no difference) and its flow is subtracted from the flow, so that
  objects' speeds are relative to the scene.

Measured with ``benchmarks/camera_disturbance.py`` on the seven development splits (docs/results.md, "A
disturbed camera"): the 2 s shake's peak fell from 2.8-5.8 times the threshold to 0.64-1.20 (the same
stretch undisturbed: 0.59-0.95), with no alarm frame left; a camera that jitters by up to 2 px on every
frame kept 28-117 normal frames in alarm and ranked at 0.52-0.71, and now 5-44 and 0.72-0.96; 2 s of a
camera also rolling by up to 1 degree (``sway``) peaked at 3.2-5.9 times the threshold with the shift
alone, and now at 0.58-1.09 (undisturbed 0.59-0.95), no alarm frame left.

Each frame pair also says what the camera did (:func:`camera_state`), so that the window and ``watch``
can tell the user: "shaking" (a shift or turn was taken out), "exposure" (an exposure step was), or "no picture"
(the frame is almost uniform: a covered lens, a black or blue "no signal" screen). Scores do not depend
on it. A covered camera still alarms, through the whole-frame stand-in's appearance; the state says why.

The full backend takes out the same with its own (RAFT) flow, judged at the lite backend's processing size
so that every threshold here means the same (:func:`frame_camera_motion`).

Not taken out: a large or lasting move (a pan-tilt-zoom camera turned to another view: the view check,
aivad.features.camera_view, says so), a change of colour or contrast (a camera switching to infrared at
dusk); the scene baseline (aivad.model.drift) adapts to lasting changes over minutes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

EXPOSURE_MIN = 0.02  # |log ratio| of the frames' exposure above which the previous frame is matched to it
# Processing pixels of median flow magnitude from which the camera counts as moved: every pair of the seven
# development videos (a still camera) stays under 0.11.
SHIFT_MIN = 0.25
SHIFT_GAIN = 0.3  # share of the frames' difference the motion must explain (aligned frames differ this much less)
FIT_ROUNDS = 3  # refits of the camera's motion on the samples it explains
FIT_RESIDUAL_MIN = 0.5  # processing pixels within which a sample always counts as explained
# Processing pixels the fitted turn and zoom must move the picture's corners by to count: fitted to pure shifts
# (the development videos shaken and jittered) they move them by at most 0.29, a 1 degree roll by 4.2 (384 x 288).
TURN_MIN = 0.5
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


def shrunk_grey(frame: np.ndarray, max_side: int = 384) -> np.ndarray:
    """A full-size frame (BGR or grey) as grey at most ``max_side`` long, shrunk as the lite backend shrinks it,
    so that a backend that does not shrink (the full one) is judged here as the lite one is."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    scale = min(1.0, max_side / max(grey.shape[:2]))
    if scale < 1.0:
        size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey


def camera_state(grey: np.ndarray, exposure_matched: bool, moved: bool) -> str:
    """What the camera did for this frame: NO_PICTURE, SHAKING, EXPOSURE, or "" (nothing: the usual case)."""
    if picture_lost(grey):
        return NO_PICTURE
    if moved:
        return SHAKING
    return EXPOSURE if exposure_matched else ""


def exposure_step(previous: np.ndarray, current: np.ndarray) -> float | None:
    """:func:`exposure_ratio` where it changed by more than EXPOSURE_MIN; else None (flicker, or nothing)."""
    ratio = exposure_ratio(previous, current)
    return ratio if abs(math.log(max(ratio, 1e-6))) > EXPOSURE_MIN else None


def matched_exposure(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``previous`` scaled to ``current``'s exposure where it changed by more than EXPOSURE_MIN; else itself."""
    ratio = exposure_step(previous, current)
    if ratio is None:
        return previous
    return cv2.convertScaleAbs(previous, alpha=ratio)  # rounded and saturated to 0..255, as a camera would


def camera_transform(flow: np.ndarray) -> np.ndarray | None:
    """The camera's motion between two frames where the scene moved as a whole; else None.

    A 2x3 matrix from previous to current processing pixels, judged on the flow sampled every SAMPLE_STEP
    pixels where the median flow magnitude reaches SHIFT_MIN (a camera turning about the picture's centre
    moves every pixel, yet its median flow is about 0). A similarity (turn, zoom and shift: a camera
    rolling, tilting or panning a little about itself) is fitted by least squares, then FIT_ROUNDS times
    again on the samples it explains (within FIT_RESIDUAL_MIN or twice the median residual), so that objects
    moving across the shaken view do not pull it. Where its turn and zoom move the picture's corners by
    less than TURN_MIN the camera only shifted, and the shift is the median flow (as robust as a fit, with
    nothing to over-fit), if it reaches SHIFT_MIN.
    """
    sample = flow[::SAMPLE_STEP, ::SAMPLE_STEP]
    motion = sample.reshape(-1, 2).astype(np.float64)
    if float(np.median(np.hypot(motion[:, 0], motion[:, 1]))) < SHIFT_MIN:
        return None
    ys, xs = np.mgrid[0 : sample.shape[0], 0 : sample.shape[1]] * SAMPLE_STEP
    # about the picture's centre, so that a turn and a shift are told apart well
    centre_x, centre_y = flow.shape[1] / 2, flow.shape[0] / 2
    x, y = xs.ravel() - centre_x, ys.ravel() - centre_y
    u, v = motion[:, 0], motion[:, 1]
    kept = np.ones(len(x), bool)
    for _ in range(FIT_ROUNDS + 1):
        c, s, tx, ty = _similarity_fit(x[kept], y[kept], u[kept], v[kept])
        residual = np.hypot(c * x - s * y + tx - u, s * x + c * y + ty - v)
        kept = residual <= max(FIT_RESIDUAL_MIN, 2.0 * float(np.median(residual)))
    if math.hypot(c, s) * math.hypot(centre_x, centre_y) < TURN_MIN:
        dx, dy = (float(v) for v in np.median(motion, axis=0))
        if math.hypot(dx, dy) < SHIFT_MIN:
            return None
        return np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return np.array(
        [[1 + c, -s, tx - c * centre_x + s * centre_y], [s, 1 + c, ty - s * centre_x - c * centre_y]], np.float32
    )


def _similarity_fit(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[float, ...]:
    """Least-squares (c, s, tx, ty) of u = c x - s y + tx, v = s x + c y + ty, by the 4 x 4 normal equations
    in closed form (with numpy's general solver on the 13,824 rows the whole fit took 6.8 ms a moved frame
    pair instead of 2.2)."""
    n, sum_x, sum_y, sum_r2 = len(x), x.sum(), y.sum(), (x * x + y * y).sum()
    normal = np.array(
        [[sum_r2, 0, sum_x, sum_y], [0, sum_r2, -sum_y, sum_x], [sum_x, -sum_y, n, 0], [sum_y, sum_x, 0, n]]
    )
    right = np.array([(x * u + y * v).sum(), (x * v - y * u).sum(), u.sum(), v.sum()])
    return tuple(float(value) for value in np.linalg.solve(normal, right))


def camera_flow(transform: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The flow (H, W, 2) that the camera's ``transform`` alone makes at every pixel of an image of ``shape``."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    (a, b, tx), (c, d, ty) = transform
    return np.stack([(a - 1) * xs + b * ys + tx, c * xs + (d - 1) * ys + ty], axis=2)


def camera_moved(previous: np.ndarray, current: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(the camera's transform, ``previous`` moved onto ``current``'s view) where the camera moved; else None.

    The flow must show a camera motion (:func:`camera_transform`), and moving the previous frame by it must
    take at least SHIFT_GAIN of the frames' difference away: where the background has no texture, optical
    flow bleeds from moving objects into it (medians of 0.26-0.67 px on 31 of 99 pairs of a synthetic
    scene of flat colour), and there a "motion" explains nothing.
    """
    transform = camera_transform(flow)
    if transform is None:
        return None
    aligned = transformed(previous, current, transform)
    before = cv2.absdiff(previous[::SAMPLE_STEP, ::SAMPLE_STEP], current[::SAMPLE_STEP, ::SAMPLE_STEP]).mean()
    after = cv2.absdiff(aligned[::SAMPLE_STEP, ::SAMPLE_STEP], current[::SAMPLE_STEP, ::SAMPLE_STEP]).mean()
    return (transform, aligned) if after <= (1.0 - SHIFT_GAIN) * before else None


def transformed(previous: np.ndarray, current: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """``previous`` moved by ``transform`` onto ``current``'s view; what it uncovers is ``current``'s own pixels."""
    height, width = previous.shape[:2]
    return cv2.warpAffine(
        previous,
        transform,
        (width, height),
        dst=current.copy(),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )


def frame_camera_motion(
    previous: np.ndarray, current: np.ndarray, flow: np.ndarray, max_side: int = 384
) -> tuple[float | None, np.ndarray | None, str]:
    """For a backend with its own flow (the full backend's RAFT): (exposure ratio, camera transform, state).

    ``previous``/``current`` are the pair's BGR frames, ``flow`` (H, W, 2) their flow in frame pixels. The
    judgement is made on both shrunk to ``max_side`` as the lite backend shrinks them, so that every
    threshold above means what it was measured as; the transform is returned in frame pixels. The ratio
    (to scale ``previous`` by) and the transform are None where nothing was taken out.
    """
    previous_grey, grey = shrunk_grey(previous, max_side), shrunk_grey(current, max_side)
    scale = grey.shape[1] / current.shape[1]
    ratio = exposure_step(previous_grey, grey)
    exposed = previous_grey if ratio is None else cv2.convertScaleAbs(previous_grey, alpha=ratio)
    small_flow = cv2.resize(flow, grey.shape[1::-1], interpolation=cv2.INTER_AREA) * scale if scale < 1.0 else flow
    moved = camera_moved(exposed, grey, small_flow)
    transform = None
    if moved is not None:
        transform = moved[0].copy()
        transform[:, 2] /= scale  # the same turn and zoom; the shift in frame pixels
    return ratio, transform, camera_state(grey, ratio is not None, moved is not None)
