"""'Not an anomaly' on an event or a chart range: teach the camera's model that stretch, switch to it, undo.

The teaching itself is :func:`aivad.model.teach.teach`, the same as ``python -m aivad teach``; it runs
on a thread of its own, since extracting and embedding a stretch takes seconds to minutes, and the
window only ever hands it paths and frame numbers and gets a path back (it never touches tensors).
The camera then loads the new checkpoint as an edited camera would; Undo loads the previous one.
The taught file stays on disk either way: it is the user's to keep or delete.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from aivad.ui.i18n import tr


class _TeachSignals(QObject):
    """From the teaching thread to the GUI thread (queued: the receiver lives there)."""

    done = Signal(object, object, str, str)  # camera, event, previous checkpoint, taught checkpoint
    failed = Signal(str)


class WindowTeach:
    def _setup_teaching(self) -> None:
        self._teach_signals = _TeachSignals(self)
        self._teach_signals.done.connect(self._taught)
        self._teach_signals.failed.connect(self._teach_failed)
        self._teach_thread: threading.Thread | None = None
        self._undo_teaching: list[tuple[object, object, str, str]] = []  # (camera, event, previous, taught)
        self._taught_ranges: dict[int, list[tuple[int, int]]] = {}  # id(camera) -> chart ranges taught
        self.events.teach_requested.connect(self.teach_event)
        self.events.undo_requested.connect(self.undo_teaching)
        self.chart.teach_range_requested.connect(self.teach_range)

    @property
    def teaching(self) -> bool:
        return self._teach_thread is not None and self._teach_thread.is_alive()

    def teach_event(self, event) -> None:
        """Teach the event's camera checkpoint that the event's frames are normal (in the background)."""
        from aivad.model.teach import Stretch

        camera = next((c for c in self.cameras if c.name == event.camera), self.camera)
        if event.ongoing:
            return self.show_error(tr("teach_ongoing"), owner="teach", level="warning")
        video = event_video(event, camera)
        if not event.seekable or video is None:
            return self.show_error(tr("teach_not_file"), owner="teach", level="warning")
        self._start_teaching(camera, event, Stretch(video, int(event.start_frame), int(event.end_frame)))

    def teach_range(self, first: int, last: int) -> None:
        """Teach the shown camera's checkpoint that frames first..last of its video are normal (a chart range)."""
        from aivad.model.teach import Stretch

        camera = self.camera
        source = camera.config.source if camera is not None else ""
        if not source or not Path(source).exists():  # a file or a frame folder
            return self.show_error(tr("teach_not_file"), owner="teach", level="warning")
        self._start_teaching(camera, (int(first), int(last)), Stretch(Path(source), int(first), int(last)))

    def _start_teaching(self, camera, what, stretch) -> None:
        """``what``: the event taught, or the (first, last) range of the chart; marked as taught when done."""
        from aivad.model.teach import default_output

        checkpoint = camera.config.checkpoint if camera is not None else ""
        if self.teaching:
            return self.show_error(tr("teach_busy"), owner="teach", level="warning")
        if not checkpoint:
            return self.show_error(tr("teach_not_file"), owner="teach", level="warning")
        output = default_output(Path(checkpoint))
        self.events.set_teaching(True)
        self.statusBar().showMessage(tr("teach_running", name=Path(output).name))
        self._teach_thread = threading.Thread(
            target=self._teach_in_background,
            args=(camera, what, Path(checkpoint), stretch, output, self.device),  # read here: Qt state
            name="aivad-teach",
            daemon=True,
        )
        self._teach_thread.start()

    def _teach_in_background(self, camera, event, checkpoint: Path, stretch, output: Path, device: str) -> None:
        from aivad.errors import UserError
        from aivad.model.teach import teach

        try:
            teach(checkpoint, [stretch], output, device=device, log=lambda line: None)
        except UserError as error:
            self._teach_signals.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001  (the window stays up and says what failed)
            self._teach_signals.failed.emit(f"{type(error).__name__}: {error}")
        else:
            self._teach_signals.done.emit(camera, event, str(checkpoint), str(output))

    def _taught(self, camera, event, previous: str, taught: str) -> None:
        self.events.set_teaching(False)
        if camera not in self.cameras:  # removed while it was being taught
            return
        self._undo_teaching.append((camera, event, previous, taught))
        self.update_camera(camera, replace(camera.config, checkpoint=taught))
        self._mark_taught(camera, event, True)
        self.events.set_undo_available(True)
        self.statusBar().showMessage(tr("teach_done", name=Path(taught).name), 10000)

    def _teach_failed(self, message: str) -> None:
        self.events.set_teaching(False)
        self.show_error(tr("teach_failed", message=message), owner="teach")

    def undo_teaching(self) -> None:
        """Back to the checkpoint the camera had before the last lesson."""
        if not self._undo_teaching:
            return
        camera, event, previous, taught = self._undo_teaching.pop()
        if camera in self.cameras and camera.config.checkpoint == taught:
            self.update_camera(camera, replace(camera.config, checkpoint=previous))
        self._mark_taught(camera, event, False)
        self.events.set_undo_available(bool(self._undo_teaching))
        self.statusBar().showMessage(tr("teach_undone", name=Path(previous).name), 10000)

    def _mark_taught(self, camera, what, taught: bool) -> None:
        """The event's row says "taught normal"; a chart range shows as a green band on the shown camera's chart."""
        if not isinstance(what, tuple):
            return self.events.mark_taught(what, taught)
        ranges = self._taught_ranges.setdefault(id(camera), [])
        if taught:
            ranges.append(what)
        elif what in ranges:
            ranges.remove(what)
        if camera is self.camera:
            self.show_taught_ranges(camera)
            self.chart.clear_selection()

    def show_taught_ranges(self, camera) -> None:
        """The chart shows the ranges taught on the camera it shows (select_camera calls this too)."""
        self.chart.taught_ranges = list(getattr(self, "_taught_ranges", {}).get(id(camera), []))  # before set-up: none
        self.chart.update()


def event_video(event, camera) -> Path | None:
    """The video file an event came from: the list shows only its name, the camera holds the path."""
    sources = [event.source, getattr(getattr(camera, "config", None), "source", "")]
    for source in sources:
        if source and Path(source).exists() and Path(source).name == Path(event.source).name:
            return Path(source)
    return None
