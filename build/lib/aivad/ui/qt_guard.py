"""Work around a PySide6 reference-count bug that kills the app on Python 3.11.

PySide6-Essentials 6.12.0 drops one reference to ``None`` on every call of a method that
returns nothing (``label.setText``, ``processEvents`` …) and to ``True``/``False`` on
methods returning bool. Python 3.12+ makes these objects immortal, so nothing happens
there; on 3.11 the count reaches zero after some tens of thousands of calls, a few
minutes of live video, and the interpreter aborts with "none_dealloc". Giving the three
singletons a huge reference count does what 3.12 does: they can never be freed.
"""

from __future__ import annotations

import ctypes
import sys

_MARGIN = 1 << 40  # ~10^12 calls: years of frames


def protect_singletons() -> None:
    if sys.version_info >= (3, 12) or getattr(protect_singletons, "done", False):
        return
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(singleton)).value += _MARGIN
    protect_singletons.done = True
