"""Score over time, drawn with QPainter (no plotting dependency).

Two modes: a file shows its whole timeline (every frame has a slot, the playhead moves,
a click seeks); a live source shows a rolling window of the last minute. Long files are
reduced to one min/max pair per pixel column so painting stays cheap at any length.

On a file, Shift+drag selects a time range; its right-click menu offers "Not an anomaly" for
it (``teach_range_requested``: aivad.ui.window_teach teaches the camera's model those frames),
and ranges taught so are drawn as a green band until undone.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from aivad.ui.i18n import tr
from aivad.ui.theme import COLOURS
from aivad.video.sources import format_time


def nice_step(rough: float) -> float:
    """1, 2 or 5 times a power of ten: grid labels a person can read at a glance."""
    if rough <= 0 or not math.isfinite(rough):
        return 1.0
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if rough <= factor * power:
            return factor * power
    return 10 * power


class ScoreChart(QWidget):
    seek_requested = Signal(int)  # frame index (files only)
    teach_range_requested = Signal(int, int)  # first, last frame of the selection: "Not an anomaly"

    live_window_s = 60.0
    margin_left = 44
    margin_right = 12
    margin_top = 24
    margin_bottom = 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(150)
        self.setMouseTracking(True)
        self.threshold = 1.0
        self.off_level: float | None = None
        self._seekable = False
        self._fps = 25.0
        # file mode
        self._scores = np.full(0, np.nan, np.float32)
        self._alarms = np.zeros(0, bool)
        self._playhead = -1
        # live mode
        self._live: deque[tuple[float, float, bool]] = deque()
        self._y_max = 2.0
        self._hover_x: float | None = None
        # time ranges (files only): the user's selection, where a Shift+drag began, and taught ranges
        self.selection: tuple[int, int] | None = None
        self._select_from: int | None = None
        self.taught_ranges: list[tuple[int, int]] = []

    # --- data --------------------------------------------------------------------------
    def reset(self, seekable: bool, frame_count: int = 0, fps: float = 25.0) -> None:
        self._seekable = seekable
        self._fps = fps if fps > 0 else 25.0
        self._scores = np.full(max(frame_count, 0), np.nan, np.float32)
        self._alarms = np.zeros(max(frame_count, 0), bool)
        self._live.clear()
        self._playhead = -1
        self.selection, self._select_from = None, None
        self.taught_ranges = []
        self._y_max = max(2.0 * self.threshold, 1e-6)
        self.update()

    def set_threshold(self, threshold: float, off_level: float | None = None) -> None:
        self.threshold = threshold
        self.off_level = off_level
        self.update()

    def add(self, index: int, time_s: float, score: float, alarm: bool) -> None:
        if not math.isfinite(score):
            return
        if self._seekable:
            if index >= len(self._scores):
                grow = max(index + 1, int(len(self._scores) * 1.5) + 64)
                self._scores = np.concatenate([self._scores, np.full(grow - len(self._scores), np.nan, np.float32)])
                self._alarms = np.concatenate([self._alarms, np.zeros(grow - len(self._alarms), bool)])
            self._scores[index] = score
            self._alarms[index] = alarm
            self._playhead = index
        else:
            self._live.append((time_s, score, alarm))
            while self._live and time_s - self._live[0][0] > self.live_window_s:
                self._live.popleft()
        # Grow the scale at once, shrink it slowly, so the picture does not jump.
        wanted = max(2.0 * self.threshold, score * 1.15)
        self._y_max = wanted if wanted > self._y_max else max(wanted, self._y_max * 0.999)

    def set_playhead(self, index: int) -> None:
        self._playhead = index
        self.update()

    @property
    def point_count(self) -> int:
        if self._seekable:
            return int(np.count_nonzero(~np.isnan(self._scores)))
        return len(self._live)

    @property
    def alarm_count(self) -> int:
        """Frames currently shown as in alarm."""
        if self._seekable:
            return int(self._alarms.sum())
        return sum(1 for _, _, alarm in self._live if alarm)

    # --- geometry ----------------------------------------------------------------------
    def _plot_rect(self) -> QRectF:
        return QRectF(
            self.margin_left,
            self.margin_top,
            max(10, self.width() - self.margin_left - self.margin_right),
            max(10, self.height() - self.margin_top - self.margin_bottom),
        )

    def _y(self, value: float, rect: QRectF) -> float:
        return rect.bottom() - min(value / self._y_max, 1.0) * rect.height()

    def _frame_at(self, x: float) -> int:
        rect = self._plot_rect()
        fraction = min(max((x - rect.x()) / rect.width(), 0.0), 1.0)
        return int(round(fraction * max(len(self._scores) - 1, 0)))

    # --- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(COLOURS["chart_bg"]))
        rect = self._plot_rect()
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.8))
        painter.setFont(small)

        # Title on the left, threshold on the right.
        painter.setPen(QColor(COLOURS["muted"]))
        title = tr("chart_title") + ("   ·   " + tr("chart_hint_seek") if self._seekable else "")
        painter.drawText(
            QRectF(rect.x(), 2, rect.width(), self.margin_top - 4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )
        painter.setPen(QColor(COLOURS["warning"]))
        painter.drawText(
            QRectF(rect.x(), 2, rect.width(), self.margin_top - 4),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            tr("chart_threshold", value=self.threshold),
        )

        # Horizontal grid at round score values.
        step = nice_step(self._y_max / 4)
        for i in range(int(self._y_max / step) + 1):
            value = i * step
            y = self._y(value, rect)
            painter.setPen(QPen(QColor(COLOURS["grid"]), 1))
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            painter.setPen(QColor(COLOURS["faint"]))
            painter.drawText(
                QRectF(0, y - 8, self.margin_left - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{value:g}",
            )

        if self._seekable:
            self._paint_ranges(painter, rect)
        xs, lows, highs, alarms, times = self._columns(rect)
        # Alarm spans as a red wash behind the curve.
        if len(xs):
            painter.setPen(Qt.PenStyle.NoPen)
            wash = QColor(COLOURS["anomaly"])
            wash.setAlpha(45)
            # One rectangle per run of alarm columns (per-column rectangles leave seams).
            half = (rect.width() / max(len(xs), 1) if self._seekable else 1.0) / 2
            run_start: float | None = None
            for i, (x, alarm) in enumerate(zip(xs, alarms)):
                if alarm and run_start is None:
                    run_start = x - half
                last = i == len(xs) - 1
                if run_start is not None and (not alarm or last):
                    run_end = (x + half) if alarm else (xs[i - 1] + half)
                    painter.fillRect(QRectF(run_start, rect.top(), max(run_end - run_start, 1.0), rect.height()), wash)
                    run_start = None

        # Score curve: filled area plus a line; the envelope keeps short spikes visible.
        if len(xs) >= 1:
            path = QPainterPath()
            path.moveTo(xs[0], self._y(highs[0], rect))
            for x, high in zip(xs[1:], highs[1:]):
                path.lineTo(x, self._y(high, rect))
            area = QPainterPath(path)
            area.lineTo(xs[-1], rect.bottom())
            area.lineTo(xs[0], rect.bottom())
            area.closeSubpath()
            fill = QColor(COLOURS["accent"])
            fill.setAlpha(45)
            painter.fillPath(area, fill)
            painter.setPen(QPen(QColor(COLOURS["accent"]), 1.6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)

        # Threshold (solid amber) and the hysteresis off level (faint).
        y = self._y(self.threshold, rect)
        painter.setPen(QPen(QColor(COLOURS["warning"]), 1.4, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
        if self.off_level is not None and self.off_level < self.threshold:
            y_off = self._y(self.off_level, rect)
            off_colour = QColor(COLOURS["warning"])
            off_colour.setAlpha(80)
            painter.setPen(QPen(off_colour, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(rect.left(), y_off), QPointF(rect.right(), y_off))

        # Time axis.
        painter.setPen(QColor(COLOURS["faint"]))
        if self._seekable:
            total_s = len(self._scores) / self._fps
            for i in range(5):
                x = rect.x() + rect.width() * i / 4
                align = (
                    Qt.AlignmentFlag.AlignLeft
                    if i == 0
                    else Qt.AlignmentFlag.AlignRight
                    if i == 4
                    else Qt.AlignmentFlag.AlignHCenter
                )
                box = QRectF(x - 40 if i else x, rect.bottom() + 2, 80 if 0 < i < 4 else 80, self.margin_bottom - 2)
                if i == 4:
                    box = QRectF(x - 80, rect.bottom() + 2, 80, self.margin_bottom - 2)
                painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, format_time(total_s * i / 4))
            if self._playhead >= 0 and len(self._scores) > 1:
                x = rect.x() + rect.width() * self._playhead / (len(self._scores) - 1)
                painter.setPen(QPen(QColor(COLOURS["text"]), 1.2))
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            if self._hover_x is not None and len(self._scores) > 1:
                painter.setPen(QPen(QColor(COLOURS["muted"]), 1, Qt.PenStyle.DotLine))
                painter.drawLine(QPointF(self._hover_x, rect.top()), QPointF(self._hover_x, rect.bottom()))
                frame = self._frame_at(self._hover_x)
                painter.drawText(
                    QRectF(self._hover_x + 4, rect.top(), 90, 16),
                    Qt.AlignmentFlag.AlignLeft,
                    format_time(frame / self._fps),
                )
        else:
            painter.drawText(
                QRectF(rect.x(), rect.bottom() + 2, 80, self.margin_bottom - 2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"-{self.live_window_s:.0f} s",
            )
            painter.drawText(
                QRectF(rect.right() - 80, rect.bottom() + 2, 80, self.margin_bottom - 2),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                "0 s",
            )
        painter.end()

    def _paint_ranges(self, painter: QPainter, rect: QRectF) -> None:
        """Taught ranges as a green band along the bottom, the selection as a pale wash over the plot."""
        taught = QColor(COLOURS["normal"])
        taught.setAlpha(120)
        for first, last in self.taught_ranges:
            left, right = self._x_of(first, rect), self._x_of(last, rect)
            painter.fillRect(QRectF(left, rect.bottom() - 4, max(right - left, 2.0), 4), taught)
        if self.selection is not None:
            left, right = self._x_of(self.selection[0], rect), self._x_of(self.selection[1], rect)
            wash = QColor(COLOURS["accent"])
            wash.setAlpha(40)
            painter.fillRect(QRectF(left, rect.top(), max(right - left, 2.0), rect.height()), wash)

    def _x_of(self, frame: int, rect: QRectF) -> float:
        return rect.x() + rect.width() * frame / max(len(self._scores) - 1, 1)

    def _columns(self, rect: QRectF) -> tuple[list[float], list[float], list[float], list[bool], list[float]]:
        """Screen x, low, high, alarm per drawn column."""
        if self._seekable:
            n = len(self._scores)
            if n == 0:
                return [], [], [], [], []
            columns = max(1, min(n, int(rect.width())))
            edges = np.linspace(0, n, columns + 1).astype(int)
            xs, lows, highs, alarms = [], [], [], []
            for c in range(columns):
                a, b = edges[c], max(edges[c + 1], edges[c] + 1)
                chunk = self._scores[a:b]
                valid = chunk[~np.isnan(chunk)]
                if len(valid) == 0:
                    continue
                xs.append(rect.x() + rect.width() * ((a + b - 1) / 2) / max(n - 1, 1))
                lows.append(float(valid.min()))
                highs.append(float(valid.max()))
                alarms.append(bool(self._alarms[a:b].any()))
            return xs, lows, highs, alarms, []
        if not self._live:
            return [], [], [], [], []
        now = self._live[-1][0]
        xs = [rect.right() - (now - t) / self.live_window_s * rect.width() for t, _, _ in self._live]
        scores = [s for _, s, _ in self._live]
        alarms = [a for _, _, a in self._live]
        return xs, scores, scores, alarms, [t for t, _, _ in self._live]

    # --- seeking and selecting ---------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._seekable and event.button() == Qt.MouseButton.LeftButton and len(self._scores):
            frame = self._frame_at(event.position().x())
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._select_from = frame
                self.select_range(frame, frame)
            else:
                self.seek_requested.emit(frame)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._seekable:
            self._hover_x = event.position().x()
            if event.buttons() & Qt.MouseButton.LeftButton and len(self._scores):
                frame = self._frame_at(self._hover_x)
                if self._select_from is not None:
                    self.select_range(self._select_from, frame)
                else:
                    self.seek_requested.emit(frame)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._select_from = None

    def select_range(self, first: int, last: int) -> None:
        """Select frames first..last (either order); what "Not an anomaly" in the menu would teach."""
        self.selection = (min(first, last), max(first, last))
        self.update()

    def clear_selection(self) -> None:
        self.selection = None
        self.update()

    def teach_selection(self) -> None:
        """ "Not an anomaly" for the selected range: ask the window to teach it."""
        if self.selection is not None:
            self.teach_range_requested.emit(*self.selection)

    def contextMenuEvent(self, event) -> None:
        if not self._seekable:
            return
        menu = QMenu(self)
        if self.selection is not None:
            first, last = self.selection
            span = f"{format_time(first / self._fps)}–{format_time((last + 1) / self._fps)}"
            menu.addAction(tr("chart_teach_range", span=span), self.teach_selection)
            menu.addAction(tr("chart_clear_selection"), self.clear_selection)
        else:
            menu.addAction(tr("chart_select_hint")).setEnabled(False)
        menu.exec(event.globalPos())

    def leaveEvent(self, event) -> None:
        self._hover_x = None
        self.update()
