"""The main window's widgets, actions and menus, built once (a part of :class:`aivad.ui.app.MainWindow`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aivad.devices import DEVICE_CHOICES
from aivad.ui import i18n
from aivad.ui.cameras import LAYOUTS
from aivad.ui.chart import ScoreChart
from aivad.ui.event_panel import EventPanel
from aivad.ui.grid import CameraGrid
from aivad.ui.i18n import tr
from aivad.ui.panels import DetectionPanel
from aivad.ui.video_view import VideoView
from aivad.ui.widgets import Banner, ModelCard, StatChip, StateBadge, TransportBar
from aivad.ui.window_sources import CameraScan

DEFAULT_SIZE = (1280, 800)
SIDEBAR_WIDTH = 384  # the alarm-rule settings sit two a row, labels whole in English and Korean


class WindowLayout:
    """Builds the window; mixed into MainWindow."""

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

        # Left: the camera bar and the banner over either the grid or the selected camera's
        # detail (header, video, transport, chart).
        left = QWidget()
        outer_left = QVBoxLayout(left)
        outer_left.setContentsMargins(14, 8, 12, 10)
        outer_left.setSpacing(8)
        outer_left.addLayout(self._build_camera_bar())
        self.banner = Banner()
        outer_left.addWidget(self.banner)
        self.stack = QStackedWidget()
        outer_left.addWidget(self.stack, 1)
        self.grid = CameraGrid()
        self.stack.addWidget(self.grid)
        self.detail_page = QWidget()
        self.stack.addWidget(self.detail_page)
        self.stack.setCurrentWidget(self.detail_page)
        left_layout = QVBoxLayout(self.detail_page)
        left_layout.setContentsMargins(0, 0, 0, 0)
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
        self.splitter.setSizes([DEFAULT_SIZE[0] - SIDEBAR_WIDTH, SIDEBAR_WIDTH])

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
        self.grid.tile_clicked.connect(self.select_camera)
        self.grid.edit_requested.connect(self.edit_camera_dialog)
        self.grid.remove_requested.connect(self.remove_camera)
        self.grid.add_requested.connect(self.add_camera_dialog)

    def _build_camera_bar(self) -> QHBoxLayout:
        """Which camera the big view shows, back to the grid, the layout, adding a camera."""
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.back_button = QPushButton()
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.back_button.clicked.connect(self.show_grid)
        self.back_button.hide()
        self.camera_choice = QComboBox()
        self.camera_choice.setMinimumWidth(160)
        self.camera_choice.activated.connect(self._camera_chosen)
        bar.addWidget(self.back_button)
        bar.addWidget(self.camera_choice)
        bar.addStretch(1)
        self.layout_buttons: dict[str, QToolButton] = {}
        for name in LAYOUTS:
            button = QToolButton()
            button.setObjectName("toggle")
            button.setText({"1": "1", "2x2": "2 × 2", "3x3": "3 × 3"}[name])
            button.setCheckable(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _checked=False, n=name: self.set_layout(n))
            self.layout_buttons[name] = button
            bar.addWidget(button)
        self.add_button = QPushButton()
        self.add_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.add_button.clicked.connect(self.add_camera_dialog)
        bar.addWidget(self.add_button)
        return bar

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
        self.act_history = self._action("act_history", "Ctrl+H", self.show_history)
        self.act_webhook = self._action("act_webhook", None, self.set_webhook_dialog)
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

        self.act_add_camera = self._action("act_add_camera", "Ctrl+Shift+N", self.add_camera_dialog)
        self.act_edit_camera = self._action("act_edit_camera", None, lambda: self.edit_camera_dialog())
        self.act_remove_camera = self._action("act_remove_camera", None, self.remove_selected_camera)
        self.act_show_grid = self._action("act_show_grid", "G", self.show_grid)
        self.layout_group = QActionGroup(self)
        self.layout_actions: dict[str, QAction] = {}
        for name in LAYOUTS:
            action = self._action(
                f"act_layout_{name}", None, lambda _=False, n=name: self.set_layout(n), checkable=True
            )
            self.layout_group.addAction(action)
            self.layout_actions[name] = action

        self.device_group = QActionGroup(self)
        self.device_actions: dict[str, QAction] = {}
        for device in DEVICE_CHOICES:
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
        self.menu_file.addAction(self.act_history)
        self.menu_file.addAction(self.act_webhook)
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

        self.menu_cameras = bar.addMenu("")
        for action in (self.act_add_camera, self.act_edit_camera, self.act_remove_camera):
            self.menu_cameras.addAction(action)
        self.menu_cameras.addSeparator()
        self.menu_cameras.addAction(self.act_show_grid)
        for action in self.layout_actions.values():
            self.menu_cameras.addAction(action)

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
        self._camera_scan = CameraScan(self)
        self._camera_scan.found.connect(self._cameras_found)
