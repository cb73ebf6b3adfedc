"""The main window and ``main(argv)``.

The window wires three independent parts together: a frame source (its own thread), the
inference worker (its own QThread, owns the Detector) and the widgets. It never runs the
model or decodes video itself, so it stays responsive while a camera reconnects or a
checkpoint loads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Qt, QTimer, QUrl, Signal, qInstallMessageHandler
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aivad.ui import i18n, recording
from aivad.ui.chart import ScoreChart
from aivad.ui.i18n import tr
from aivad.ui.render import score_rgb
from aivad.ui.sources import FileSource, FrameSource, SourceStatus, list_cameras, make_source, redact_url
from aivad.ui.theme import apply_theme
from aivad.ui.video_view import VideoView
from aivad.ui.widgets import Banner, DetectionPanel, EventPanel, ModelCard, StatChip, StateBadge, TransportBar
from aivad.ui.worker import DetectionSettings, InferenceWorker, preload_model_modules

DEFAULT_SIZE = (1280, 800)
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".ts", ".mpg", ".mpeg", ".wmv", ".flv"}


class _CameraScan(QObject):
    """Probes camera indices in a thread (a missing index can take a second on some drivers)."""

    found = Signal(list)

    def start(self) -> None:
        threading.Thread(target=lambda: self.found.emit(list_cameras()), daemon=True, name="aivad-camera-scan").start()


class Automation:
    """--frames N --screenshot OUT: process N frames, save the window, exit."""

    def __init__(self, frames: int, screenshot: str | None, timeout_s: float) -> None:
        self.frames = frames
        self.screenshot = screenshot
        self.timeout_s = timeout_s
        self.done = False


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, automation: Automation | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("aivad", "realtime_ui")
        self.automation = automation
        self.source: FrameSource | None = None
        self.source_spec = ""
        self.checkpoint_path = ""
        self.checkpoint_info: dict | None = None
        self.frames_shown = 0
        self.frames_processed = 0
        self.threshold = 1.0
        self._last_drain = 0.0
        self._drain_scheduled = False
        self._banner_owner = ""
        self._source_configured = False
        self._stream_done = False
        self.output_dir = str(Path.home() / "aivad-events")  # replaced by the remembered folder

        self.setWindowTitle(tr("app_title"))
        self.resize(*DEFAULT_SIZE)
        self.setAcceptDrops(True)

        self.worker = InferenceWorker()
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._connect_worker()
        self._restore_settings()
        self.worker.start()
        self._push_settings()
        self.retranslate()
        self.video.setFocus()  # not a spin box: Space and the arrows go to the player

        self._stats_timer = QTimer(self)
        self._stats_timer.timeout.connect(self._refresh_idle_state)
        self._stats_timer.start(500)

    # ===================================================================== construction
    def _build_widgets(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setHandleWidth(1)
        outer.addWidget(self.splitter)

        # Left: header, banner, video, transport, chart.
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(14, 12, 12, 10)
        left_layout.setSpacing(8)

        header = QHBoxLayout()
        header.setSpacing(14)
        self.badge = StateBadge()
        header.addWidget(self.badge)
        score_box = QVBoxLayout()
        score_box.setSpacing(0)
        self.score_value = QLabel("–")
        self.score_value.setObjectName("bigValue")
        font = self.score_value.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.score_value.setFont(font)
        self.score_value.setMinimumWidth(84)
        self.driver_label = QLabel("")
        self.driver_label.setObjectName("muted")
        score_box.addWidget(self.score_value)
        score_box.addWidget(self.driver_label)
        header.addLayout(score_box)
        source_box = QVBoxLayout()
        source_box.setSpacing(0)
        self.source_title = QLabel("")
        self.source_title.setObjectName("value")
        self.source_state = QLabel("")
        self.source_state.setObjectName("muted")
        source_box.addWidget(self.source_title)
        source_box.addWidget(self.source_state)
        header.addLayout(source_box, 1)
        self.chip_source = StatChip("stat_source_fps")
        self.chip_processed = StatChip("stat_processed_fps")
        self.chip_dropped = StatChip("stat_dropped")
        self.chip_latency = StatChip("stat_latency")
        for chip in (self.chip_source, self.chip_processed, self.chip_dropped, self.chip_latency):
            header.addWidget(chip)
        left_layout.addLayout(header)

        self.banner = Banner()
        left_layout.addWidget(self.banner)

        self.video = VideoView()
        left_layout.addWidget(self.video, 1)

        self.transport = TransportBar()
        left_layout.addWidget(self.transport)

        self.chart = ScoreChart()
        chart_frame = QFrame()
        chart_frame.setObjectName("card")
        chart_layout = QVBoxLayout(chart_frame)
        chart_layout.setContentsMargins(1, 1, 1, 1)
        chart_layout.addWidget(self.chart)
        left_layout.addWidget(chart_frame)

        # Right: model, detection settings, events.
        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        side_layout = QVBoxLayout(sidebar)
        side_layout.setContentsMargins(10, 12, 12, 10)
        side_layout.setSpacing(10)
        self.model_card = ModelCard()
        self.detection = DetectionPanel()
        self.events = EventPanel()
        side_layout.addWidget(self.model_card)
        side_layout.addWidget(self.detection)
        side_layout.addWidget(self.events, 1)
        sidebar.setMinimumWidth(330)

        self.splitter.addWidget(left)
        self.splitter.addWidget(sidebar)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([DEFAULT_SIZE[0] - 370, 370])

        self.status_zones = QLabel("")
        self.status_zones.setObjectName("muted")
        self.status_device = QLabel("")
        self.status_device.setObjectName("muted")
        self.statusBar().addPermanentWidget(self.status_zones)
        self.statusBar().addPermanentWidget(self.status_device)

        # Widget signals.
        self.detection.changed.connect(self._push_settings)
        self.chart.seek_requested.connect(self.seek)
        self.transport.play_clicked.connect(self.toggle_play)
        self.transport.step_clicked.connect(self.step)
        self.transport.seek_requested.connect(self.seek)
        self.transport.every_frame_toggled.connect(self._every_frame_toggled)
        self.events.activated.connect(self._event_activated)
        self.events.export_requested.connect(self.export_events_dialog)
        self.events.folder_requested.connect(self.open_output_folder)
        self.video.zones_changed.connect(self._zones_changed)
        self.video.editing_finished.connect(lambda: self.act_edit_mask.setChecked(False))
        self.transport.set_seekable(False)

    def _action(
        self, key: str, shortcut: str | QKeySequence | None = None, slot=None, checkable: bool = False
    ) -> QAction:
        action = QAction(tr(key), self)
        action.setProperty("i18n", key)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            # Window-wide, so shortcuts work whatever panel has focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_open_video = self._action("act_open_video", "O", self.open_video_dialog)
        self.act_open_url = self._action("act_open_url", "U", self.open_url_dialog)
        self.act_scan_cameras = self._action("act_scan_cameras", None, self.scan_cameras)
        self.act_load_checkpoint = self._action("act_load_checkpoint", "Ctrl+K", self.load_checkpoint_dialog)
        self.act_output_folder = self._action("act_output_folder", None, self.choose_output_folder)
        self.act_open_output = self._action("act_open_output", None, self.open_output_folder)
        self.act_export_csv = self._action("act_export_csv", "E", self.export_events_dialog)
        self.act_screenshot = self._action("act_screenshot", "Ctrl+Shift+S", self.screenshot_dialog)
        self.act_quit = self._action("act_quit", "Ctrl+Q", self.close)
        self.act_play = self._action("act_play", "Space", self.toggle_play)
        self.act_step_forward = self._action("act_step_forward", "Right", lambda: self.step(1))
        self.act_step_back = self._action("act_step_back", "Left", lambda: self.step(-1))
        self.act_jump_forward = self._action("act_jump_forward", "Shift+Right", lambda: self.jump(5.0))
        self.act_jump_back = self._action("act_jump_back", "Shift+Left", lambda: self.jump(-5.0))
        self._action("act_step_back", "Home", lambda: self.seek(0)).setProperty("i18n", "")
        self.act_every_frame = self._action("act_every_frame", None, None, checkable=True)
        self.act_every_frame.toggled.connect(self.transport.every_frame.setChecked)
        self.transport.every_frame.toggled.connect(self.act_every_frame.setChecked)
        self.act_boxes = self._action("act_boxes", "B", None, checkable=True)
        self.act_boxes.setChecked(True)
        self.act_boxes.toggled.connect(self._overlays_changed)
        self.act_heatmap = self._action("act_heatmap", "H", None, checkable=True)
        self.act_heatmap.toggled.connect(self._overlays_changed)
        self.act_edit_mask = self._action("act_edit_mask", "M", None, checkable=True)
        self.act_edit_mask.toggled.connect(self._edit_mask_toggled)
        self.act_clear_mask = self._action("act_clear_mask", None, self.clear_zones)
        self.act_roi_mode = self._action("act_roi_mode", None, None, checkable=True)
        self.act_roi_mode.toggled.connect(lambda _: self._zones_changed(self.video.zones))
        self.act_fullscreen = self._action("act_fullscreen", "F11", self.toggle_fullscreen, checkable=True)
        self._action("threshold", "]", lambda: self.detection.nudge_threshold(1.05)).setProperty("i18n", "")
        self._action("threshold", "[", lambda: self.detection.nudge_threshold(1 / 1.05)).setProperty("i18n", "")
        self.act_shortcuts = self._action("act_shortcuts", "F1", self.show_shortcuts)
        self.act_about = self._action("act_about", None, self.show_about)

        self.device_group = QActionGroup(self)
        self.device_actions: dict[str, QAction] = {}
        for device in ("auto", "cpu", "cuda"):
            action = self._action(f"act_device_{device}", None, None, checkable=True)
            action.setData(device)
            self.device_group.addAction(action)
            self.device_actions[device] = action
        self.device_actions["auto"].setChecked(True)
        self.device_group.triggered.connect(self._device_chosen)

        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, key in (("system", "act_lang_system"), ("en", ""), ("ko", "")):
            action = QAction(tr(key) if key else i18n.LANGUAGES[code], self)
            action.setProperty("i18n", key)
            action.setCheckable(True)
            action.setData(code)
            self.language_group.addAction(action)
            self.language_actions[code] = action
        self.language_group.triggered.connect(lambda action: self.set_language(action.data()))

        # Overlay toggles next to the transport controls (short labels; the menu has the long ones).
        self.toggle_buttons: list[tuple[QToolButton, str]] = []
        for action, key in (
            (self.act_boxes, "btn_boxes"),
            (self.act_heatmap, "btn_heatmap"),
            (self.act_edit_mask, "btn_zones"),
        ):
            button = QToolButton()
            button.setObjectName("toggle")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.toggle_buttons.append((button, key))
            self.transport.add_toggle(button)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.menu_file = bar.addMenu("")
        self.menu_file.addAction(self.act_load_checkpoint)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_output_folder)
        self.menu_file.addAction(self.act_open_output)
        self.menu_file.addAction(self.act_export_csv)
        self.menu_file.addAction(self.act_screenshot)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_quit)

        self.menu_source = bar.addMenu("")
        self.menu_source.addAction(self.act_open_video)
        self.menu_camera = QMenu(self)
        self.menu_camera.aboutToShow.connect(self._camera_menu_opening)
        self.menu_source.addMenu(self.menu_camera)
        self.menu_source.addAction(self.act_open_url)
        self.menu_recent = QMenu(self)
        self.menu_recent.aboutToShow.connect(self._fill_recent_menu)
        self.menu_source.addMenu(self.menu_recent)
        self.menu_source.addSeparator()
        for action in (
            self.act_play,
            self.act_step_back,
            self.act_step_forward,
            self.act_jump_back,
            self.act_jump_forward,
            self.act_every_frame,
        ):
            self.menu_source.addAction(action)

        self.menu_view = bar.addMenu("")
        for action in (self.act_boxes, self.act_heatmap):
            self.menu_view.addAction(action)
        self.menu_view.addSeparator()
        for action in (self.act_edit_mask, self.act_roi_mode, self.act_clear_mask):
            self.menu_view.addAction(action)
        self.menu_view.addSeparator()
        self.menu_view.addAction(self.act_fullscreen)

        self.menu_device = bar.addMenu("")
        for action in self.device_actions.values():
            self.menu_device.addAction(action)
        self.menu_language = bar.addMenu("")
        for action in self.language_actions.values():
            self.menu_language.addAction(action)
        self.menu_help = bar.addMenu("")
        self.menu_help.addAction(self.act_shortcuts)
        self.menu_help.addAction(self.act_about)

        self._cameras: list[int] | None = None
        self._camera_scan = _CameraScan(self)
        self._camera_scan.found.connect(self._cameras_found)

    def _connect_worker(self) -> None:
        w = self.worker
        w.results_ready.connect(self._schedule_drain)
        w.checkpoint_loading.connect(lambda path: self.model_card.set_loading(Path(path).name))
        w.checkpoint_loaded.connect(self._checkpoint_loaded)
        w.checkpoint_failed.connect(self._checkpoint_failed)
        w.source_status.connect(self._source_status)
        w.source_finished.connect(self._source_finished)
        w.event_started.connect(self._event_update)
        w.event_finished.connect(self._event_update)
        w.event_saved.connect(self._event_saved)
        w.problem.connect(
            lambda message: self.show_error(tr("problem", message=message), owner="problem", level="warning")
        )

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
        self._update_zone_label()
        self._show_source_status(self.source.status if self.source is not None else None)
        self.badge.update()
        self.video.update()
        self.chart.update()

    # ===================================================================== settings
    def _restore_settings(self) -> None:
        s = self.settings
        if self.automation is None:
            geometry = s.value("window/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            splitter = s.value("window/splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)
        self.detection.hysteresis_spin.setValue(float(s.value("detection/hysteresis", 20.0)))
        self.detection.duration_spin.setValue(float(s.value("detection/min_duration", 0.0)))
        self.detection.save_events.setChecked(_as_bool(s.value("detection/save_events", True)))
        self.act_heatmap.setChecked(_as_bool(s.value("view/heatmap", False)))
        self.act_boxes.setChecked(_as_bool(s.value("view/boxes", True)))
        # Automation analyses every frame so a screenshot after N frames is reproducible.
        self.act_every_frame.setChecked(self.automation is not None or _as_bool(s.value("source/every_frame", False)))
        device = str(s.value("device", "auto"))
        if device in self.device_actions:
            self.device_actions[device].setChecked(True)
        language = str(s.value("language", "system"))
        self.language_actions.get(language, self.language_actions["system"]).setChecked(True)
        default_output = (
            Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation) or Path.home())
            / "aivad-events"
        )
        self.output_dir = str(s.value("output_dir", str(default_output)))

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("detection/hysteresis", self.detection.hysteresis_spin.value())
        s.setValue("detection/min_duration", self.detection.duration_spin.value())
        s.setValue("detection/save_events", self.detection.save_events.isChecked())
        s.setValue("view/heatmap", self.act_heatmap.isChecked())
        s.setValue("view/boxes", self.act_boxes.isChecked())
        s.setValue("source/every_frame", self.act_every_frame.isChecked())
        s.setValue("device", self.device)
        s.setValue("output_dir", self.output_dir)
        s.sync()

    @property
    def device(self) -> str:
        action = self.device_group.checkedAction()
        return str(action.data()) if action is not None else "auto"

    def current_settings(self) -> DetectionSettings:
        return DetectionSettings(
            threshold=self.detection.threshold if self.checkpoint_info is not None else None,
            smoothing_sigma=self.detection.smoothing_spin.value(),
            hysteresis=self.detection.hysteresis_spin.value() / 100.0,
            min_duration_s=self.detection.duration_spin.value(),
            zones=[list(zone) for zone in self.video.zones],
            zones_are_roi=self.act_roi_mode.isChecked(),
            heatmap=self.act_heatmap.isChecked(),
            save_events=self.detection.save_events.isChecked(),
            output_dir=self.output_dir,
        )

    def _push_settings(self) -> None:
        settings = self.current_settings()
        self.worker.set_settings(settings)
        if settings.threshold is not None:
            self.threshold = settings.threshold
        off_level = self.threshold * (1.0 - settings.hysteresis)
        self.chart.set_threshold(self.threshold, off_level)
        if isinstance(self.source, FileSource):
            # Enough earlier frames after a seek for velocity and the smoothing window.
            self.source.preroll_frames = 1 + int(math.ceil(2 * settings.smoothing_sigma))

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

    # ===================================================================== sources
    def open_source(self, spec: str) -> None:
        """Open a file path, a camera index or a stream URL; problems appear in the banner."""
        spec = str(spec).strip()
        if not spec:
            return
        if not spec.isdigit() and "://" not in spec and not os.path.isfile(spec):
            self.show_error(tr("src_missing", path=spec), owner="source")
            self._automation_fail()
            return
        every_frame = self.act_every_frame.isChecked() or self.automation is not None
        source = make_source(
            spec, every_frame=every_frame, preroll_frames=1 + int(math.ceil(2 * self.detection.smoothing_spin.value()))
        )
        self.source = source
        self.source_spec = spec
        self._source_configured = False
        self._stream_done = False
        if self._banner_owner in ("source", "problem", "size"):
            self.banner.hide()
        self.video.clear()
        self.chart.reset(seekable=source.seekable, frame_count=0)
        self.transport.set_seekable(False)
        self.video.set_zones(*self._load_zones(spec))
        self._update_zone_label()
        self.source_title.setText(source.label)
        self._remember_recent(spec)
        self.worker.set_source(source)
        self._push_settings()

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
        """Scores from a camera the model never saw at this size are not comparable to its threshold."""
        source, info = self.source, self.checkpoint_info
        if source is None or info is None or source.size == (0, 0):
            return
        sizes = {tuple(v["size"]) for v in info.get("videos") or [] if isinstance(v, dict) and v.get("size")}
        if sizes and tuple(source.size) not in sizes:
            trained = ", ".join(f"{w}×{h}" for w, h in sorted(sizes)[:3])
            self.show_error(
                tr("size_differs", trained=trained, size=f"{source.size[0]}×{source.size[1]}"),
                owner="size",
                level="info",
            )

    def _source_finished(self) -> None:
        self._stream_done = True
        if self.source is not None:
            self._show_source_status(self.source.status)
        self.transport.set_playing(False)
        if self.automation is not None and not self.automation.done:
            self._automation_finish(0 if self.frames_processed > 0 else 2)

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
        events = sorted(self.events.events, key=lambda e: e.number)
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
        self.act_roi_mode.blockSignals(True)
        self.act_roi_mode.setChecked(roi)
        self.act_roi_mode.blockSignals(False)
        return zones, roi

    def _zones_changed(self, zones: list) -> None:
        roi = self.act_roi_mode.isChecked()
        self.video.set_zones(zones, roi)
        if self.source_spec:
            self.settings.setValue(self._zone_key(self.source_spec), json.dumps({"zones": zones, "roi": roi}))
        self._update_zone_label()
        self._push_settings()

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

    # ===================================================================== results
    def _schedule_drain(self) -> None:
        if self._drain_scheduled:
            return
        self._drain_scheduled = True
        # At most ~60 repaints a second however fast the model runs.
        wait_ms = max(0, int(16 - (time.monotonic() - self._last_drain) * 1000))
        QTimer.singleShot(wait_ms, self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False
        self._last_drain = time.monotonic()
        reports, latest, stats = self.worker.take_pending()
        for report in reports:
            self.chart.add(report.index, report.time_s, report.score, report.alarm)
        self.frames_processed += len(reports)
        if latest is not None:
            self.frames_shown += 1
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
                top = result.top_attribute
                self.driver_label.setText(
                    tr("driven_by", attribute=i18n.attribute_name(top)) if top and result.score > 0 else ""
                )
        self.chart.update()
        self._show_stats(stats)
        if latest is not None and self.source is not None:
            self._show_source_status(self.source.status)
        if self.automation is not None and not self.automation.done and self.frames_processed >= self.automation.frames:
            self._automation_finish(0)

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
        self._stats_timer.stop()
        self.worker.stop()
        if self.source is not None:
            self.source.stop(0.5)
        super().closeEvent(event)


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


# ========================================================================= main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="realtime_ui_advanced_windows.py",
        description="Watch a video, a camera or a stream with a trained AI-VAD checkpoint and see why it alarms.",
    )
    parser.add_argument("--checkpoint", help="trained checkpoint (.ckpt) to load at start")
    parser.add_argument("--source", help="video file, camera index (0, 1, …) or rtsp:// / http:// URL")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="where the model runs (default: last used, else auto)",
    )
    parser.add_argument(
        "--lang", choices=("ko", "en"), default=None, help="interface language (default: last used, else the system's)"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=0,
        help="automation: process this many frames, then exit (with --screenshot: save the window first)",
    )
    parser.add_argument("--screenshot", help="automation: PNG file for a picture of the whole window")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="automation: give up (exit 2) after this many seconds"
    )
    parser.add_argument("--output", help="folder for event snapshots, clips and CSV (remembered)")
    parser.add_argument("--settings-file", help="use this INI file instead of the user's remembered settings")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of unexpected errors")
    return parser


def main(argv: list[str] | None = None, default_checkpoint: str | None = None) -> int:
    args = build_parser().parse_args(argv)
    automated = bool(args.frames or args.screenshot)
    if automated and args.frames <= 0:
        args.frames = 1

    def qt_message(mode, context, message: str) -> None:
        # The headless (offscreen) platform repeats this on every label change; it means nothing.
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("aivad")
    app.setApplicationName("AI-VAD")
    apply_theme(app)
    settings = (
        QSettings(args.settings_file, QSettings.Format.IniFormat)
        if args.settings_file
        else QSettings("aivad", "realtime_ui")
    )
    if args.lang:
        settings.setValue("language", args.lang)
    language = args.lang or str(settings.value("language", "system"))
    i18n.set_language(i18n.system_language() if language == "system" else language)
    if args.device:
        settings.setValue("device", args.device)
    if args.output:
        settings.setValue("output_dir", args.output)

    automation = Automation(args.frames, args.screenshot, args.timeout) if automated else None
    window = MainWindow(settings, automation)

    def report_unexpected(kind, value, tb) -> None:
        # An error inside a Qt slot: show it, keep the window; never a silent crash.
        if args.debug or automated:
            traceback.print_exception(kind, value, tb)
        window.show_error(tr("problem", message=f"{kind.__name__}: {value}"), owner="problem")

    sys.excepthook = report_unexpected
    window.show()

    checkpoint = args.checkpoint
    if checkpoint is None and not automated:
        candidates = [default_checkpoint, str(settings.value("last_checkpoint", "") or "")]
        checkpoint = next((c for c in candidates if c and os.path.isfile(c)), None)
    if checkpoint:
        window.load_checkpoint(checkpoint)
    if args.source:
        window.open_source(args.source)

    if automation is not None:
        if not args.source:
            print("--frames/--screenshot need --source", file=sys.stderr)
            window._automation_finish(2)
        QTimer.singleShot(int(args.timeout * 1000), lambda: window._automation_finish(2))

    code = app.exec()
    window.close()
    return int(code)
