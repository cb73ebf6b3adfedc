"""Driving the window in tests: load a checkpoint, play a source to its end."""

from __future__ import annotations

from pathlib import Path

SIZE = (160, 120)
FPS = 10
REPO_ROOT = Path(__file__).resolve().parents[2]


def load(qtbot, win, checkpoint: Path) -> None:
    with qtbot.waitSignal(win.worker.checkpoint_loaded, timeout=30_000):
        win.load_checkpoint(str(checkpoint))


def play_to_end(qtbot, win, video: Path | None = None) -> None:
    win.act_every_frame.setChecked(True)  # every frame, as fast as the model allows
    if video is not None:
        win.open_source(str(video))
    else:
        win.seek(0)
        win.source.play()
    qtbot.waitUntil(lambda: win._stream_done, timeout=30_000)
