"""The event history window: past sessions' events from the history database (aivad.live.event_store).

The live event panel shows this session only and is cleared at will; this dialog reads what every
session, camera and command-line run wrote, filtered in the database (camera, time range,
attribute), so a week of events on several cameras stays quick to browse and export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aivad.live.event_store import EventStore, StoredEvent
from aivad.ui import i18n
from aivad.ui.i18n import tr
from aivad.ui.theme import COLOURS

COLUMNS = ("hist_col_time", "hist_col_camera", "hist_col_duration", "hist_col_peak", "hist_col_cause", "hist_col_files")


def evidence_text(event: StoredEvent) -> str:
    """Which evidence files are still on disk ("snapshot · clip"), "–" when none."""
    files = (("hist_snapshot", event.snapshot_path), ("hist_clip", event.clip_path))
    return " · ".join(tr(key) for key, path in files if path and Path(path).is_file()) or "–"


class EventHistoryDialog(QDialog):
    """Filters on top, the events newest first, export and refresh below."""

    activated = Signal(object)  # StoredEvent double-clicked: the window may open its clip or snapshot

    def __init__(self, store: EventStore, parent: QWidget | None = None, limit: int = 1000) -> None:
        super().__init__(parent)
        self.store = store
        self.limit = limit  # rows shown; the export takes every matching event
        self.events: list[StoredEvent] = []
        # Asks where to save the CSV (suggested path in, chosen path or "" out); tests replace it.
        self.ask_save_path: Callable[[str], str] = self._ask_save_path
        self.resize(860, 520)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        filters = QFrame()
        filters.setObjectName("card")
        grid = QGridLayout(filters)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(10)
        self.camera_label = QLabel()
        self.camera_combo = QComboBox()
        self.attribute_label = QLabel()
        self.attribute_combo = QComboBox()
        self.since_check = QCheckBox()
        self.until_check = QCheckBox()
        now = QDateTime.currentDateTime()
        self.since_edit = self._date_edit(now.addDays(-7))
        self.until_edit = self._date_edit(now)
        self.refresh_button = QPushButton()
        for label in (self.camera_label, self.attribute_label):
            label.setObjectName("muted")
        grid.addWidget(self.camera_label, 0, 0)
        grid.addWidget(self.camera_combo, 0, 1)
        grid.addWidget(self.since_check, 0, 2)
        grid.addWidget(self.since_edit, 0, 3)
        grid.addWidget(self.attribute_label, 1, 0)
        grid.addWidget(self.attribute_combo, 1, 1)
        grid.addWidget(self.until_check, 1, 2)
        grid.addWidget(self.until_edit, 1, 3)
        grid.addWidget(self.refresh_button, 0, 4, 2, 1)
        grid.setColumnStretch(1, 1)
        layout.addWidget(filters)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in range(len(COLUMNS)):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.table, 1)

        footer = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.export_button = QPushButton()
        self.close_button = QPushButton()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.export_button)
        footer.addWidget(self.close_button)
        layout.addLayout(footer)
        for button in (self.refresh_button, self.export_button, self.close_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)

        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.close_button.clicked.connect(self.close)
        self.camera_combo.currentIndexChanged.connect(self._reload)
        self.attribute_combo.currentIndexChanged.connect(self._reload)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._reload)
            edit.setEnabled(False)
            edit.dateTimeChanged.connect(self._reload)
        self._filling = False
        self.retranslate()  # fills the table too

    @staticmethod
    def _date_edit(moment: QDateTime) -> QDateTimeEdit:
        edit = QDateTimeEdit(moment)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    # --- filters -----------------------------------------------------------------------
    def filters(self) -> dict:
        """The current filters as :meth:`EventStore.events` takes them."""
        camera = self.camera_combo.currentData()
        since = until = None
        # The edits show minutes: "from 09:05" starts at 09:05:00, "to 09:05" ends at 09:05:59.999.
        if self.since_check.isChecked():
            since = self.since_edit.dateTime().toPython().replace(second=0, microsecond=0)
        if self.until_check.isChecked():
            until = self.until_edit.dateTime().toPython().replace(second=59, microsecond=999_000)
        return {
            "cameras": None if camera is None else [camera],
            "since": since,
            "until": until,
            "attribute": self.attribute_combo.currentData() or None,
        }

    def set_camera(self, camera: str | None) -> None:
        index = self.camera_combo.findData(camera) if camera is not None else 0
        self.camera_combo.setCurrentIndex(max(0, index))

    def set_range(self, since: datetime | None, until: datetime | None) -> None:
        self._filling = True
        for check, edit, moment in (
            (self.since_check, self.since_edit, since),
            (self.until_check, self.until_edit, until),
        ):
            check.setChecked(moment is not None)
            if moment is not None:
                edit.setDateTime(QDateTime.fromString(moment.isoformat(timespec="seconds"), Qt.DateFormat.ISODate))
        self._filling = False
        self._reload()

    # --- data --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the cameras and attributes the database knows, then the events."""
        self._filling = True
        self._refill_combo(self.camera_combo, "hist_all_cameras", [(name, name) for name in self.store.cameras()])
        self._refill_combo(
            self.attribute_combo,
            "hist_all_attributes",
            [(i18n.attribute_name(name), name) for name in self.store.attributes()],
        )
        self._filling = False
        self._reload()

    @staticmethod
    def _refill_combo(combo: QComboBox, all_key: str, entries: list[tuple[str, str]]) -> None:
        chosen = combo.currentData()
        combo.clear()
        combo.addItem(tr(all_key), None)
        for text, data in entries:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)

    def _reload(self, *_) -> None:
        if self._filling:
            return
        self.events = self.store.events(limit=self.limit, **self.filters())
        self.table.setRowCount(len(self.events))
        for row, event in enumerate(self.events):
            self._fill_row(row, event)
        self._show_count()

    def _fill_row(self, row: int, event: StoredEvent) -> None:
        cause = i18n.attribute_name(event.main_attribute) if event.main_attribute else "–"
        items = (
            QTableWidgetItem(event.started_at.strftime("%Y-%m-%d %H:%M:%S")),
            QTableWidgetItem(event.camera),
            QTableWidgetItem(f"{event.duration_s:.1f}{tr('seconds_unit')}"),
            QTableWidgetItem(f"{event.peak_score:.2f}"),
            QTableWidgetItem(cause),
            QTableWidgetItem(evidence_text(event)),
        )
        items[0].setToolTip(event.source)
        items[3].setForeground(QColor(COLOURS["anomaly"]))
        items[5].setToolTip("\n".join(p for p in (event.snapshot_path, event.clip_path) if p))
        for column, item in enumerate(items):
            item.setData(Qt.ItemDataRole.UserRole, event.id)
            self.table.setItem(row, column, item)

    def _show_count(self) -> None:
        count = len(self.events)
        if not count:
            self.status.setText(tr("hist_empty"))
        elif self.limit is not None and count >= self.limit:
            self.status.setText(tr("hist_count_limited", count=count))
        else:
            self.status.setText(tr("events_count_one") if count == 1 else tr("events_count", count=count))

    def _double_clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self.events):
            self.activated.emit(self.events[row])

    # --- export ------------------------------------------------------------------------
    def _ask_save_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, tr("act_export_csv"), suggested, tr("filter_csv"))
        return path

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Every event matching the filters (not only the rows shown); asks where when no path is given."""
        if path is None:
            suggested = self.store.path.parent / f"events-{datetime.now():%Y%m%d-%H%M}.csv"
            path = self.ask_save_path(str(suggested))
            if not path:
                return None
        path = Path(path)
        try:
            count = self.store.export_csv(path, **self.filters())
        except OSError as error:
            self.status.setText(tr("problem", message=str(error)))
            return None
        self.status.setText(tr("csv_saved", count=count, path=str(path)))
        return path

    def retranslate(self) -> None:
        self.setWindowTitle(tr("hist_title"))
        self.camera_label.setText(tr("hist_camera"))
        self.attribute_label.setText(tr("hist_attribute"))
        self.since_check.setText(tr("hist_from"))
        self.until_check.setText(tr("hist_to"))
        self.refresh_button.setText(tr("hist_refresh"))
        self.export_button.setText(tr("export_csv"))
        self.close_button.setText(tr("hist_close"))
        self.table.setHorizontalHeaderLabels([tr(key) for key in COLUMNS])
        self.refresh()
