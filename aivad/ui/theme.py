"""Dark theme: a control-room look that is calm until something is wrong.

Neutral greys for everything structural, one blue accent for controls, and green/red
reserved for the NORMAL/ANOMALY state so colour always means the same thing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication

COLOURS = {
    "window": "#111318",
    "panel": "#181b21",
    "card": "#1e222a",
    "border": "#2b303a",
    "video_bg": "#0a0b0e",
    "text": "#e7e9ee",
    "muted": "#8e97a6",
    "faint": "#5c6472",
    "accent": "#4c9dff",
    "normal": "#2ecc71",
    "anomaly": "#ff4d4f",
    "warning": "#f5a623",
    "chart_bg": "#14171c",
    "grid": "#232833",
}

# Latin first, then the Korean faces of Windows, Linux and macOS; Qt falls back per glyph.
FONT_FAMILIES = [
    "Segoe UI",
    "Malgun Gothic",
    "Noto Sans KR",
    "Noto Sans CJK KR",
    "NanumGothic",
    "Apple SD Gothic Neo",
    "DejaVu Sans",
]

STYLESHEET = (
    """
QMainWindow, QWidget#central { background: %(window)s; }
QWidget { color: %(text)s; }
QMenuBar { background: %(panel)s; border-bottom: 1px solid %(border)s; }
QMenuBar::item { padding: 4px 10px; background: transparent; }
QMenuBar::item:selected { background: %(card)s; border-radius: 4px; }
QMenu { background: %(card)s; border: 1px solid %(border)s; padding: 4px; }
QMenu::item { padding: 5px 22px 5px 22px; border-radius: 4px; }
QMenu::item:selected { background: %(accent)s; color: white; }
QMenu::separator { height: 1px; background: %(border)s; margin: 4px 8px; }
QStatusBar { background: %(panel)s; border-top: 1px solid %(border)s; color: %(muted)s; }
QStatusBar::item { border: none; }
QFrame#card { background: %(card)s; border: 1px solid %(border)s; border-radius: 8px; }
QFrame#sidebar { background: %(panel)s; border-left: 1px solid %(border)s; }
QLabel#cardTitle { color: %(muted)s; font-weight: 600; letter-spacing: 1px; }
QLabel#muted { color: %(muted)s; }
QLabel#value { color: %(text)s; font-weight: 600; }
QLabel#bigValue { color: %(text)s; font-weight: 700; }
QPushButton, QToolButton {
    background: %(card)s; border: 1px solid %(border)s; border-radius: 6px; padding: 5px 10px;
}
QPushButton:hover, QToolButton:hover { border-color: %(accent)s; }
QPushButton:pressed, QToolButton:pressed { background: %(border)s; }
QPushButton:checked, QToolButton:checked { background: #20324a; border-color: %(accent)s; }
QPushButton:disabled, QToolButton:disabled { color: %(faint)s; }
QToolButton#transport { padding: 4px; min-width: 28px; }
QSlider::groove:horizontal { height: 4px; background: %(border)s; border-radius: 2px; }
QSlider::sub-page:horizontal { background: %(accent)s; border-radius: 2px; }
QSlider::handle:horizontal {
    background: %(text)s; width: 14px; height: 14px; margin: -6px 0; border-radius: 7px;
}
QSlider::handle:horizontal:hover { background: white; }
QSlider#threshold::sub-page:horizontal { background: %(warning)s; }
QDoubleSpinBox, QSpinBox, QLineEdit, QComboBox {
    background: %(window)s; border: 1px solid %(border)s; border-radius: 5px; padding: 3px 6px;
    selection-background-color: %(accent)s;
}
QDoubleSpinBox:focus, QSpinBox:focus, QLineEdit:focus { border-color: %(accent)s; }
QAbstractSpinBox { padding-right: 16px; }
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {
    subcontrol-origin: border; width: 16px; border: none; background: transparent;
}
QAbstractSpinBox::up-button { subcontrol-position: top right; }
QAbstractSpinBox::down-button { subcontrol-position: bottom right; }
QAbstractSpinBox::up-arrow { image: url(@ARROWS@/up.png); width: 8px; height: 5px; }
QAbstractSpinBox::down-arrow { image: url(@ARROWS@/down.png); width: 8px; height: 5px; }
QCheckBox { spacing: 6px; }
QCheckBox::indicator, QMenu::indicator { width: 14px; height: 14px; border-radius: 3px;
    border: 1px solid #5a6372; background: %(window)s; }
QCheckBox::indicator:checked, QMenu::indicator:checked { background: %(accent)s; border-color: %(accent)s; }
QToolButton#toggle { padding: 4px 9px; }
QTableWidget {
    background: %(panel)s; border: none; gridline-color: transparent;
    selection-background-color: #263447; alternate-background-color: #1b1f26;
}
QTableWidget::item { padding: 2px 4px; border-bottom: 1px solid %(border)s; }
QHeaderView::section {
    background: %(panel)s; color: %(muted)s; border: none; border-bottom: 1px solid %(border)s;
    padding: 4px; font-weight: 600;
}
QScrollBar:vertical { background: transparent; width: 10px; margin: 0; }
QScrollBar::handle:vertical { background: %(border)s; border-radius: 5px; min-height: 30px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; width: 0; }
QSplitter::handle { background: %(border)s; }
QFrame#tile { background: %(card)s; border: 2px solid %(border)s; border-radius: 8px; }
QFrame#tile:hover { border-color: %(accent)s; }
QFrame#tile[alarm="true"] { border: 3px solid %(anomaly)s; background: #2a1719; }
QLabel#alarmPill {
    background: %(anomaly)s; color: white; border-radius: 4px; padding: 0px 6px; font-weight: 700;
}
QLabel#emptyTile { border: 2px dashed %(border)s; border-radius: 8px; color: %(faint)s; }
QToolTip { background: %(card)s; color: %(text)s; border: 1px solid %(border)s; padding: 4px; }
"""
    % COLOURS
)


def _arrow_folder() -> str:
    """Spin-box arrows as tiny PNGs: style sheets can only take arrow images from files."""
    folder = Path(tempfile.gettempdir()) / "aivad-ui-arrows"
    folder.mkdir(parents=True, exist_ok=True)
    for name, points in (("up", ((0, 10), (8, 0), (16, 10))), ("down", ((0, 0), (8, 10), (16, 0)))):
        pixmap = QPixmap(16, 10)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(COLOURS["muted"]))
        painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
        painter.end()
        pixmap.save(str(folder / f"{name}.png"))
    return folder.as_posix()  # forward slashes: style sheet URLs on Windows too


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: COLOURS["window"],
        QPalette.ColorRole.WindowText: COLOURS["text"],
        QPalette.ColorRole.Base: COLOURS["panel"],
        QPalette.ColorRole.AlternateBase: COLOURS["card"],
        QPalette.ColorRole.Text: COLOURS["text"],
        QPalette.ColorRole.Button: COLOURS["card"],
        QPalette.ColorRole.ButtonText: COLOURS["text"],
        QPalette.ColorRole.Highlight: COLOURS["accent"],
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: COLOURS["card"],
        QPalette.ColorRole.ToolTipText: COLOURS["text"],
        QPalette.ColorRole.PlaceholderText: COLOURS["faint"],
        QPalette.ColorRole.Link: COLOURS["accent"],
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(COLOURS["faint"]))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(COLOURS["faint"]))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(max(font.pointSizeF(), 9.5))
    app.setFont(font)
    app.setStyleSheet(STYLESHEET.replace("@ARROWS@", _arrow_folder()))
