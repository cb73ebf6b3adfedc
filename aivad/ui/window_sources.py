"""Opening, switching and seeking frame sources, and the zones drawn on each (a part of the main window)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QMessageBox,
)

from aivad.live import recording
from aivad.ui.i18n import tr
from aivad.video.file_source import FileSource
from aivad.video.frame_rate import frame_step, runs_slower, training_frame_rate
from aivad.video.frame_size import FrameSizer, training_frame_size
from aivad.video.live_sources import list_cameras, make_source
from aivad.video.sources import SourceStatus, redact_url


class CameraScan(QObject):
    """Probes camera indices in a thread (a missing index can take a second on some drivers)."""

    found = Signal(list)

    def start(self) -> None:
        threading.Thread(target=lambda: self.found.emit(list_cameras()), daemon=True, name="aivad-camera-scan").start()


class WindowSources:
    """Sources and zones; mixed into MainWindow."""

    # ===================================================================== sources
    def open_source(self, spec: str) -> None:
        """Open a file path, a camera index or a stream URL; problems appear in the banner."""
        spec = str(spec).strip()
        if not spec:
            return
        if not spec.isdigit() and "://" not in spec and not os.path.exists(spec):  # a file or a frame folder
            self.show_error(tr("src_missing", path=spec), owner="source")
            self._automation_fail()
            return
        every_frame = self.act_every_frame.isChecked() or self.automation is not None
        source = make_source(
            spec, every_frame=every_frame, preroll_frames=1 + int(math.ceil(2 * self.detection.smoothing_spin.value()))
        )
        camera = self.camera
        same_view = spec == camera.config.source and camera.config.zones
        zones, roi = (camera.config.zones, camera.config.roi) if same_view else self._load_zones(spec)
        camera.reset_stream()
        self.source = source
        self.source_spec = spec
        camera.config.zones, camera.config.roi = [list(zone) for zone in zones], roi
        if self._banner_owner in ("source", "problem", "size"):
            self.banner.hide()
        self.video.clear()
        self.chart.reset(seekable=source.seekable, frame_count=0)
        self.transport.set_seekable(False)
        self.act_roi_mode.blockSignals(True)
        self.act_roi_mode.setChecked(roi)
        self.act_roi_mode.blockSignals(False)
        self.video.set_zones(zones, roi)
        self._update_zone_label()
        self.source_title.setText(source.label)
        self._remember_recent(spec)
        self.worker.set_source(source)
        self._push_settings()
        self.grid.refresh(camera)
        self._save_cameras()

    def _source_status(self, status: SourceStatus) -> None:
        source = self.source
        if source is None:
            return
        if not self._source_configured and status.state in ("playing", "paused"):
            self._source_configured = True
            self.chart.reset(seekable=source.seekable, frame_count=source.frame_count, fps=source.fps)
            self.transport.set_seekable(source.seekable, source.frame_count, source.fps)
            self._push_settings()
            self._warn_if_size_differs()
        if status.state in ("playing", "paused") and self._banner_owner == "source":
            self.banner.hide()
        if status.state == "reconnecting":
            self.show_error(
                tr(
                    "src_reconnecting",
                    label=source.label,
                    detail=status.detail,
                    seconds=status.retry_in_s,
                    attempt=status.attempt,
                ),
                owner="source",
                level="warning",
            )
        elif status.state == "failed":
            key = "src_camera_failed" if source.kind == "camera" else "src_failed"
            self.show_error(tr(key, label=source.label, detail=status.detail), owner="source")
            self._automation_fail()
        self.transport.set_playing(status.state == "playing" and isinstance(source, FileSource) and not source.paused)
        self._show_source_status(status)

    def _show_source_status(self, status: SourceStatus | None) -> None:
        source = self.source
        if source is None or status is None:
            self.source_title.setText("")
            self.source_state.setText("")
            return
        texts = {
            "opening": tr("src_opening", label=source.label),
            "playing": tr("src_playing" if source.seekable else "src_live", label=source.label),
            "paused": tr("src_paused"),
            "ended": tr("src_ended"),
            "reconnecting": tr(
                "src_reconnecting",
                label=source.label,
                detail=status.detail,
                seconds=status.retry_in_s,
                attempt=status.attempt,
            ),
            "failed": tr("src_failed", label=source.label, detail=status.detail),
            "stopped": "",
        }
        state = status.state
        if state == "ended" and not self._stream_done:
            state = "playing"  # the decoder is done, but the model is still on the last frames
        text = texts.get(state, state)
        details = []
        if source.size != (0, 0):
            details.append(f"{source.size[0]}×{source.size[1]}")
        if source.fps > 0:
            details.append(f"{source.fps:.0f} fps")
        if state in ("playing", "paused", "ended") and details:
            text = " · ".join([text] + details)
        self.source_state.setText(text)

    def _warn_if_size_differs(self) -> None:
        """Say when the source's size or frame rate is not the training footage's, and what is done about it."""
        source, info = self.source, self.checkpoint_info
        if source is None or info is None or source.size == (0, 0):
            return
        notes = []
        sizes = {tuple(v["size"]) for v in info.get("videos") or [] if isinstance(v, dict) and v.get("size")}
        if sizes and tuple(source.size) not in sizes:
            trained = ", ".join(f"{w}×{h}" for w, h in sorted(sizes)[:3])
            size = f"{source.size[0]}×{source.size[1]}"
            # the detector scales frames of the training aspect to the training size (aivad.video.frame_size)
            scaled = FrameSizer(training_frame_size(info)).scale_for((source.size[1], source.size[0])) is not None
            notes.append(tr("size_scaled" if scaled else "size_differs", trained=trained, size=size))
        # and scores a faster stream at the training's time step (aivad.video.frame_rate)
        fps, trained_fps = getattr(source, "fps", 0.0) or None, training_frame_rate(info)
        step = frame_step(fps, trained_fps)
        if step > 1:
            notes.append(tr("rate_stepped", fps=fps, trained=trained_fps, step=step))
        elif runs_slower(fps, trained_fps):
            notes.append(tr("rate_slower", fps=fps, trained=trained_fps))
        if notes:
            self.show_error(" ".join(notes), owner="size", level="info")

    def _source_finished(self) -> None:
        self._stream_done = True
        if self.source is not None:
            self._show_source_status(self.source.status)
        self.transport.set_playing(False)

    def toggle_play(self) -> None:
        if isinstance(self.source, FileSource):
            self._stream_done = False
            if self.source.status.state == "ended":
                self.chart.set_playhead(0)
            self.source.toggle_play()

    def step(self, delta: int) -> None:
        if isinstance(self.source, FileSource):
            self.source.step(delta)

    def jump(self, seconds: float) -> None:
        if isinstance(self.source, FileSource) and self.source.fps > 0:
            self.seek(max(0, self.source.position + int(round(seconds * self.source.fps))))

    def seek(self, index: int) -> None:
        if isinstance(self.source, FileSource):
            self._stream_done = False
            self.source.seek(int(index))
            self.transport.set_position(int(index))
            self.chart.set_playhead(int(index))

    def _every_frame_toggled(self, enabled: bool) -> None:
        if isinstance(self.source, FileSource):
            self.source.set_every_frame(enabled)

    # --- cameras, URLs, recent
    def _camera_menu_opening(self) -> None:
        if self._cameras is None:
            self.scan_cameras()
        self._fill_camera_menu()

    def scan_cameras(self) -> None:
        self._cameras = None
        self._scanning = True
        self._camera_scan.start()
        self._fill_camera_menu()

    def _cameras_found(self, cameras: list) -> None:
        self._cameras = list(cameras)
        self._scanning = False
        self._fill_camera_menu()

    def _fill_camera_menu(self) -> None:
        menu = self.menu_camera
        menu.clear()
        if self._cameras is None:
            action = menu.addAction(tr("act_scanning"))
            action.setEnabled(False)
        elif not self._cameras:
            action = menu.addAction(tr("act_no_cameras"))
            action.setEnabled(False)
        else:
            for index in self._cameras:
                menu.addAction(tr("act_camera_n", index=index), lambda i=index: self.open_source(str(i)))
        menu.addSeparator()
        menu.addAction(self.act_scan_cameras)

    def _remember_recent(self, spec: str) -> None:
        recent = [r for r in self._recent() if r != spec]
        self.settings.setValue("recent_sources", json.dumps([spec] + recent[:9]))

    def _recent(self) -> list[str]:
        try:
            value = json.loads(str(self.settings.value("recent_sources", "[]")))
            return [str(v) for v in value] if isinstance(value, list) else []
        except ValueError:
            return []

    def _fill_recent_menu(self) -> None:
        self.menu_recent.clear()
        for spec in self._recent():
            label = (
                redact_url(spec) if "://" in spec else (f"{tr('act_open_camera')} {spec}" if spec.isdigit() else spec)
            )
            self.menu_recent.addAction(label, lambda s=spec: self.open_source(s))

    # --- dialogs
    def open_video_dialog(self) -> None:
        start = str(self.settings.value("last_video_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, tr("act_open_video"), start, tr("filter_videos"))
        if path:
            self.settings.setValue("last_video_dir", str(Path(path).parent))
            self.open_source(path)

    def open_url_dialog(self) -> None:
        last = str(self.settings.value("last_url", ""))
        url, ok = QInputDialog.getText(self, tr("url_title"), tr("url_prompt"), text=last)
        if ok and url.strip():
            self.settings.setValue("last_url", url.strip())
            self.open_source(url.strip())

    def load_checkpoint_dialog(self) -> None:
        start = str(Path(self.checkpoint_path).parent) if self.checkpoint_path else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, tr("act_load_checkpoint"), start, tr("filter_ckpt"))
        if path:
            self.load_checkpoint(path)

    def choose_output_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("act_output_folder"), self.output_dir)
        if folder:
            self.output_dir = folder
            self.settings.setValue("output_dir", folder)
            self._push_settings()
            self._open_history()  # the history lives in the events folder

    def open_output_folder(self) -> None:
        folder = self.worker.events_folder or Path(self.output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def export_events_dialog(self) -> None:
        folder = self.worker.events_folder or Path(self.output_dir)
        path, _ = QFileDialog.getSaveFileName(self, tr("act_export_csv"), str(folder / "events.csv"), tr("filter_csv"))
        if path:
            self.export_events_csv(path)

    def export_events_csv(self, path: str | Path) -> Path:
        path = Path(path)
        events = sorted(self.events.events, key=lambda e: (e.started_at, e.camera, e.number))  # all cameras
        try:
            recording.write_events_csv(path, events)
        except OSError as error:
            self.show_error(tr("problem", message=str(error)), owner="problem")
            return path
        self.statusBar().showMessage(tr("csv_saved", count=len(events), path=str(path)), 8000)
        return path

    def screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("act_screenshot"), str(Path.home() / "aivad.png"), tr("filter_png")
        )
        if path:
            self.grab().save(path)

    def show_shortcuts(self) -> None:
        QMessageBox.information(self, tr("act_shortcuts"), tr("shortcuts_text"))

    def show_about(self) -> None:
        import aivad

        QMessageBox.about(self, tr("act_about"), tr("about_text") + f"\n\naivad {aivad.__version__}")

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _device_chosen(self, action: QAction) -> None:
        self.settings.setValue("device", action.data())
        if self.checkpoint_path:
            self.load_checkpoint(self.checkpoint_path)

    # ===================================================================== zones
    def _zone_key(self, spec: str) -> str:
        # Zones belong to a camera view: remembered per source.
        return "zones/" + hashlib.sha1(spec.encode("utf-8")).hexdigest()[:16]

    def _load_zones(self, spec: str) -> tuple[list, bool]:
        try:
            data = json.loads(str(self.settings.value(self._zone_key(spec), "{}")))
            zones = [[(float(x), float(y)) for x, y in zone] for zone in data.get("zones", [])]
            roi = bool(data.get("roi", False))
        except (ValueError, TypeError, AttributeError):
            zones, roi = [], False
        return zones, roi

    def _zones_changed(self, zones: list) -> None:
        roi = self.act_roi_mode.isChecked()
        self.video.set_zones(zones, roi)
        self.camera.config.zones, self.camera.config.roi = [list(zone) for zone in zones], roi
        if self.source_spec:
            self.settings.setValue(self._zone_key(self.source_spec), json.dumps({"zones": zones, "roi": roi}))
        self._update_zone_label()
        self._push_settings()
        self.grid.refresh(self.camera)
        self._save_cameras()

    def set_zones(self, zones: list, roi: bool = False) -> None:
        """Set zones programmatically (tests, scripts); same effect as drawing them."""
        self.act_roi_mode.setChecked(roi)
        self._zones_changed([[tuple(p) for p in zone] for zone in zones])

    def clear_zones(self) -> None:
        self._zones_changed([])

    def _update_zone_label(self) -> None:
        count = len(self.video.zones)
        self.status_zones.setText(
            tr("roi_count" if self.act_roi_mode.isChecked() else "zones_count", count=count) if count else ""
        )

    def _edit_mask_toggled(self, editing: bool) -> None:
        self.video.set_editing(editing)

    def _overlays_changed(self) -> None:
        self.video.show_boxes = self.act_boxes.isChecked()
        self.video.show_heatmap = self.act_heatmap.isChecked()
        self.video.update()
        self._push_settings()
