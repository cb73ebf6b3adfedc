"""The detection settings panel: the threshold slider with its expected false-alarm rate, and the alarm rule."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from aivad.ui.i18n import tr


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
        # What the slider's position means: the calibrated false-alarm rate (aivad.model.alarm.RateModel).
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
        from aivad.model.alarm import RateModel

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
            limit = self.rate_model.footage_limit(rate)  # rarer than it can count, or the default of short footage
            if limit is not None:
                text += " " + tr(f"expected_false_alarms_{limit}", seconds=f"{self.rate_model.hours * 3600:.0f}")
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
