"""The event panel: one list of every camera's events, with thumbnails, filters and export."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aivad.live.recording import EventRecord
from aivad.ui import i18n
from aivad.ui.i18n import tr
from aivad.ui.theme import COLOURS
from aivad.ui.video_view import bgr_to_qimage
from aivad.video.sources import format_time

ATTRIBUTES = ("velocity", "pose", "person", "shape", "appearance", "geometry")  # what an event's main cause can be


class EventPanel(QFrame):
    """One event list for every camera, with thumbnails; double-click opens the event's camera there.

    Filtering hides rows instead of removing them, so an event that ends while hidden is still
    updated in place.
    """

    activated = Signal(object)  # EventRecord
    export_requested = Signal()
    folder_requested = Signal()
    teach_requested = Signal(object)  # EventRecord: "Not an anomaly" (aivad.ui.window_teach)
    undo_requested = Signal()

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
        self.table.itemSelectionChanged.connect(self._selection_changed)
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
        teach = QHBoxLayout()
        self.teach_button = QPushButton()  # the selected event is normal: teach the camera's model
        self.undo_teach_button = QPushButton()
        for button in (self.teach_button, self.undo_teach_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setEnabled(False)
            teach.addWidget(button)
        teach.addStretch(1)
        layout.addLayout(teach)
        self.teach_button.clicked.connect(self._teach_selected)
        self.undo_teach_button.clicked.connect(self.undo_requested)
        self._teaching = False
        self.taught: set[tuple[str, int]] = set()  # (camera, number) of the events taught as normal

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

    # --- teaching normal (aivad.ui.window_teach) ----------------------------------------
    def selected_event(self) -> EventRecord | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return self.events[min(rows)] if rows and min(rows) < len(self.events) else None

    def _selection_changed(self) -> None:
        event = self.selected_event()
        self.teach_button.setEnabled(not self._teaching and event is not None and not event.ongoing)

    def _teach_selected(self) -> None:
        event = self.selected_event()
        if event is not None:
            self.teach_requested.emit(event)

    def set_teaching(self, busy: bool) -> None:
        self._teaching = busy
        self._selection_changed()

    def set_undo_available(self, available: bool) -> None:
        self.undo_teach_button.setEnabled(available)

    def mark_taught(self, event: EventRecord, taught: bool) -> None:
        key = (event.camera, event.number)
        self.taught.add(key) if taught else self.taught.discard(key)
        for row, known in enumerate(self.events):
            if (known.camera, known.number) == key:
                self._fill_row(row, known)

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
        if (event.camera, event.number) in self.taught:
            cause += " · " + tr("event_taught")
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
        self.teach_button.setText(tr("teach_not_anomaly"))
        self.teach_button.setToolTip(tr("teach_tooltip"))
        self.undo_teach_button.setText(tr("teach_undo"))
        for row, event in enumerate(self.events):
            self._fill_row(row, event)
        self._update_count()
