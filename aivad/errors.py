"""The one exception type for mistakes a user can make and fix, and the up-front checks that raise it.

Anything raised as ``UserError`` is shown as a single sentence (no traceback unless
``--debug``) and the process exits with status 2. Everything else is a bug.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class UserError(Exception):
    """A problem the user caused and can fix; the message says what to do."""


def check_output_paths(
    files: Mapping[str, Path | None],
    folders: Mapping[str, Path | None] | None = None,
    inputs: Mapping[str, Path | None] | None = None,
) -> None:
    """Every output a command will write, checked before any work starts (flag -> path; None = not asked for).

    Without this a path under a file, or a folder where a file goes, surfaces only when the result is
    written, after minutes or hours of scoring or training, as an OSError the user cannot read.
    ``files`` are written as files, ``folders`` are created as folders; missing folders on the way are
    created by the writers. ``inputs`` are files the command reads: no output may replace one of them.
    """
    seen: dict[Path, str] = {}
    for flag, path in (*_given(files), *_given(folders or {})):
        key = path.resolve()
        if key in seen:
            raise UserError(f"{seen[key]} and {flag} both name {path}; give each its own path.")
        seen[key] = flag
    for flag, path in _given(inputs or {}):
        if path.resolve() in seen:
            raise UserError(
                f"{seen[path.resolve()]} {path} is also the {flag} this command reads; give the output another name."
            )
    for flag, path in _given(files):
        if path.is_dir():
            raise UserError(f"{flag} {path} is a folder; give a file name such as {path / _example_name(flag)}.")
        _check_parent(flag, path)
    for flag, path in _given(folders or {}):
        if path.exists() and not path.is_dir():
            raise UserError(f"{flag} {path} is a file, not a folder; give a folder path, or move that file away.")
        _check_parent(flag, path)


def _given(paths: Mapping[str, Path | None]) -> list[tuple[str, Path]]:
    return [(flag, Path(path)) for flag, path in paths.items() if path is not None]


def _example_name(flag: str) -> str:
    names = {"--csv": "scores.csv", "--json": "report.json", "--annotated": "annotated.mp4", "--events": "events.csv"}
    return names.get(flag, "events.sqlite3" if flag == "--events-db" else "model.ckpt")


def _check_parent(flag: str, path: Path) -> None:
    """The nearest folder on the path that exists must be a folder the user may write in."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(
            f"{flag} {path} cannot be created because {parent} is a file, not a folder; choose a path in a "
            "folder, or move that file away."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path} cannot be written: the folder {parent} is not writable; choose another folder.")
