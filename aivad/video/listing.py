"""Which videos the user means: the list file (``video_files_list.py``), folders and wildcard patterns.

A folder stands for the video files in it, or, when it holds images instead, is itself one video (a frame
folder), or else stands for its sub-folders that are frame folders: :func:`videos_in_folder`.
"""

from __future__ import annotations

import glob
import os
import runpy
from collections.abc import Sequence
from pathlib import Path

from aivad.errors import UserError
from aivad.video.frame_folders import is_image, natural_key

# Lower-case suffixes picked up from folders and wildcard patterns. Decodability is still
# decided by decoding, never by this list: it only says which files in a folder to try.
VIDEO_EXTENSIONS = frozenset(
    {
        ".3g2", ".3gp", ".264", ".265", ".asf", ".avi", ".divx", ".dv", ".flv", ".h264",
        ".h265", ".hevc", ".m2ts", ".m2v", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg",
        ".mts", ".mxf", ".ogv", ".ts", ".vob", ".webm", ".wmv",
    }
)  # fmt: skip

GLOB_CHARACTERS = frozenset("*?[")  # an entry with one of these is a wildcard pattern


def load_video_list_file(path: Path) -> list[str]:
    """Run the user's ``video_files_list.py`` and return its ``video_files`` entries."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"The video list file {path} does not exist; create it with a line such as "
            'video_files = [r"D:\\cctv\\cam1.mp4"], or pass the videos with --videos.'
        )
    try:
        namespace = runpy.run_path(str(path))
    except SyntaxError as exc:
        raise UserError(
            f"{path} has a Python syntax error on line {exc.lineno} ({exc.msg})"
            f"{_syntax_error_hint(exc)}; fix that line and run again."
        ) from exc
    except Exception as exc:
        raise UserError(
            f"{path} failed to run ({type(exc).__name__}: {exc}); fix the error in that file and run again."
        ) from exc

    entries = namespace.get("video_files")
    if not isinstance(entries, (list, tuple)) or not all(isinstance(e, (str, os.PathLike)) for e in entries):
        raise UserError(
            f"{path} must define video_files as a list of paths, for example "
            'video_files = ["samples/demo_normal.mp4"]; add or fix that line.'
        )
    entries = [os.fspath(entry) for entry in entries]
    for entry in entries:
        # "D:\new\a.mp4" silently becomes a newline and a bell character in Python, so the
        # path would later look "missing" for no visible reason: say why right here.
        if any(ord(character) < 32 for character in entry):
            raise UserError(
                f"In {path} the entry {entry!r} contains a control character, which is what a "
                'Windows path with single backslashes turns into; write it as r"D:\\new\\a.mp4" '
                'or with forward slashes ("D:/new/a.mp4").'
            )
    return entries


def _syntax_error_hint(exc: SyntaxError) -> str:
    message = str(exc.msg)
    if "unicodeescape" in message or "escape" in message:
        return ' - write Windows paths as r"C:\\Users\\..." or with forward slashes'
    if "UTF-8" in message:
        return " - save the file with UTF-8 encoding"
    return ""


def resolve_videos(entries: Sequence[str | Path], base_dir: Path) -> list[Path]:
    """Expand files, folders and wildcard patterns into a list of video paths (a frame folder is one path).

    Relative entries resolve against ``base_dir``. An entry that matches nothing is kept
    as its own path, so that :func:`aivad.video.files.validate_videos` reports it together with every other
    problem instead of it vanishing from the run.
    """
    base_dir = Path(base_dir)
    resolved: list[Path] = []
    seen: set[str] = set()
    for entry in entries:
        text = os.path.expanduser(os.fspath(entry))
        path = Path(text) if os.path.isabs(text) else base_dir / text
        if path.is_dir():
            found = videos_in_folder(path)
        elif not path.exists() and GLOB_CHARACTERS.intersection(text):
            found = _expand_pattern(text, base_dir)
        else:
            found = [path]
        for video in found or [path]:
            key = os.path.normcase(os.path.abspath(video))
            if key not in seen:
                seen.add(key)
                resolved.append(video)
    if not resolved:
        raise UserError(
            "No video files were given; list them as video_files = [...] in "
            f"{base_dir / 'video_files_list.py'} or pass them with --videos."
        )
    return resolved


def videos_in_folder(folder: Path) -> list[Path]:
    """The videos a folder stands for, by the first rule that finds any:

    1. the video files in it (sorted by name; images beside them are left alone);
    2. the folder itself, when it holds images: one frame folder (aivad.video.frame_folders);
    3. its sub-folders that are frame folders, in natural order (UCSD's ``Train/Train001, Train002, ...``),
       leaving out ``*_gt`` folders, where UCSD keeps each test video's ground-truth masks.

    Empty when none applies. Only one level down: a folder of folders of videos is not searched.
    """
    entries = list(Path(folder).iterdir())
    videos = sorted(p for p in entries if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
    if videos:
        return videos
    if any(is_image(p) and p.is_file() for p in entries):
        return [Path(folder)]
    frame_folders = [p for p in entries if not p.name.lower().endswith("_gt") and is_frame_folder(p)]
    return sorted(frame_folders, key=lambda p: natural_key(p.name))


def is_frame_folder(path: Path) -> bool:
    """A folder that is one video: it holds images and no video file (videos_in_folder's rule 2)."""
    path = Path(path)
    if not path.is_dir():
        return False
    entries = [p for p in path.iterdir() if p.is_file()]
    return any(map(is_image, entries)) and not any(p.suffix.lower() in VIDEO_EXTENSIONS for p in entries)


def _expand_pattern(pattern: str, base_dir: Path) -> list[Path]:
    # root_dir keeps glob characters inside base_dir itself (e.g. "[2024]") literal.
    matches = sorted(glob.glob(pattern, root_dir=base_dir, recursive=True))
    # A pattern ending in a literal suffix ("*.dav") names the files the user wants even if
    # the suffix is unknown to us; "*" alone must not drag in Thumbs.db or notes.txt.
    suffix = Path(pattern).suffix
    explicit_suffix = bool(suffix) and not GLOB_CHARACTERS.intersection(suffix)
    videos: list[Path] = []
    for match in matches:
        path = base_dir / match
        if path.is_dir():
            videos.extend(videos_in_folder(path))
        elif path.is_file() and (explicit_suffix or path.suffix.lower() in VIDEO_EXTENSIONS):
            videos.append(path)
    return videos
