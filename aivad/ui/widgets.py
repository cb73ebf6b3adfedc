"""Panels around the video: state badge, statistics, banner, model card, detection
controls, event list and transport bar.

Every widget has ``retranslate()`` so switching language rebuilds its text in place.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
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
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aivad.ui import i18n
from aivad.ui.i18n import tr
from aivad.ui.recording import EventRecord
from aivad.ui.sources import format_time
from aivad.ui.theme import COLOURS
from aivad.ui.video_view import bgr_to_qimage


def glyph_icon(kind: str, colour: str = COLOURS["text"], size: int = 16) -> QIcon:
    """Transport icons drawn here: font glyphs like ⏯ are missing from many Windows/Linux fonts."""
    scale = 2  # crisp on 200 % displays
    pixmap = QPixmap(size * scale, size * scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(scale, scale)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    s = float(size)
    if kind == "play":
        painter.drawPolygon(
            QPolygonF([QPointF(s * 0.28, s * 0.18), QPointF(s * 0.82, s * 0.5), QPointF(s * 0.28, s * 0.82)])
        )
    elif kind == "pause":
        painter.drawRoundedRect(QRectF(s * 0.25, s * 0.2, s * 0.17, s * 0.6), 1, 1)
        painter.drawRoundedRect(QRectF(s * 0.58, s * 0.2, s * 0.17, s * 0.6), 1, 1)
    elif kind == "step_back":
        painter.drawRect(QRectF(s * 0.2, s * 0.22, s * 0.12, s * 0.56))
        painter.drawPolygon(
            QPolygonF([QPointF(s * 0.8, s * 0.22), QPointF(s * 0.36, s * 0.5), QPointF(s * 0.8, s * 0.78)])
        )
    elif kind == "step_forward":
        painter.drawRect(QRectF(s * 0.68, s * 0.22, s * 0.12, s * 0.56))
        painter.drawPolygon(
            QPolygonF([QPointF(s * 0.2, s * 0.22), QPointF(s * 0.64, s * 0.5), QPointF(s * 0.2, s * 0.78)])
        )
    painter.end()
    pixmap.setDevicePixelRatio(scale)
    return QIcon(pixmap)


def card(title_key: str) -> tuple[QFrame, QVBoxLayout, QLabel]:
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 10, 12, 12)
    layout.setSpacing(8)
    title = QLabel(tr(title_key))
    title.setObjectName("cardTitle")
    title.setProperty("i18n", title_key)
    layout.addWidget(title)
    return frame, layout, title


# --------------------------------------------------------------------------------------
class StateBadge(QWidget):
    """The one thing readable from across the room: NORMAL in green or ANOMALY in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "idle"  # idle | waiting | normal | anomaly
        self.setMinimumSize(168, 52)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(188, 52)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    @property
    def text(self) -> str:
        return tr(f"state_{self.state}")

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours = {
            "anomaly": (COLOURS["anomaly"], "#ffffff"),
            "normal": ("#173b2a", COLOURS["normal"]),
            "waiting": (COLOURS["card"], COLOURS["muted"]),
            "idle": (COLOURS["card"], COLOURS["faint"]),
        }
        background, foreground = colours[self.state]
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setPen(QColor(foreground) if self.state in ("normal", "idle", "waiting") else Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(rect, 10, 10)
        font = QFont(self.font())
        font.setPointSizeF(self.font().pointSizeF() * 1.7)
        font.setWeight(QFont.Weight.Bold)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
        painter.setFont(font)
        painter.setPen(QColor(foreground))
        dot = QRectF(rect.x() + 16, rect.center().y() - 6, 12, 12)
        painter.setBrush(QColor(foreground))
        painter.drawEllipse(dot)
        painter.drawText(rect.adjusted(30, 0, 0, 0), Qt.AlignmentFlag.AlignCenter, self.text)
        painter.end()


class StatChip(QWidget):
    """A small caption over a value: 'Processed' / '24.8 fps'."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 0, 10, 0)
        layout.setSpacing(0)
        self.caption = QLabel(tr(key))
        self.caption.setObjectName("muted")
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        self.caption.setFont(small)
        self.value = QLabel("–")
        self.value.setObjectName("value")
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_value(self, text: str, warn: bool = False) -> None:
        self.value.setText(text)
        self.value.setStyleSheet(f"color: {COLOURS['warning']};" if warn else "")

    def retranslate(self) -> None:
        self.caption.setText(tr(self.key))


class Banner(QFrame):
    """A coloured line above the video for things the user must see (errors, reconnecting)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        colour = {"error": COLOURS["anomaly"], "warning": COLOURS["warning"], "info": COLOURS["accent"]}[level]
        self.level = level
        self.setStyleSheet(
            f"Banner {{ background: {colour}22; border: 1px solid {colour}; border-radius: 6px; }}"
            f"QLabel {{ color: {COLOURS['text']}; }}"
        )
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


# --------------------------------------------------------------------------------------
class ModelCard(QFrame):
    """What checkpoint is loaded: backend, training data, calibrated threshold, device."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        self.title = QLabel()
        self.title.setObjectName("cardTitle")
        self.name = QLabel()
        self.name.setObjectName("bigValue")
        self.name.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(3)
        self._rows: dict[str, tuple[QLabel, QLabel]] = {}
        for row, key in enumerate(("model_backend", "model_trained_on", "model_threshold", "model_device")):
            caption, value = QLabel(), QLabel()
            caption.setObjectName("muted")
            value.setObjectName("value")
            self.grid.addWidget(caption, row, 0)
            self.grid.addWidget(value, row, 1)
            self._rows[key] = (caption, value)
        self.grid.setColumnStretch(1, 1)
        layout.addWidget(self.title)
        layout.addWidget(self.name)
        layout.addWidget(self.hint)
        layout.addLayout(self.grid)
        self.info: dict | None = None
        self.loading_name = ""
        self.retranslate()

    def set_loading(self, name: str) -> None:
        self.loading_name = name
        self.retranslate()

    def set_info(self, info: dict | None) -> None:
        self.info = info
        self.loading_name = ""
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("panel_model"))
        info = self.info
        loaded = info is not None
        for caption, value in self._rows.values():
            caption.setVisible(loaded)
            value.setVisible(loaded)
        if self.loading_name:
            self.name.setText(tr("model_loading", name=self.loading_name))
            self.hint.hide()
            return
        if info is None:
            self.name.setText(tr("no_checkpoint"))
            self.hint.setText(tr("no_checkpoint_hint"))
            self.hint.show()
            return
        from pathlib import Path

        self.hint.hide()
        self.name.setText(Path(str(info.get("path", ""))).name)
        self.name.setToolTip(str(info.get("path", "")))
        videos = info.get("videos") or []
        frames = sum(int(v.get("frames", 0) or 0) for v in videos if isinstance(v, dict))
        created = str(info.get("created", ""))[:16].replace("T", " ")
        values = {
            "model_backend": str(info.get("backend", "?")),
            "model_trained_on": tr("model_trained_value", videos=len(videos), frames=frames),
            "model_threshold": f"{float(info.get('threshold', 0.0)):.3f}",
            "model_device": str(info.get("device", "?")).upper(),
        }
        names = [Path(str(v.get("path", ""))).name for v in videos if isinstance(v, dict)]
        tooltip = "\n".join(names[:20]) + (f"\n… +{len(names) - 20}" if len(names) > 20 else "")
        for key, (caption, value) in self._rows.items():
            caption.setText(tr(key))
            value.setText(values[key])
        self._rows["model_trained_on"][1].setToolTip(tooltip)
        self._rows["model_backend"][1].setToolTip(tr("model_created") + ": " + created if created else "")


# --------------------------------------------------------------------------------------
class DetectionPanel(QFrame):
    """Threshold, smoothing, hysteresis and minimum duration."""

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
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
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
        for r, (label, spin) in enumerate(
            (
                (self.smoothing_label, self.smoothing_spin),
                (self.hysteresis_label, self.hysteresis_spin),
                (self.duration_label, self.duration_spin),
            )
        ):
            label.setObjectName("muted")
            spin.setKeyboardTracking(False)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setFixedWidth(96)
            grid.addWidget(label, r, 0)
            grid.addWidget(spin, r, 1, alignment=Qt.AlignmentFlag.AlignRight)
        layout.addLayout(grid)
        self.save_events = QCheckBox()
        layout.addWidget(self.save_events)

        self.threshold_slider.valueChanged.connect(self._slider_moved)
        self.threshold_spin.valueChanged.connect(self._spin_changed)
        self.reset_button.clicked.connect(lambda: self.set_threshold(self.calibrated, emit=True))
        for spin in (self.smoothing_spin, self.hysteresis_spin, self.duration_spin):
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
            self.expected_rate.setText(tr("expected_false_alarms", rate=shown))

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
        self.save_events.setText(tr("save_events"))


# --------------------------------------------------------------------------------------
class EventPanel(QFrame):
    """The event list with thumbnails; double-click jumps there in a file."""

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

        self.table = QTableWidget(0, 3)
        self.table.setIconSize(QSize(96, 54))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(60)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setColumnWidth(0, 104)
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
        self.retranslate()

    # --- data --------------------------------------------------------------------------
    def upsert(self, event: EventRecord) -> None:
        """Add a new event at the top, or update the row of an event already listed."""
        for row, known in enumerate(self.events):
            if known.number == event.number:
                if event.thumbnail is None and known.thumbnail is not None:
                    event.thumbnail = known.thumbnail
                self.events[row] = event
                self._fill_row(row, event)
                return
        self.events.insert(0, event)
        self.table.insertRow(0)
        self._fill_row(0, event)
        self._update_count()

    def clear(self) -> None:
        self.events.clear()
        self.table.setRowCount(0)
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
        for column, item in enumerate((thumb, time_item, peak)):
            item.setData(Qt.ItemDataRole.UserRole, event.number)
            self.table.setItem(row, column, item)

    def _double_clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self.events):
            self.activated.emit(self.events[row])

    def _update_count(self) -> None:
        count = len(self.events)
        self.count.setText(
            "" if not count else tr("events_count_one") if count == 1 else tr("events_count", count=count)
        )
        self.empty.setVisible(not self.events)

    def retranslate(self) -> None:
        self.title.setText(tr("panel_events"))
        self.table.setHorizontalHeaderLabels(["", tr("col_time"), tr("col_peak") + " · " + tr("col_cause")])
        self.empty.setText(tr("events_empty"))
        self.export_button.setText(tr("export_csv"))
        self.folder_button.setText(tr("open_folder"))
        self.clear_button.setText(tr("clear_events"))
        for row, event in enumerate(self.events):
            self._fill_row(row, event)
        self._update_count()


# --------------------------------------------------------------------------------------
class TransportBar(QWidget):
    """Play/pause, single step, position, time; and the overlay toggles."""

    play_clicked = Signal()
    step_clicked = Signal(int)
    seek_requested = Signal(int)
    every_frame_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(6)
        self.back_button = self._button("step_back")
        self.play_button = self._button("play")
        self.forward_button = self._button("step_forward")
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.position.setRange(0, 0)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setObjectName("muted")
        self.time_label.setMinimumWidth(120)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.every_frame = QCheckBox()
        self.every_frame.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.back_button)
        layout.addWidget(self.play_button)
        layout.addWidget(self.forward_button)
        layout.addWidget(self.position, 1)
        layout.addWidget(self.time_label)
        layout.addWidget(self.every_frame)
        self.overlay_layout = QHBoxLayout()
        self.overlay_layout.setSpacing(4)
        layout.addLayout(self.overlay_layout)

        self.play_button.clicked.connect(self.play_clicked)
        self.back_button.clicked.connect(lambda: self.step_clicked.emit(-1))
        self.forward_button.clicked.connect(lambda: self.step_clicked.emit(1))
        self.position.sliderMoved.connect(self.seek_requested)
        self.position.sliderPressed.connect(lambda: self.seek_requested.emit(self.position.value()))
        self.every_frame.toggled.connect(self.every_frame_toggled)
        self._fps = 25.0
        self._count = 0
        self._playing = False
        self.retranslate()

    def _button(self, glyph: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName("transport")
        button.setIcon(glyph_icon(glyph))
        button.setIconSize(QSize(16, 16))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button

    def add_toggle(self, button: QToolButton) -> None:
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.overlay_layout.addWidget(button)

    def set_seekable(self, seekable: bool, frame_count: int = 0, fps: float = 25.0) -> None:
        self._fps = fps if fps > 0 else 25.0
        self._count = frame_count
        for widget in (self.back_button, self.forward_button, self.position, self.every_frame, self.play_button):
            widget.setEnabled(seekable)
        self.time_label.setVisible(seekable)
        self.position.setRange(0, max(frame_count - 1, 0))

    def set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.play_button.setIcon(glyph_icon("pause" if playing else "play"))

    def set_position(self, index: int) -> None:
        if not self.position.isSliderDown():
            self.position.blockSignals(True)
            if index > self.position.maximum():
                self.position.setMaximum(index)
            self.position.setValue(index)
            self.position.blockSignals(False)
        total = max(self._count, index + 1)
        self.time_label.setText(f"{format_time(index / self._fps)} / {format_time(total / self._fps)}")

    def retranslate(self) -> None:
        self.every_frame.setText(tr("act_every_frame"))
        self.play_button.setToolTip(tr("act_play") + "  (Space)")
        self.back_button.setToolTip(tr("act_step_back") + "  (←)")
        self.forward_button.setToolTip(tr("act_step_forward") + "  (→)")
