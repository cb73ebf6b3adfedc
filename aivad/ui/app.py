"""The main window and ``main(argv)``.

The window wires independent parts together: cameras (each a frame source in its own thread
and an inference worker, a job on the application's one scheduler, that owns its Detector) and
the widgets. It never runs a model or decodes video itself, so it stays responsive while a
camera reconnects or a checkpoint loads. The big single-camera view shows the selected camera
(see :mod:`aivad.ui.window_cameras`); the grid shows them all.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
)

from aivad.features.camera_motion import NO_PICTURE
from aivad.live.render import score_rgb
from aivad.live.scheduler import InferenceScheduler
from aivad.live.streams import ModelCache
from aivad.ui import i18n
from aivad.ui.automation import Automation, WindowAutomation
from aivad.ui.cameras import Camera
from aivad.ui.i18n import tr
from aivad.ui.preload import preload_model_modules
from aivad.ui.window_camera_view import WindowCameraView
from aivad.ui.window_cameras import WindowCameras
from aivad.ui.window_history import WindowHistory
from aivad.ui.window_layout import DEFAULT_SIZE, WindowLayout
from aivad.ui.window_settings import WindowSettings
from aivad.ui.window_sources import WindowSources
from aivad.ui.window_teach import WindowTeach
from aivad.video.file_source import FileSource


class MainWindow(
    WindowCameras,
    WindowCameraView,
    WindowHistory,
    WindowLayout,
    WindowSettings,
    WindowSources,
    WindowTeach,
    WindowAutomation,
    QMainWindow,
):
    def __init__(self, settings: QSettings | None = None, automation: Automation | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("aivad", "realtime_ui")
        self.automation = automation
        self.frames_shown = 0
        self.threshold = 1.0
        self._last_drain = 0.0
        self._drain_scheduled = False
        self._banner_owner = ""
        self.output_dir = str(Path.home() / "aivad-events")  # replaced by the remembered folder

        self.setWindowTitle(tr("app_title"))
        self.resize(*DEFAULT_SIZE)
        self.setAcceptDrops(True)

        # One scheduler for the whole application: every camera's worker is a job on its threads.
        self.scheduler = InferenceScheduler()
        self.model_cache = ModelCache()  # cameras on one checkpoint hold one copy of its weights
        self.scheduler.start()
        self.cameras: list[Camera] = []
        self.camera: Camera | None = None  # the selected one: the big view, the chart and the settings show it
        self.layout_name = "1"
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._restore_settings()
        self._restore_cameras()
        self._open_history()  # after the cameras: it hands the history to each of them
        self._setup_teaching()
        self.retranslate()
        self.video.setFocus()  # not a spin box: Space and the arrows go to the player

        self._stats_timer = QTimer(self)
        self._stats_timer.timeout.connect(self._refresh_idle_state)
        self._stats_timer.start(500)

    # ===================================================================== translation
    def set_language(self, code: str) -> None:
        self.settings.setValue("language", code)
        i18n.set_language(i18n.system_language() if code == "system" else code)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(tr("app_title"))
        for action in self.findChildren(QAction):
            key = action.property("i18n")
            if key:
                action.setText(tr(key))
        self.menu_file.setTitle(tr("menu_file"))
        self.menu_source.setTitle(tr("menu_source"))
        self.menu_view.setTitle(tr("menu_view"))
        self.menu_device.setTitle(tr("menu_device"))
        self.menu_language.setTitle(tr("menu_language"))
        self.menu_help.setTitle(tr("menu_help"))
        self.menu_camera.setTitle(tr("act_open_camera"))
        self.menu_recent.setTitle(tr("act_recent"))
        for button, key in self.toggle_buttons:
            button.setText(tr(key))
            button.setToolTip(f"{button.defaultAction().text()}  ({button.defaultAction().shortcut().toString()})")
        self.video.placeholder_title = tr("drop_hint_title")
        self.video.placeholder_text = tr("drop_hint")
        for widget in (self.model_card, self.detection, self.events, self.transport):
            widget.retranslate()
        for chip in (self.chip_source, self.chip_processed, self.chip_dropped, self.chip_latency):
            chip.retranslate()
        self._retranslate_cameras()
        self._update_zone_label()
        self._show_source_status(self.source.status if self.source is not None else None)
        self.badge.update()
        self.video.update()
        self.chart.update()

    # ===================================================================== checkpoint
    def load_checkpoint(self, path: str) -> None:
        path = str(path)
        self.checkpoint_path = path
        self.model_card.set_loading(Path(path).name)
        QApplication.processEvents()  # show "Loading…" before the imports below block for a moment
        preload_model_modules(path)
        self.worker.load_checkpoint(path, self.device)

    def _checkpoint_loaded(self, info: dict) -> None:
        self.checkpoint_info = info
        self.checkpoint_path = str(info.get("path", self.checkpoint_path))
        self.model_card.set_info(info)
        # Threshold, smoothing and the alarm rule start where the checkpoint was calibrated.
        self.detection.set_calibrated(
            float(info.get("threshold", 1.0)),
            float(info.get("smoothing_sigma", 0.0)),
            info.get("alarm"),
            info.get("false_alarm_model"),
        )
        if self.camera.config.threshold is not None:  # this camera's own threshold, set up by the user
            self.detection.set_threshold(self.camera.config.threshold, emit=False)
        self.threshold = self.detection.threshold
        self.settings.setValue("last_checkpoint", self.checkpoint_path)
        self.status_device.setText(str(info.get("device", "")).upper())
        if self._banner_owner == "checkpoint":
            self.banner.hide()
        self.statusBar().showMessage(
            tr(
                "ckpt_loaded",
                name=Path(self.checkpoint_path).name,
                backend=info.get("backend", "?"),
                device=str(info.get("device", "?")).upper(),
            ),
            5000,
        )
        self._push_settings()
        self._refresh_idle_state()
        if self._banner_owner == "size":
            self.banner.hide()
        if self._source_configured:
            self._warn_if_size_differs()

    def _checkpoint_failed(self, message: str) -> None:
        self.model_card.set_info(self.checkpoint_info)  # the previous model, if any, is still in use
        self.show_error(tr("ckpt_failed", message=message), owner="checkpoint")
        self._automation_fail()

    # ===================================================================== results
    def _schedule_drain(self) -> None:
        if self._drain_scheduled:
            return
        self._drain_scheduled = True
        # At most ~60 repaints a second however fast the model runs.
        wait_ms = max(0, int(16 - (time.monotonic() - self._last_drain) * 1000))
        QTimer.singleShot(wait_ms, self._drain)

    def _drain(self) -> None:
        """Everything the cameras processed since the last drain: tiles for all, the detail for the selected."""
        self._drain_scheduled = False
        self._last_drain = time.monotonic()
        for camera in list(self.cameras):
            reports, latest, stats = camera.worker.take_pending()
            camera.absorb(reports, latest, stats)
            if camera is self.camera:
                self._show_detail(reports, latest, stats)
            if reports or latest is not None:
                self.grid.refresh(camera, latest)
        self._check_automation()

    def _show_detail(self, reports, latest, stats) -> None:
        for report in reports:
            self.chart.add(report.index, report.time_s, report.score, report.alarm)
        if latest is not None:
            self.frames_shown += 1
            self._show_latest(latest)
        self.chart.update()
        self._show_stats(stats)
        if latest is not None and self.source is not None:
            self._show_source_status(self.source.status)

    def _show_latest(self, latest) -> None:
        self.video.set_frame(latest)
        if self.source is not None and self.source.seekable:
            self.transport.set_position(latest.index)
            self.chart.set_playhead(latest.index)
        result = latest.result
        if result is None:
            self.badge.set_state("idle")
            self.score_value.setText("–")
            self.driver_label.setText("")
        else:
            self.badge.set_state("anomaly" if latest.alarm else "normal")
            self.score_value.setText(f"{result.score:.2f}")
            r, g, b = score_rgb(result.score, latest.threshold)
            self.score_value.setStyleSheet(f"color: rgb({r},{g},{b});")
            # a covered lens scores through the whole-frame stand-in's attributes: the lost picture is the cause
            top = NO_PICTURE if result.camera == NO_PICTURE else result.top_attribute
            self.driver_label.setText(
                tr("driven_by", attribute=i18n.attribute_name(top)) if top and result.score > 0 else ""
            )

    def _show_stats(self, stats) -> None:
        self.chip_source.set_value(tr("fps", value=stats.source_fps) if stats.source_fps else "–")
        self.chip_processed.set_value(tr("fps", value=stats.processed_fps) if stats.processed_fps else "–")
        self.chip_dropped.set_value(str(stats.dropped), warn=stats.dropped > 0)
        paused = isinstance(self.source, FileSource) and self.source.paused
        # Paused frames wait in the hand-over slot on purpose: that wait is not latency.
        live_latency = stats.frames_processed and not paused
        self.chip_latency.set_value(
            tr("ms", value=stats.latency_ms) if live_latency else "–",
            warn=bool(live_latency) and stats.latency_ms > 500,
        )
        self.chip_latency.setToolTip(f"model {stats.inference_ms:.0f} ms")

    def _refresh_idle_state(self) -> None:
        for camera in self.cameras:  # status lines: reconnect countdowns, ended, failed
            self.grid.refresh(camera)
        if self.checkpoint_info is None:
            self.badge.set_state("idle")
        elif (
            self.badge.state == "idle"
            or (self.source is None or self.source.finished)
            and self.badge.state != "anomaly"
        ):
            self.badge.set_state("waiting")

    def _event_update(self, event) -> None:
        self.events.upsert(event)

    def _event_saved(self, event) -> None:
        self.events.upsert(event)
        if event.clip_path:
            self.statusBar().showMessage(tr("event_saved_status", number=event.number, path=event.clip_path), 6000)

    def _event_activated(self, event) -> None:
        camera = next((c for c in self.cameras if c.name == event.camera), None)
        if camera is not None:
            self.select_camera(camera)
        if event.seekable and isinstance(self.source, FileSource) and event.source == self.source.label:
            lead_in = int(round(self.source.fps * 1.0))
            self.seek(max(0, event.start_frame - lead_in))
        elif event.snapshot_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(event.snapshot_path))

    # ===================================================================== errors
    def show_error(self, message: str, owner: str = "", level: str = "error") -> None:
        self._banner_owner = owner
        self.banner.show_message(message, level)
        self.statusBar().showMessage(message, 10000)

    # ===================================================================== Qt events
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasText():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        paths = (
            [url.toLocalFile() or url.toString() for url in mime.urls()] if mime.hasUrls() else [mime.text().strip()]
        )
        for path in paths:
            if path.lower().endswith(".ckpt"):
                self.load_checkpoint(path)
            elif path:
                self.open_source(path)
        event.acceptProposedAction()

    def closeEvent(self, event) -> None:
        if self.automation is None:
            self._save_settings()  # scripted runs never change what the user chose
            self._save_cameras()
        self._stats_timer.stop()
        # Sources first (no new frames), then the jobs (events closed, clips finished), then the threads.
        for camera in self.cameras:
            if camera.source is not None:
                camera.source.stop(0.5)
        for camera in self.cameras:
            camera.worker.stop()
        self.scheduler.stop()
        self._close_history()
        super().closeEvent(event)
