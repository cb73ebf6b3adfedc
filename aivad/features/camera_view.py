"""Is the camera still looking where the training footage looked? The view check behind "view changed".

Why: a model is trained on one view. When the camera is bumped, turned or zoomed and stays there (a
pan-tilt-zoom preset, a knock while cleaning, a re-mounted housing), every attribute keeps scoring, but
against places, sizes and a background the model never saw: the geometry of people at the edge of the
old view, paths that are now lawn. Nothing in the scores says so, and a detector that quietly stops
fitting its camera is one nobody trusts. Training stores the view (the median of frames sampled over
the training videos, as a small grey picture); live, each stream keeps the median of its own recent
samples (people walking through move a median of several seconds by nothing) and compares the two by
their edges, which lighting and exposure leave in place.

Measured on the seven development splits (``benchmarks/view_check.py``; the reference from each split's
training videos, the test video through the monitor as live use runs it): the test video as it is
correlates at 0.93-1.00 with its reference, darkened to 30% or blurred the same; shifted by 20 px at
0.62-0.69, zoomed by 10% at 0.52-0.58, rotated by 3 degrees at 0.62-0.68; shifted by 70 px or rotated by 8
degrees and zoomed at 0.22-0.30, other scenes (opencv-doc's example images as still cameras) at
-0.03-0.14. VIEW_MIN sits where the model stops fitting rather than at the first pixel of change: a 20 px
shift of a 768 px view moves every place by less than a person's width, which the geometry attribute's
spread absorbs. Simulated light on the same view stays far above it: uneven light 0.82-0.85, a hard
shadow over half the frame 0.78-0.82, night (5% brightness, noise) 0.93-0.99, inverted contrast 0.93-1.00.
A stream is judged once it has VIEW_MIN_SAMPLES samples (4 s at 10 FPS).
"""

from __future__ import annotations

import base64
from collections import deque
from pathlib import Path

import cv2
import numpy as np

from aivad.features.camera_motion import NO_PICTURE_STD

VIEW_SIZE = (96, 72)  # width, height of the compared pictures: the scene's layout, not its details
VIEW_EVERY = 10  # frames between two samples of a stream (1 s at 10 FPS)
VIEW_SAMPLES = 9  # a stream's view is the median of its last this many samples
VIEW_MIN_SAMPLES = 5  # samples before a stream's view is judged (a median of fewer is a passer-by's)
VIEW_MIN = 0.5  # edge correlation with the training view under which the view counts as changed
REFERENCE_SAMPLES = 30  # frames sampled per training video for the reference view
SEQUENTIAL_UP_TO = 3000  # frames: shorter videos are decoded straight through, longer ones seeked into


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """The frame as a VIEW_SIZE grey picture (uint8)."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return cv2.resize(grey, VIEW_SIZE, interpolation=cv2.INTER_AREA)


def edge_map(picture: np.ndarray) -> np.ndarray:
    """Gradient magnitude of a (lightly smoothed) thumbnail: where the scene's edges are."""
    smooth = cv2.GaussianBlur(picture.astype(np.float32), (0, 0), 1.0)
    return np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def edge_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation (-1..1) of two edge maps; 0 where either has no edges at all."""
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 0 else 0.0


def median_picture(pictures) -> np.ndarray:
    return np.median(np.stack(list(pictures)), axis=0).astype(np.uint8)


def sampled_frames(path: Path, total: int, count: int = REFERENCE_SAMPLES):
    """About ``count`` frames spread over a video file or frame folder of ``total`` frames."""
    from aivad.video.files import SeekableVideo, read_frames

    if total <= SEQUENTIAL_UP_TO:
        yield from (frame for _, frame in read_frames(path, stride=max(1, total // count)))
        return
    video = SeekableVideo(path)
    try:
        for k in range(count):
            video.seek(k * total // count)
            for _, _, frame in video.frames():
                yield frame
                break
    finally:
        video.close()


def reference_view(videos) -> dict | None:
    """What training stores: the median of frames sampled over every training video, as a PNG (base64).

    ``videos``: the training videos as aivad.video.files.validate_videos describes them (path, n_frames).
    """
    pictures = [thumbnail(frame) for video in videos for frame in sampled_frames(Path(video.path), video.n_frames)]
    pictures = [p for p in pictures if p.std() >= NO_PICTURE_STD]
    if not pictures:
        return None
    ok, png = cv2.imencode(".png", median_picture(pictures))
    return {"size": list(VIEW_SIZE), "png": base64.b64encode(png.tobytes()).decode("ascii")} if ok else None


def decode_view(stored: dict | None) -> np.ndarray | None:
    """The reference thumbnail a checkpoint stores (None: a checkpoint from before the view check)."""
    if not stored or "png" not in stored:
        return None
    data = np.frombuffer(base64.b64decode(stored["png"]), dtype=np.uint8)
    picture = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return None if picture is None or picture.shape[::-1] != tuple(VIEW_SIZE) else picture


class ViewMonitor:
    """One stream's view against the training view: sampled every VIEW_EVERY frames, judged on a median."""

    def __init__(self, reference: np.ndarray | None) -> None:
        self.reference = reference
        self._reference_edges = None if reference is None else edge_map(reference)  # once, not per judgement
        self.similarity: float | None = None  # of the stream's current view, once judged
        self._samples: deque[np.ndarray] = deque(maxlen=VIEW_SAMPLES)
        self._frames = 0

    def reset(self) -> None:
        self.similarity, self._frames = None, 0
        self._samples.clear()

    def add(self, frame: np.ndarray) -> None:
        if self.reference is None:
            return
        if self._frames % VIEW_EVERY == 0:
            picture = thumbnail(frame)
            if picture.std() >= NO_PICTURE_STD:  # a covered lens is "no picture", not another view
                self._samples.append(picture)
                if len(self._samples) >= VIEW_MIN_SAMPLES:
                    view = edge_map(median_picture(self._samples))
                    self.similarity = edge_correlation(view, self._reference_edges)
        self._frames += 1

    @property
    def changed(self) -> bool:
        return self.similarity is not None and self.similarity < VIEW_MIN
