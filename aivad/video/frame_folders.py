"""Frame folders: a folder of numbered images read as one video (ShanghaiTech's ``1.jpg``, UCSD's ``001.tif``).

How to use it: through :mod:`aivad.video.files`, whose readers take a frame folder wherever they take a video
file (nothing else needs to know which of the two a path is)::

    from aivad.video.files import SeekableVideo, inspect_video, iter_frame_pairs, read_frames, validate_videos

    info = validate_videos([Path("UCSDped2/Test/Test001")], fps=10)[0]  # VideoInfo: n_frames, fps, width, height
    for index, bgr in read_frames(info.path): ...  # index = the image's place in the sorted folder, from 0
    for index, previous, bgr in iter_frame_pairs(info.path): ...
    video = SeekableVideo(info.path, fps=10)  # the window's reader: seek, frames(), close

``fps`` is the rate of a frame folder, which no image states (``None``: :data:`FRAME_FOLDER_FPS`); the readers
that report a rate or times take it (inspect_video, validate_videos, probe_video, SeekableVideo, FileSource, and
aivad.live's Detector.score_video); read_frames and iter_frame_pairs count frames and need none. Video
files ignore it and keep their own rate. Command lines take it with :func:`add_fps_option`. Which folders are
frame folders, and which folders hold several videos: :func:`aivad.video.listing.is_frame_folder` and
:func:`aivad.video.listing.videos_in_folder`; a folder's images in frame order: :func:`frame_images`.

The rules:

- frames are the folder's images (:data:`IMAGE_EXTENSIONS`, any case), hidden files (``.name``) left out, in the
  order of the last number in the file name (``2.jpg`` before ``10.jpg``; ties, and names with no number after
  every numbered one, by name);
- each image becomes an 8-bit BGR array like a decoded video frame: grayscale is repeated into three channels,
  16-bit images keep their top 8 bits (one fixed scale, so the brightness does not flicker from frame to frame),
  an alpha channel is dropped; the EXIF orientation is ignored, as a video's frames are never turned;
- every image must have the size of the first; a folder needs at least two images (one frame pair).

Checking a folder (:func:`inspect_frame_folder`) reads every image's header, which is fast, so a mixed size or a
file that is not an image is reported before any model loads; an image whose data turn out damaged when it is
decoded stops the read with a :class:`UserError` naming it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from aivad.errors import UserError

IMAGE_EXTENSIONS = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff"})
FRAME_FOLDER_FPS = 25.0  # frames per second of a frame folder when the user does not say (UCSD is commonly 10)

_NUMBER = re.compile(r"\d+")
_DECODE_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION  # 3-channel 8-bit BGR, as stored


def add_fps_option(parser) -> None:
    """``--fps`` for a command line that reads videos (an argparse parser or argument group)."""
    parser.add_argument(
        "--fps",
        type=_positive_rate,
        default=FRAME_FOLDER_FPS,
        help="frames per second of a frame folder (a folder of numbered images), which the images cannot say; "
        "UCSD Ped2 is commonly taken at 10; video files keep their own rate",
    )


def _positive_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not 0 < rate < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame rate; give a positive number such as 25 or 10")
    return rate


def is_image(path: Path) -> bool:
    """A frame of a frame folder by its name (not hidden, an image suffix); the content is checked when read."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def frame_order_key(name: str) -> tuple[int, int, str]:
    """Sort key of an image's file name: its last number (natural order), then the name itself."""
    numbers = _NUMBER.findall(Path(name).stem)
    return (0, int(numbers[-1]), name) if numbers else (1, 0, name)


def natural_key(name: str) -> list:
    """Sort key for folder names: every number compared as a number (``Train2`` before ``Train10``)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", name) if part]


def frame_images(folder: Path) -> list[Path]:
    """The folder's images in frame order (see the module's rules); empty when it holds none."""
    images = [path for path in Path(folder).iterdir() if is_image(path) and path.is_file()]
    return sorted(images, key=lambda path: frame_order_key(path.name))


@dataclass
class FrameFolder:
    """One frame folder, checked: its images in frame order, their common size and the rate they play at."""

    path: Path
    images: list[Path]
    fps: float
    width: int
    height: int

    @property
    def n_frames(self) -> int:
        return len(self.images)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as BGR uint8 HxWx3; :class:`UserError` naming the image if it cannot be used."""
        image_path = self.images[index]
        image = decode_image(image_path)
        if image is None:
            raise UserError(
                f"The image {image_path} (frame {index} of the frame folder {self.path}) cannot be decoded; "
                "replace it with an undamaged copy and run again."
            )
        if image.shape[:2] != (self.height, self.width):
            raise UserError(
                f"The image {image_path} is {image.shape[1]}x{image.shape[0]} but the other frames of {self.path} "
                f"are {self.width}x{self.height}; every frame of a frame folder must have one size."
            )
        return image

    def frames(
        self, stride: int = 1, max_frames: int | None = None, start: int = 0
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, BGR)`` for frames ``start, start+stride, ...``; the images in between are never read."""
        indices = range(max(start, 0), self.n_frames, stride)
        for index in indices if max_frames is None else indices[:max_frames]:
            yield index, self.frame(index)

    def frame_pairs(
        self, stride: int = 1, max_pairs: int | None = None, start: int = 0
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(index, frame index-1, frame index)`` for index 1, 1+stride, ...: as files.iter_frame_pairs.

        Pairs before ``start`` count towards ``max_pairs`` without being read (a resumed extraction).
        """
        indices = range(1, self.n_frames, stride)
        previous: tuple[int, np.ndarray] | None = None  # with stride 1 each frame is the next pair's previous
        for index in indices if max_pairs is None else indices[:max_pairs]:
            if index < start:
                continue
            before = previous[1] if previous is not None and previous[0] == index - 1 else self.frame(index - 1)
            frame = self.frame(index)
            yield index, before, frame
            previous = (index, frame)


def decode_image(path: Path) -> np.ndarray | None:
    """One image as BGR uint8 HxWx3, or None when it cannot be decoded.

    Read as bytes first: OpenCV's own file functions cannot open Korean or other non-ASCII paths on Windows.
    """
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        return None
    try:
        image = cv2.imdecode(data, _DECODE_FLAGS)
    except cv2.error:
        return None
    return None if image is None else np.ascontiguousarray(image)


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image's header, or None when the file is not an image anyone can read.

    Pillow reads the header alone (milliseconds for a folder of thousands); a format it does not know
    is decoded whole by OpenCV, the decoder the frames will come from.
    """
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        decoded = decode_image(path)
        return None if decoded is None else (decoded.shape[1], decoded.shape[0])


def inspect_frame_folder(folder: Path, fps: float | None = None) -> FrameFolder | str:
    """The checked :class:`FrameFolder`, or what is wrong with it in a few words (the caller says how to fix it)."""
    folder = Path(folder)
    rate = FRAME_FOLDER_FPS if fps is None else float(fps)
    if not rate > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    images = frame_images(folder)
    if not images:
        extensions = ", ".join(sorted(IMAGE_EXTENSIONS))
        return f"is a folder with no images in it (looked for {extensions})"
    if len(images) < 2:
        return f"has only {len(images)} frame(s) ({images[0].name}); at least 2 are needed"
    first_size = image_size(images[0])
    for image_path in images:
        size = first_size if image_path == images[0] else image_size(image_path)
        if size is None:
            return f"its image {image_path.name} cannot be read as an image (replace it with an undamaged copy)"
        if size != first_size:
            return (
                f"its image {image_path.name} is {size[0]}x{size[1]} but {images[0].name} is "
                f"{first_size[0]}x{first_size[1]}; every frame of a frame folder must have one size"
            )
    folder_video = FrameFolder(folder, images, rate, *first_size)
    for index in (0, 1):  # the decoder the frames come from must read them too, not only the header reader
        if decode_image(images[index]) is None:
            return f"its image {images[index].name} cannot be decoded (replace it with an undamaged copy)"
    return folder_video


def open_frame_folder(folder: Path, fps: float | None = None) -> FrameFolder:
    """:func:`inspect_frame_folder`, raising :class:`UserError` when the folder cannot be used."""
    checked = inspect_frame_folder(folder, fps)
    if isinstance(checked, str):
        raise UserError(f"The frame folder {folder} cannot be used: it {checked}; fix it and run again.")
    return checked


class SeekableFrameFolder:
    """A frame folder frame by frame with seeking, for the window: files.SeekableVideo's interface."""

    def __init__(self, folder: Path, fps: float | None = None) -> None:
        self._folder = open_frame_folder(folder, fps)
        self.path = self._folder.path
        self.fps = self._folder.fps
        self.frame_count = self._folder.n_frames
        self.width, self.height = self._folder.width, self._folder.height
        self._position = 0

    def seek(self, index: int) -> None:
        """The next frame returned is frame ``index`` (an image is one frame: seeking is exact)."""
        self._position = max(0, index)

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """(index, time_s, BGR) from the current position on."""
        for index, image in self._folder.frames(start=self._position):
            yield index, index / self.fps, image

    def close(self) -> None:
        pass  # no file stays open between frames
