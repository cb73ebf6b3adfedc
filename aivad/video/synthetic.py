"""Synthetic surveillance-like footage, rendered on the fly for tests, the demo and benchmarks.

A fixed camera looks at a corridor: a textured wall and floor that never change, and a
few person-shaped walkers strolling along the floor. An anomaly is either a runner that
moves 6-8 times faster than anyone else, or a foreign object (a flat, high-contrast
checkerboard, nothing like a person) sliding through.

Everything is deterministic: ``scene_seed`` fixes the room (the same camera), ``seed``
the people in it (a different recording time). The same ``seed`` with and without an
anomaly renders the same walkers, so the two clips differ only in the anomaly frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

Anomaly = Literal["fast", "foreign"]

_REFERENCE_WIDTH = 160  # speeds below are in pixels per frame at this width
_NORMAL_SPEED = (1.0, 2.0)
_FAST_FACTOR = (6.0, 8.0)
_FOREIGN_SPEED = 2.0
_HORIZON = 0.4  # fraction of the height where the wall meets the floor
_SUBPIXEL_BITS = 4  # cv2 drawing "shift": smooth sub-pixel motion instead of 1-px jumps


@dataclass(frozen=True)
class _Walker:
    start_x: float
    feet_y: float
    speed: float  # pixels per frame, negative = walking left
    height: float
    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    step_phase: float


def render_scene(
    n_frames: int = 60,
    size: tuple[int, int] = (160, 120),
    seed: int = 0,
    walkers: int = 3,
    anomaly: Anomaly | None = None,
    anomaly_frames: tuple[int, int] | None = None,
    scene_seed: int = 0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Render the frames (BGR uint8 HxWx3) and per-frame labels (1 = anomalous).

    ``size`` is (width, height). ``anomaly_frames`` is (start, end), end excluded; it
    defaults to the middle third of the clip. Without an anomaly all labels are 0.
    """
    width, height = size
    if anomaly not in (None, "fast", "foreign"):
        raise ValueError(f'anomaly must be None, "fast" or "foreign", got {anomaly!r}')
    if anomaly_frames is None:
        anomaly_frames = (n_frames // 3, 2 * n_frames // 3)
    anomaly_start, anomaly_end = anomaly_frames

    # Separate streams so that adding an anomaly does not change the walkers or the noise.
    walker_rng, noise_rng, anomaly_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    scale = width / _REFERENCE_WIDTH
    background = _background(width, height, scene_seed)
    people = [_random_walker(walker_rng, width, height, scale) for _ in range(walkers)]
    runner = _random_walker(anomaly_rng, width, height, scale)
    runner_speed = np.sign(runner.speed) * anomaly_rng.uniform(*_FAST_FACTOR) * np.mean(_NORMAL_SPEED) * scale
    foreign_patch = _checkerboard(anomaly_rng, max(4, int(0.28 * width)), max(3, int(0.1 * height)))

    frames: list[np.ndarray] = []
    labels = np.zeros(n_frames, dtype=np.uint8)
    for t in range(n_frames):
        frame = background.copy()
        # Far people first, so nearer ones overlap them.
        for person in sorted(people, key=lambda p: p.feet_y):
            _draw_walker(frame, person, person.start_x + person.speed * t, t)
        if anomaly is not None and anomaly_start <= t < anomaly_end:
            labels[t] = 1
            elapsed = t - anomaly_start
            if anomaly == "fast":
                _draw_walker(frame, runner, runner.start_x + runner_speed * elapsed, t)
            else:
                x = 0.1 * width + _FOREIGN_SPEED * scale * elapsed
                _paste_wrapped(frame, foreign_patch, x, int(0.72 * height))
        # Mild sensor noise: real cameras never deliver two identical frames.
        noise = noise_rng.integers(-2, 3, size=(height, width, 1), dtype=np.int16)
        frames.append(np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return frames, labels


def make_scene_video(
    path: Path,
    n_frames: int = 60,
    size: tuple[int, int] = (160, 120),
    fps: float = 10,
    seed: int = 0,
    walkers: int = 3,
    anomaly: Anomaly | None = None,
    anomaly_frames: tuple[int, int] | None = None,
    scene_seed: int = 0,
    grayscale: bool = False,
) -> Path:
    """Render a scene (see :func:`render_scene`) and write it as a video file.

    The codec follows the extension: .mp4 MPEG-4 Part 2 ("mp4v"), .avi Motion JPEG,
    .mkv H.264. ``grayscale`` writes a single-channel (gray pixel format) FFV1 video and
    needs .avi or .mkv. Width and height must be even (4:2:0 chroma).
    """
    path = Path(path)
    width, height = size
    if width % 2 or height % 2:
        raise ValueError(f"width and height must be even, got {size}")
    codec, pixel_format, options = _codec_for(path.suffix.lower(), grayscale)
    frames, _ = render_scene(n_frames, size, seed, walkers, anomaly, anomaly_frames, scene_seed)

    path.parent.mkdir(parents=True, exist_ok=True)
    # PyAV rather than cv2.VideoWriter: it writes to Korean/space paths on Windows too.
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001), options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
        # Generous bitrate: compression smear would blur the walkers the detector learns.
        stream.bit_rate = max(200_000, int(width * height * fps * 1.5))
        for bgr in frames:
            if grayscale:
                frame = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), format="gray")
            else:
                frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _codec_for(extension: str, grayscale: bool) -> tuple[str, str, dict[str, str]]:
    if grayscale:
        if extension not in (".avi", ".mkv"):
            raise ValueError(f"grayscale videos need a .avi or .mkv file, got {extension!r}")
        return "ffv1", "gray", {}
    if extension == ".mp4":
        return "mpeg4", "yuv420p", {}
    if extension == ".avi":
        return "mjpeg", "yuvj420p", {}
    if extension == ".mkv":
        if "libx264" in av.codecs_available:
            return "libx264", "yuv420p", {"preset": "veryfast", "crf": "18"}
        return "mpeg4", "yuv420p", {}
    raise ValueError(f"unsupported video extension {extension!r}; use .mp4, .avi or .mkv")


def _background(width: int, height: int, scene_seed: int) -> np.ndarray:
    rng = np.random.default_rng(scene_seed)
    horizon = int(_HORIZON * height)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    wall = np.array([150, 155, 160], np.float32) - 25 * ys
    floor = np.array([95, 105, 110], np.float32) + 30 * ys
    image = np.where(np.arange(height)[:, None, None] < horizon, wall, floor) + 12 * xs  # light from the right
    image = np.broadcast_to(image, (height, width, 3)).copy()

    # Doors, windows and notice boards on the wall; the fixed texture gives flow and
    # background models something to hold on to, as a real wall would.
    for _ in range(5):
        w = rng.uniform(0.06, 0.16) * width
        h = rng.uniform(0.3, 0.8) * horizon
        x0 = rng.uniform(0, width - w)
        y0 = rng.uniform(0.05 * horizon, horizon - h)
        colour = tuple(float(c) for c in rng.integers(40, 220, 3))
        cv2.rectangle(image, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), colour, thickness=-1)
    cv2.line(image, (0, horizon), (width - 1, horizon), (60, 60, 60), thickness=max(1, height // 60))
    tile = max(4, width // 8)
    for x in range(tile // 2, width, tile):  # floor tile joints
        cv2.line(image, (x, horizon), (x, height - 1), (80, 88, 92), thickness=1)
    image += rng.normal(0.0, 6.0, size=(height, width, 1)).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def _random_walker(rng: np.random.Generator, width: int, height: int, scale: float) -> _Walker:
    horizon = _HORIZON * height
    feet_y = rng.uniform(horizon + 0.25 * (height - horizon), height - 2)
    depth = (feet_y - horizon) / (height - horizon)  # 0 far away .. 1 close to the camera
    return _Walker(
        start_x=rng.uniform(0, width),
        feet_y=feet_y,
        speed=rng.uniform(*_NORMAL_SPEED) * scale * rng.choice([-1.0, 1.0]),
        height=(0.22 + 0.18 * depth) * height,
        shirt=tuple(int(c) for c in rng.integers(30, 230, 3)),
        trousers=tuple(int(c) for c in rng.integers(20, 90, 3)),
        step_phase=rng.uniform(0, 2 * np.pi),
    )


def _draw_walker(frame: np.ndarray, walker: _Walker, x: float, t: int) -> None:
    width = frame.shape[1]
    body_width = 0.36 * walker.height
    # Wrap around: leave on one side, come back on the other, never stuck off-screen.
    span = width + 2 * body_width
    x = (x + body_width) % span - body_width
    bob = 0.02 * walker.height * np.sin(walker.step_phase + 0.8 * t)
    feet = walker.feet_y + bob
    h = walker.height

    draw = {"thickness": -1, "lineType": cv2.LINE_AA, "shift": _SUBPIXEL_BITS}
    cx = _fixed(x)
    legs_axes = (_fixed(0.3 * body_width, 1), _fixed(0.22 * h, 1))
    torso_axes = (_fixed(0.5 * body_width, 1), _fixed(0.2 * h, 1))
    cv2.ellipse(frame, (cx, _fixed(feet - 0.22 * h)), legs_axes, 0, 0, 360, walker.trousers, **draw)
    cv2.ellipse(frame, (cx, _fixed(feet - 0.58 * h)), torso_axes, 0, 0, 360, walker.shirt, **draw)
    cv2.circle(frame, (cx, _fixed(feet - 0.88 * h)), _fixed(0.1 * h, 1), (120, 150, 190), **draw)


def _fixed(value: float, minimum: int | None = None) -> int:
    """``value`` in cv2's fixed-point format for drawing with ``shift``; sizes pass ``minimum``."""
    fixed = round(value * (1 << _SUBPIXEL_BITS))
    return fixed if minimum is None else max(minimum, fixed)


def _checkerboard(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    cell = 2
    colours = rng.integers(0, 256, size=(height // cell + 1, width // cell + 1, 3), dtype=np.uint8)
    checks = ((np.arange(height)[:, None] // cell + np.arange(width)[None, :] // cell) % 2).astype(bool)
    patch = np.repeat(np.repeat(colours, cell, axis=0), cell, axis=1)[:height, :width]
    patch[checks] = 255 - patch[checks]
    return patch


def _paste_wrapped(frame: np.ndarray, patch: np.ndarray, x: float, y: int) -> None:
    height, width = frame.shape[:2]
    patch_height, patch_width = patch.shape[:2]
    rows = slice(max(0, y), min(height, y + patch_height))
    patch_rows = slice(rows.start - y, rows.stop - y)
    columns = (int(x) + np.arange(patch_width)) % width
    frame[rows, columns] = patch[patch_rows]


DEMO_CLIP_NAME = "demo_normal.mp4"  # in samples/: what video_files_list.py lists out of the box


def make_demo_clip(path: Path) -> Path:
    """The out-of-the-box training clip: people walking normally, the same every time."""
    return make_scene_video(path, n_frames=200, size=(320, 240), fps=10, seed=0, walkers=4)
