"""Panels around the video: state badge, statistics, banner, model card, detection
controls, event list and transport bar.

Every widget has ``retranslate()`` so switching language rebuilds its text in place.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aivad.ui.i18n import tr
from aivad.ui.theme import COLOURS
from aivad.video.sources import format_time


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
            "model_trained_on": (
                tr("model_trained_value_one", frames=frames)
                if len(videos) == 1
                else tr("model_trained_value", videos=len(videos), frames=frames)
            ),
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
