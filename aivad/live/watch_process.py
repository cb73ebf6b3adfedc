"""How a ``watch`` process runs: it stops cleanly on a signal, and its memory does not creep over days.

Kept apart from :mod:`aivad.live.watch` (the cameras and their evidence): both concern the process, not
any one camera.
"""

from __future__ import annotations

import signal
import sys
import threading


class StopSignals:
    """Ctrl+C, SIGTERM and (Windows) Ctrl+Break set one event instead of killing the process mid-write."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._previous = {}

    def __enter__(self) -> threading.Event:
        names = ("SIGINT", "SIGTERM", "SIGBREAK")
        for number in [getattr(signal, name) for name in names if hasattr(signal, name)]:
            self._previous[number] = signal.signal(number, self._handle)
        return self.stop

    def _handle(self, number, frame) -> None:
        self.stop.set()

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


MALLOC_ARENAS = 2  # glibc's malloc arenas for a watch process (limit_malloc_arenas says why)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas, as ``MALLOC_ARENA_MAX`` does, before any camera thread starts.

    Why: every clip is encoded on a thread of its own, and glibc gives threads arenas of their own
    (up to 8 per core) whose freed memory it rarely returns. Measured over 30 minutes of four looping
    cameras: the lowest reading of each minute grew 122 +- 38 MB per hour with the default arenas and
    -2 +- 4 with two (docs/results.md). Elsewhere (Windows, macOS, musl) there is no such setting, and
    nothing is changed; an explicit ``MALLOC_ARENA_MAX`` in the environment is left as it is.
    """
    import ctypes
    import os

    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-8, int(arenas)))  # -8: M_ARENA_MAX in glibc's malloc.h
    except (OSError, AttributeError):  # not glibc
        return False
