"""The side panels: detection settings (threshold slider with its expected false-alarm rate) and events."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aivad.ui import i18n
from aivad.ui.i18n import tr
from aivad.ui.recording import EventRecord
from aivad.ui.sources import format_time
from aivad.ui.theme import COLOURS
from aivad.ui.video_view import bgr_to_qimage

FLOOR_TOLERANCE = 0.02  # a rate within 2% of the rarest countable one is that one (threshold shown to 3 decimals)
ATTRIBUTES = ("velocity", "pose", "person", "appearance", "geometry")  # what an event's main cause can be


# --------------------------------------------------------------------------------------
class DetectionPanel(QFrame):
    """Threshold, smoothing, hysteresis, minimum duration and merge gap."""

    changed = Signal()
    slider_steps = 1000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.calibrated = 1.0
        self.maximum = 3.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)
        self.title = QLabel()
        self.title.setObjectName("cardTitle")
        layout.addWidget(self.title)

        row = QHBoxLayout()
        self.threshold_label = QLabel()
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setDecimals(3)
        self.threshold_spin.setSingleStep(0.01)
        self.threshold_spin.setRange(0.0, 1000.0)
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_spin.setFixedWidth(84)
        self.threshold_spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.reset_button = QPushButton()
        self.reset_button.setCursor(Qt.CursorShape.PointingHandCursor)
        row.addWidget(self.threshold_label)
        row.addStretch(1)
        row.addWidget(self.threshold_spin)
        row.addWidget(self.reset_button)
        layout.addLayout(row)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setObjectName("threshold")
        self.threshold_slider.setRange(0, self.slider_steps)
        self.threshold_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.threshold_slider)
        # What the slider's position means: the calibrated false-alarm rate (aivad.alarm.RateModel).
        self.rate_model = None
        self.expected_rate = QLabel()
        self.expected_rate.setObjectName("muted")
        self.expected_rate.setWordWrap(True)
        layout.addWidget(self.expected_rate)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        self.smoothing_label = QLabel()
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setRange(0.0, 30.0)
        self.smoothing_spin.setSingleStep(0.5)
        self.smoothing_spin.setDecimals(1)
        self.hysteresis_label = QLabel()
        self.hysteresis_spin = QDoubleSpinBox()
        self.hysteresis_spin.setRange(0.0, 90.0)
        self.hysteresis_spin.setSingleStep(5.0)
        self.hysteresis_spin.setDecimals(0)
        self.hysteresis_spin.setSuffix(" %")
        self.duration_label = QLabel()
        self.duration_spin = QDoubleSpinBox()
        self.duration_spin.setRange(0.0, 30.0)
        self.duration_spin.setSingleStep(0.1)
        self.duration_spin.setDecimals(1)
        self.merge_label = QLabel()
        self.merge_spin = QDoubleSpinBox()
        self.merge_spin.setRange(0.0, 60.0)
        self.merge_spin.setSingleStep(0.5)
        self.merge_spin.setDecimals(1)
        for r, (label, spin) in enumerate(
            (
                (self.smoothing_label, self.smoothing_spin),
                (self.hysteresis_label, self.hysteresis_spin),
                (self.duration_label, self.duration_spin),
                (self.merge_label, self.merge_spin),
            )
        ):
            label.setObjectName("muted")
            label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)  # never cut short
            spin.setKeyboardTracking(False)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setFixedWidth(78)
            # two settings a row: at 1280x800 a one-column list left the event list room for one event
            grid.addWidget(label, r // 2, 2 * (r % 2))
            grid.addWidget(spin, r // 2, 2 * (r % 2) + 1, alignment=Qt.AlignmentFlag.AlignRight)
        layout.addLayout(grid)
        self.save_events = QCheckBox()
        layout.addWidget(self.save_events)

        self.threshold_slider.valueChanged.connect(self._slider_moved)
        self.threshold_spin.valueChanged.connect(self._spin_changed)
        self.reset_button.clicked.connect(lambda: self.set_threshold(self.calibrated, emit=True))
        for spin in (self.smoothing_spin, self.hysteresis_spin, self.duration_spin, self.merge_spin):
            spin.valueChanged.connect(self.changed)
        self.save_events.toggled.connect(self.changed)
        self._updating = False
        self.retranslate()

    # threshold <-> slider: linear over 0..maximum, where maximum is three times the calibrated value
    def set_calibrated(
        self,
        threshold: float,
        smoothing_sigma: float | None = None,
        alarm: dict | None = None,
        false_alarm_model: dict | None = None,
    ) -> None:
        from aivad.alarm import RateModel

        self.rate_model = RateModel.from_dict(false_alarm_model) if false_alarm_model else None
        if alarm:
            for spin, value in (
                (self.hysteresis_spin, (1.0 - alarm["release_ratio"]) * 100.0),
                (self.duration_spin, alarm["min_duration_s"]),
                (self.merge_spin, alarm.get("merge_gap_s", 0.0)),  # rules stored before it merged nothing
            ):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self.calibrated = max(float(threshold), 1e-6)
        self.maximum = self.calibrated * 3.0
        if smoothing_sigma is not None:
            self.smoothing_spin.blockSignals(True)
            self.smoothing_spin.setValue(smoothing_sigma)
            self.smoothing_spin.blockSignals(False)
        self.set_threshold(self.calibrated, emit=False)

    @property
    def threshold(self) -> float:
        return float(self.threshold_spin.value())

    def expected_false_alarms(self) -> float | None:
        return self.rate_model.expected_per_hour(self.threshold) if self.rate_model is not None else None

    def _show_expected_rate(self) -> None:
        rate = self.expected_false_alarms()
        if rate is None:
            self.expected_rate.setText(tr("expected_false_alarms_unknown"))
        else:
            shown = f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}" if rate >= 0.1 else f"{rate:.2g}"
            text = tr("expected_false_alarms", rate=shown)
            rarest, seconds = self.rate_model.rarest_countable_per_hour, f"{self.rate_model.hours * 3600:.0f}"
            if rate < rarest * (1 - FLOOR_TOLERANCE):  # rarer than the footage could count
                text += " " + tr("expected_false_alarms_extrapolated", seconds=seconds)
            elif rate <= rarest * (1 + FLOOR_TOLERANCE):  # the default of short footage: say what more would give
                text += " " + tr("expected_false_alarms_floor", seconds=seconds)
            self.expected_rate.setText(text)

    def set_threshold(self, value: float, emit: bool = True) -> None:
        self._updating = True
        if value > self.maximum:
            self.maximum = value * 1.5
        self.threshold_spin.setValue(value)
        self.threshold_slider.setValue(int(round(value / self.maximum * self.slider_steps)))
        self._updating = False
        self._show_expected_rate()
        if emit:
            self.changed.emit()

    def nudge_threshold(self, factor: float) -> None:
        self.set_threshold(max(0.0, self.threshold * factor))

    def _slider_moved(self, position: int) -> None:
        if self._updating:
            return
        self._updating = True
        self.threshold_spin.setValue(position / self.slider_steps * self.maximum)
        self._updating = False
        self._show_expected_rate()
        self.changed.emit()

    def _spin_changed(self, value: float) -> None:
        if self._updating:
            return
        self.set_threshold(value)

    def retranslate(self) -> None:
        self.title.setText(tr("panel_detection"))
        self.threshold_label.setText(tr("threshold"))
        self.reset_button.setText(tr("threshold_reset"))
        self.reset_button.setToolTip(tr("threshold_reset_tip"))
        self._show_expected_rate()
        self.smoothing_label.setText(tr("smoothing"))
        self.smoothing_label.setToolTip(tr("smoothing_tip"))
        self.smoothing_spin.setToolTip(tr("smoothing_tip"))
        self.smoothing_spin.setSuffix(tr("frames_unit"))
        self.hysteresis_label.setText(tr("hysteresis"))
        self.hysteresis_label.setToolTip(tr("hysteresis_tip"))
        self.hysteresis_spin.setToolTip(tr("hysteresis_tip"))
        self.duration_label.setText(tr("min_duration"))
        self.duration_label.setToolTip(tr("min_duration_tip"))
        self.duration_spin.setToolTip(tr("min_duration_tip"))
        self.duration_spin.setSuffix(tr("seconds_unit"))
        self.merge_label.setText(tr("merge_gap"))
        self.merge_label.setToolTip(tr("merge_gap_tip"))
        self.merge_spin.setToolTip(tr("merge_gap_tip"))
        self.merge_spin.setSuffix(tr("seconds_unit"))
        self.save_events.setText(tr("save_events"))


# --------------------------------------------------------------------------------------
class EventPanel(QFrame):
    """One event list for every camera, with thumbnails; double-click opens the event's camera there.

    Filtering hides rows instead of removing them, so an event that ends while hidden is still
    updated in place.
    """

    activated = Signal(object)  # EventRecord
    export_requested = Signal()
    folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("cardTitle")
        self.count = QLabel()
        self.count.setObjectName("muted")
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.count)
        layout.addLayout(header)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        self.camera_filter = QComboBox()
        self.attribute_filter = QComboBox()
        for combo in (self.camera_filter, self.attribute_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._apply_filter)
            filters.addWidget(combo, 1)
        layout.addLayout(filters)

        self.table = QTableWidget(0, 4)
        self.table.setIconSize(QSize(96, 54))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(44)  # the 64x36 thumbnail and two lines of text
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        # The sidebar is narrow: a small thumbnail and a fixed, eliding camera column leave the time room.
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setColumnWidth(0, 70)
        self.table.setColumnWidth(1, 72)
        self.table.setIconSize(QSize(64, 36))
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.table, 1)

        self.empty = QLabel()
        self.empty.setObjectName("muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)

        buttons = QHBoxLayout()
        self.export_button = QPushButton()
        self.folder_button = QPushButton()
        self.clear_button = QPushButton()
        for button in (self.export_button, self.folder_button, self.clear_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.export_button.clicked.connect(self.export_requested)
        self.folder_button.clicked.connect(self.folder_requested)
        self.clear_button.clicked.connect(self.clear)

        self.events: list[EventRecord] = []
        self.cameras: list[str] = []  # names offered by the camera filter, in the window's order
        self.retranslate()

    # --- data --------------------------------------------------------------------------
    def upsert(self, event: EventRecord) -> None:
        """Add a new event at the top, or update the row of an event already listed.

        Each camera numbers its own events, so an event is known by (camera, number)."""
        for row, known in enumerate(self.events):
            if known.number == event.number and known.camera == event.camera:
                if event.thumbnail is None and known.thumbnail is not None:
                    event.thumbnail = known.thumbnail
                self.events[row] = event
                self._fill_row(row, event)
                self.table.setRowHidden(row, not self.matches(event))
                return
        self.events.insert(0, event)
        self.table.insertRow(0)
        self._fill_row(0, event)
        self.table.setRowHidden(0, not self.matches(event))
        if event.camera and event.camera not in self.cameras:
            self.set_cameras(self.cameras + [event.camera])
        self._update_count()

    def clear(self) -> None:
        self.events.clear()
        self.table.setRowCount(0)
        self._update_count()

    # --- filter --------------------------------------------------------------------------
    def set_cameras(self, names: list[str]) -> None:
        """The cameras the filter offers (the window's, plus any that only left events behind)."""
        chosen = self.camera_filter.currentData()
        self.cameras = list(dict.fromkeys(list(names) + [e.camera for e in self.events if e.camera]))
        self.camera_filter.blockSignals(True)
        self.camera_filter.clear()
        self.camera_filter.addItem(tr("filter_all_cameras"), "")
        for name in self.cameras:
            self.camera_filter.addItem(name, name)
        index = self.camera_filter.findData(chosen) if chosen else 0
        self.camera_filter.setCurrentIndex(max(index, 0))
        self.camera_filter.blockSignals(False)
        self._apply_filter()

    def set_filter(self, camera: str = "", attribute: str = "") -> None:
        self.camera_filter.setCurrentIndex(max(self.camera_filter.findData(camera), 0))
        self.attribute_filter.setCurrentIndex(max(self.attribute_filter.findData(attribute), 0))

    def matches(self, event: EventRecord) -> bool:
        camera = self.camera_filter.currentData() or ""
        attribute = self.attribute_filter.currentData() or ""
        return (not camera or event.camera == camera) and (not attribute or event.main_attribute == attribute)

    def visible_events(self) -> list[EventRecord]:
        return [event for row, event in enumerate(self.events) if not self.table.isRowHidden(row)]

    def _apply_filter(self) -> None:
        for row, event in enumerate(self.events):
            self.table.setRowHidden(row, not self.matches(event))
        self._update_count()

    def _fill_row(self, row: int, event: EventRecord) -> None:
        thumb = QTableWidgetItem()
        if event.thumbnail is not None:
            thumb.setIcon(QIcon(QPixmap.fromImage(bgr_to_qimage(event.thumbnail))))
        thumb.setToolTip(event.snapshot_path or event.clip_path)
        start = format_time(event.start_time_s)
        if event.ongoing:
            second = f"#{event.number} · {tr('event_ongoing')}"
            first = f"{start} –"
        else:
            first = tr("event_time_range", start=start, end=format_time(event.end_time_s or 0.0))
            second = f"#{event.number} · {event.duration_s:.1f}{tr('seconds_unit')}"
        if not event.seekable:
            # Live sources: the wall-clock time is what a guard needs.
            first = event.started_at.strftime("%H:%M:%S")
        time_item = QTableWidgetItem(f"{first}\n{second}")
        cause = i18n.attribute_name(event.main_attribute) if event.main_attribute else "–"
        peak = QTableWidgetItem(f"{event.peak_score:.2f}\n{cause}")
        peak.setForeground(QColor(COLOURS["anomaly"] if not event.ongoing else COLOURS["warning"]))
        if event.ongoing:
            time_item.setForeground(QColor(COLOURS["warning"]))
        camera = QTableWidgetItem(event.camera)
        camera.setToolTip(event.camera)
        for column, item in enumerate((thumb, camera, time_item, peak)):
            item.setData(Qt.ItemDataRole.UserRole, event.number)
            self.table.setItem(row, column, item)

    def _double_clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self.events):
            self.activated.emit(self.events[row])

    def _update_count(self) -> None:
        count = len(self.visible_events())
        self.count.setText(
            "" if not count else tr("events_count_one") if count == 1 else tr("events_count", count=count)
        )
        self.empty.setVisible(not self.events)

    def retranslate(self) -> None:
        self.title.setText(tr("panel_events"))
        self.table.setHorizontalHeaderLabels(
            ["", tr("col_camera"), tr("col_time"), tr("col_peak") + " · " + tr("col_cause")]
        )
        chosen = self.attribute_filter.currentData()
        self.attribute_filter.blockSignals(True)
        self.attribute_filter.clear()
        self.attribute_filter.addItem(tr("filter_all_causes"), "")
        for attribute in ATTRIBUTES:
            self.attribute_filter.addItem(i18n.attribute_name(attribute), attribute)
        self.attribute_filter.setCurrentIndex(max(self.attribute_filter.findData(chosen) if chosen else 0, 0))
        self.attribute_filter.blockSignals(False)
        self.set_cameras(self.cameras)
        self.empty.setText(tr("events_empty"))
        self.export_button.setText(tr("export_csv"))
        self.folder_button.setText(tr("open_folder"))
        self.clear_button.setText(tr("clear_events"))
        for row, event in enumerate(self.events):
            self._fill_row(row, event)
        self._update_count()
