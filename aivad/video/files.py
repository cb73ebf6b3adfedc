"""Checking and decoding the user's video files (which files: aivad.video.listing).

A frame folder (a folder of numbered images) is a video here too: every public function dispatches it to
aivad.video.frame_folders, and ``fps`` is its frame rate (video files keep their own).

All decoding goes through PyAV: it opens paths with spaces and Korean characters on
Windows (OpenCV's VideoCapture does not), and it lets a reader skip one damaged frame
and carry on instead of stopping at the first bad byte.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import av
import numpy as np

from aivad.errors import UserError
from aivad.video import frame_folders
from aivad.video.listing import GLOB_CHARACTERS, VIDEO_EXTENSIONS, is_frame_folder, videos_in_folder

_FALLBACK_FPS = 30.0  # only for streams that state no frame rate at all
_FIX_LIST_HINT = "fix or remove them in video_files_list.py (or --videos) and run again"


class CorruptFramesWarning(UserWarning):
    """Some frames of a video could not be decoded and were skipped."""


@dataclass
class VideoInfo:
    path: Path
    n_frames: int
    fps: float
    width: int
    height: int


# --------------------------------------------------------------------------- checking


def validate_videos(paths: Sequence[Path], fps: float | None = None) -> list[VideoInfo]:
    """Check every file by decoding it; report every bad file in one :class:`UserError`.

    Meant to run before any model loads, so a typo in the tenth path does not cost the
    user a model download and nine videos of waiting. ``fps``: the rate of frame folders.
    """
    infos: list[VideoInfo] = []
    problems: list[str] = []
    for path in map(Path, paths):
        info_or_problem = inspect_video(path, fps)
        if isinstance(info_or_problem, VideoInfo):
            infos.append(info_or_problem)
        else:
            problems.append(f"  {path}: {info_or_problem}")
    if problems:
        header = f"{len(problems)} of {len(paths)} video file(s) cannot be used; {_FIX_LIST_HINT}:"
        raise UserError("\n".join([header, *problems]))
    return infos


def probe_video(path: Path, fps: float | None = None) -> VideoInfo:
    """Frame count, frame rate and size of one video; :class:`UserError` if it is unusable."""
    return validate_videos([Path(path)], fps)[0]


def inspect_video(path: Path, fps: float | None = None) -> VideoInfo | str:
    """One video's VideoInfo, or what is wrong with it (for a caller that says how to fix it in its own words).

    ``fps`` is the rate of a frame folder (None: frame_folders.FRAME_FOLDER_FPS); a video file keeps its own.
    """
    path = Path(path)
    if is_frame_folder(path):
        folder = frame_folders.inspect_frame_folder(path, fps)
        if isinstance(folder, str):
            return folder
        return VideoInfo(path=path, n_frames=folder.n_frames, fps=folder.fps, width=folder.width, height=folder.height)
    return _file_problem(path) or _inspect(path)


def content_stamp(path: Path) -> tuple[int, ...]:
    """What changes when a video's content changes (a cache made from other content must not be reused):
    a file's size and time, a frame folder's image count, bytes and newest time (the folder's own
    time does not change when an image in it is replaced)."""
    if is_frame_folder(path):
        stats = [image.stat() for image in frame_folders.frame_images(path)]
        return len(stats), sum(s.st_size for s in stats), max(s.st_mtime_ns for s in stats)
    stat = Path(path).stat()
    return stat.st_size, stat.st_mtime_ns


def _file_problem(path: Path) -> str | None:
    """What is wrong with the file itself, before trying to decode it."""
    if not path.exists():
        if GLOB_CHARACTERS.intersection(str(path)):
            return "missing (no file matches this path or pattern)"
        return "missing"
    if path.is_dir():
        if videos_in_folder(path):
            return "is a folder of several videos, not one video; give one of them"
        extensions = ", ".join(sorted(VIDEO_EXTENSIONS))
        return f"is a folder with no video files and no images in it (looked for {extensions} and images)"
    if not path.is_file():
        return "not a file"
    if frame_folders.is_image(path):
        return "is one image, not a video; give the folder of numbered images it belongs to (a frame folder)"
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    return None


def _inspect(path: Path) -> VideoInfo | str:
    """Decode the first frames to prove the file is a usable video; a problem text if not."""
    try:
        with _open_video(path) as (container, stream):
            fps = _frame_rate(stream)
            n_frames = stream.frames
            with warnings.catch_warnings(), closing(_decode(container, stream, path)) as frames:
                # Damage is reported when the frames are really read, not twice.
                warnings.simplefilter("ignore", CorruptFramesWarning)
                first_frames = [frame for _, frame in islice(frames, 2)]
        if len(first_frames) == 2 and n_frames <= 0:
            n_frames = _count_packets(path)
    except _OpenError as exc:
        return _undecodable(str(exc))

    if not first_frames:
        return _undecodable("no frame could be decoded")
    if len(first_frames) < 2:
        return f"has only {len(first_frames)} frame(s); at least 2 are needed"
    width, height = first_frames[0].width, first_frames[0].height
    return VideoInfo(path=path, n_frames=max(n_frames, len(first_frames)), fps=fps, width=width, height=height)


def _undecodable(reason: str) -> str:
    return f"cannot be decoded as video (is it really a video? Check that it plays in a video player; {reason})"


def _count_packets(path: Path) -> int:
    # Containers such as MKV do not store a frame count. Demuxing without decoding reads
    # the file once at disk speed; one packet is one frame for the codecs cameras use.
    count = 0
    with _open_video(path) as (container, stream):
        try:
            for packet in container.demux(stream):
                count += packet.size > 0
        except av.error.FFmpegError:
            pass  # a damaged tail ends the count; the frames before it are real
    return count


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return _FALLBACK_FPS


# --------------------------------------------------------------------------- decoding


class _OpenError(Exception):
    """The file could not be opened as a video; the message is the reason."""


def _open_container(path: Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """The one place a video file is opened for reading (training, scoring and the live view)."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise _OpenError(_ffmpeg_reason(exc)) from exc
    if not container.streams.video:
        container.close()
        raise _OpenError("the file has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame-threaded decoding: several times faster for H.264
    return container, stream


@contextmanager
def _open_video(path: Path) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    container, stream = _open_container(path)
    try:
        yield container, stream
    finally:
        container.close()


class SeekableVideo:
    """A video file frame by frame with seeking, for the live view: the same decoder, frame rate
    and frame numbering as :func:`read_frames` (so the window's events and the command line's
    rows name the same frames). After a seek the first frame is placed by its timestamp.
    A frame folder opens as frame_folders.SeekableFrameFolder (same interface) at ``fps``."""

    def __new__(cls, path: str | Path, fps: float | None = None):
        if is_frame_folder(Path(path)):
            return frame_folders.SeekableFrameFolder(Path(path), fps)
        return super().__new__(cls)

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self.path = Path(path)
        try:
            self._container, self._stream = _open_container(self.path)
        except _OpenError as exc:
            raise ValueError(str(exc)) from exc
        self.fps = _frame_rate(self._stream)
        frames = int(self._stream.frames or 0)
        if frames <= 0:
            duration = self._stream.duration
            if duration is not None and self._stream.time_base is not None:
                frames = int(round(float(duration * self._stream.time_base) * self.fps))
            elif self._container.duration:
                frames = int(round(self._container.duration / 1_000_000 * self.fps))
        self.frame_count = max(frames, 0)
        self.width = self._stream.codec_context.width
        self.height = self._stream.codec_context.height
        self._start_time = float(self._stream.start_time * self._stream.time_base) if self._stream.start_time else 0.0
        self._skip_until = 0

    def seek(self, index: int) -> None:
        """Position so that the next frame returned has index >= ``index``."""
        index = max(0, index)
        target_s = index / self.fps + self._start_time
        offset = int(target_s / self._stream.time_base) if self._stream.time_base else 0
        self._container.seek(offset, stream=self._stream, backward=True, any_frame=False)
        self._skip_until = index

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """(index, time_s, BGR) from the current position on."""
        for index, frame in _decode(self._container, self._stream, self.path):
            if index >= self._skip_until:
                yield index, index / self.fps, _to_bgr(frame)

    def close(self) -> None:
        self._container.close()


def _ffmpeg_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


@dataclass
class _DamageReport:
    """Warns once per read of a video, at the first damaged spot."""

    path: Path
    warned: bool = False

    def note(self, frame_index: int, exc: BaseException, stopped: bool) -> None:
        if self.warned:
            return
        self.warned = True
        what = "the rest of the file cannot be read" if stopped else "skipping frames that cannot be decoded"
        warnings.warn(
            f"{self.path}: damaged data near frame {frame_index} ({_ffmpeg_reason(exc)}); {what} "
            "(further damage in this file is not reported).",
            CorruptFramesWarning,
            stacklevel=4,
        )


def _decode(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Decoded frames with their index in the file, skipping packets that fail to decode.

    Frames are counted as they come out; after a lost packet the count jumps to where the
    next frame's timestamp says it is, so later indices stay true to the file.
    """
    damage = _DamageReport(path)
    fps = _frame_rate(stream)
    start_time_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    next_index = 0
    lost_packets = 0
    # The first frame is placed by its timestamp too: a recording cut in the middle of a
    # group of pictures silently loses its leading frames until the first keyframe.
    resync = True
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            damage.note(next_index, exc, stopped=True)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            lost_packets += 1
            resync = True
            damage.note(next_index, exc, stopped=False)
            continue
        for frame in frames:
            index = next_index
            if resync:
                if frame.time is not None:
                    index = max(index, round((frame.time - start_time_s) * fps))
                else:
                    index += lost_packets
                resync, lost_packets = False, 0
            yield index, frame
            next_index = index + 1


@contextmanager
def _decoded_frames(path: Path) -> Iterator[Iterator[tuple[int, av.VideoFrame]]]:
    try:
        with _open_video(path) as (container, stream):
            yield _decode(container, stream, path)
    except _OpenError as exc:
        raise UserError(
            f"Cannot open {path} as a video ({exc}); check that the file exists and plays in a "
            "video player, or remove it from video_files_list.py."
        ) from exc


def _to_bgr(frame: av.VideoFrame) -> np.ndarray:
    # Grayscale, YUV and every other pixel format come out as 3-channel BGR like OpenCV's.
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24"))


def read_frames(
    path: Path, stride: int = 1, max_frames: int | None = None, start: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, BGR uint8 HxWx3)`` for frames ``start, start+stride, ...``.

    Decodes sequentially from the beginning (frame-exact, unlike seeking); frames that are
    not yielded are decoded but never converted, which is most of the cost saved.
    Damaged frames are skipped with one :class:`CorruptFramesWarning` per read.
    A frame folder reads only the images it yields (a damaged one is a :class:`UserError`).
    """
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if max_frames is not None and max_frames <= 0:
        return
    if is_frame_folder(Path(path)):
        yield from frame_folders.open_frame_folder(Path(path)).frames(stride, max_frames, start)
        return
    yielded = 0
    with _decoded_frames(Path(path)) as frames:
        for index, frame in frames:
            if index < start or (index - start) % stride:
                continue
            yield index, _to_bgr(frame)
            yielded += 1
            if yielded == max_frames:
                return


def iter_frame_pairs(
    path: Path, stride: int = 1, max_pairs: int | None = None, start: int = 0
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(frame_index, previous_frame, frame)`` for frames 1, 1+stride, 1+2*stride, ...

    ``previous_frame`` is always frame ``frame_index - 1`` (optical flow needs truly
    consecutive frames), so a pair whose previous frame was damaged is left out. With
    stride 1 the same array is one pair's ``frame`` and the next pair's ``previous``:
    treat the arrays as read-only. Pairs before frame ``start`` are decoded but not converted
    or yielded (a resumed extraction); they still count towards ``max_pairs``. A frame folder: as read_frames.
    """
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if max_pairs is not None and max_pairs <= 0:
        return
    if is_frame_folder(Path(path)):
        yield from frame_folders.open_frame_folder(Path(path)).frame_pairs(stride, max_pairs, start)
        return
    yielded = 0
    previous_index = -1
    previous_frame: av.VideoFrame | None = None
    previous_array: np.ndarray | None = None
    with _decoded_frames(Path(path)) as frames:
        for index, frame in frames:
            array = None
            if index >= 1 and (index - 1) % stride == 0 and previous_index == index - 1:
                if index >= start:
                    if previous_array is None:
                        previous_array = _to_bgr(previous_frame)
                    array = _to_bgr(frame)
                    yield index, previous_array, array
                yielded += 1
                if yielded == max_pairs:
                    return
            previous_index, previous_frame, previous_array = index, frame, array
