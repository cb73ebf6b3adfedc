"""--frames N --screenshot OUT: run N frames, save a screenshot of the window and exit (tests, docs)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QApplication,
)


class Automation:
    """--frames N --screenshot OUT: process N frames, save the window, exit."""

    def __init__(self, frames: int, screenshot: str | None, timeout_s: float) -> None:
        self.frames = frames
        self.screenshot = screenshot
        self.timeout_s = timeout_s
        self.done = False


class WindowAutomation:
    """The automation harness; mixed into MainWindow."""

    # ===================================================================== automation
    def _automation_fail(self) -> None:
        if self.automation is not None and not self.automation.done:
            # Let the error banner paint before the picture is taken.
            QTimer.singleShot(200, lambda: self._automation_finish(2))

    def _automation_finish(self, code: int) -> None:
        automation = self.automation
        if automation is None or automation.done:
            return
        automation.done = True

        def shoot() -> None:
            if automation.screenshot:
                Path(automation.screenshot).parent.mkdir(parents=True, exist_ok=True)
                self.grab().save(automation.screenshot)
            QApplication.instance().exit(code)

        QTimer.singleShot(150, shoot)
