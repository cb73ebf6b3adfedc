"""Watch a camera, a stream or a video with a trained AI-VAD checkpoint, live.

    python realtime_ui_advanced_windows.py
    python realtime_ui_advanced_windows.py --checkpoint aivad_finetuned.ckpt --source 0
    python realtime_ui_advanced_windows.py --source rtsp://user:pass@192.168.0.10:554/stream1

Everything lives in aivad/ui/; this file only holds the defaults a user may want to edit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# --- user defaults -------------------------------------------------------------------
# Loaded at start when --checkpoint is not given: the first one that exists wins,
# then the checkpoint used last time.
DEFAULT_CHECKPOINTS = ("aivad_finetuned.ckpt", "aivad_from_scratch.ckpt")


def _default_checkpoint() -> str | None:
    here = Path(__file__).resolve().parent
    for name in DEFAULT_CHECKPOINTS:
        for folder in (Path.cwd(), here):
            if (folder / name).is_file():
                return str(folder / name)
    return None


def _prepare_windows_console() -> None:
    # Korean file names and messages in a cp949 console must not raise UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    if sys.platform == "win32":
        try:
            import ctypes

            # Own taskbar icon/group instead of python.exe's.
            ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID("aivad.realtime_ui")
        except Exception:
            pass
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")


if __name__ == "__main__":
    # Spawn-safe: nothing above starts threads or processes at import time.
    import multiprocessing

    multiprocessing.freeze_support()
    _prepare_windows_console()
    from aivad.ui.main import main

    sys.exit(main(sys.argv[1:], default_checkpoint=_default_checkpoint()))
