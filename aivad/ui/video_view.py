"""The video with what the model thinks about it: region boxes, heat map, zones, state.

Painted with QPainter on top of the frame so toggling overlays never touches the
pixels the model saw. Zones are stored in 0..1 frame coordinates so they survive a
change of resolution.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QMouseEvent, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from aivad.live.render import label_layout, score_rgb
from aivad.ui import i18n
from aivad.ui.i18n import tr
from aivad.ui.reports import DisplayFrame
from aivad.ui.theme import COLOURS

Zone = list[tuple[float, float]]
# FrameResult.camera -> the string key of its note (aivad.features.camera_motion.camera_state)
CAMERA_NOTES = {
    "shaking": "camera_shaking",
    "exposure": "camera_exposure",
    "no picture": "camera_no_picture",
    "view changed": "camera_view_changed",
}


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Wrap a BGR array without converting colours; .copy() detaches it from the numpy buffer."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888).copy()


def rgba_to_qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_RGBA8888).copy()


class VideoView(QWidget):
    zones_changed = Signal(list)  # list of zones (each a list of (x, y) in 0..1)
    editing_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._image: QImage | None = None
        self._heat: QImage | None = None
        self._frame: DisplayFrame | None = None
        self.show_boxes = True
        self.show_heatmap = False
        self.zones: list[Zone] = []
        self.zones_are_roi = False
        self.editing = False
        self._draft: Zone = []
        self._hover: QPointF | None = None
        self.placeholder_title = ""
        self.placeholder_text = ""

    # --- data --------------------------------------------------------------------------
    def set_frame(self, frame: DisplayFrame) -> None:
        self._frame = frame
        self._image = bgr_to_qimage(frame.image)
        self._heat = rgba_to_qimage(frame.heatmap) if frame.heatmap is not None else None
        self.update()

    def clear(self) -> None:
        self._frame = None
        self._image = None
        self._heat = None
        self.update()

    @property
    def has_frame(self) -> bool:
        return self._image is not None

    def set_zones(self, zones: list[Zone], roi: bool) -> None:
        self.zones = [list(zone) for zone in zones]
        self.zones_are_roi = roi
        self.update()

    def set_editing(self, editing: bool) -> None:
        self.editing = editing
        self._draft = []
        self.setCursor(Qt.CursorShape.CrossCursor if editing else Qt.CursorShape.ArrowCursor)
        if editing:
            self.setFocus()
        self.update()

    # --- geometry ----------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the frame is drawn: as large as fits, aspect ratio kept, centred."""
        if self._image is None:
            return QRectF(self.rect())
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _to_widget(self, x: float, y: float) -> QPointF:
        rect = self.image_rect()
        return QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())

    def _to_normalised(self, point: QPointF) -> tuple[float, float]:
        rect = self.image_rect()
        x = (point.x() - rect.x()) / max(rect.width(), 1.0)
        y = (point.y() - rect.y()) / max(rect.height(), 1.0)
        return (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))

    # --- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(self.rect(), QColor(COLOURS["video_bg"]))
        if self._image is None:
            self._paint_placeholder(painter)
            painter.end()
            return
        target = self.image_rect()
        painter.drawImage(target, self._image)
        if self.show_heatmap and self._heat is not None:
            painter.drawImage(target, self._heat)
        self._paint_zones(painter, target)
        if self.show_boxes and self._frame is not None:
            self._paint_regions(painter, target)
        if self._frame is not None and self._frame.alarm:
            # A red frame around the picture: visible from across the room.
            painter.setPen(QPen(QColor(COLOURS["anomaly"]), 4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(target.adjusted(2, 2, -2, -2))
        if self._frame is not None and self._frame.result is not None and self._frame.result.camera:
            self._paint_camera_note(painter, target, self._frame.result.camera)
        if self.editing:
            self._paint_edit_hint(painter)
        painter.end()

    def _paint_camera_note(self, painter: QPainter, target: QRectF, camera: str) -> None:
        """What the camera itself does (shaking, exposure, no picture), top left on the picture."""
        text = tr(CAMERA_NOTES.get(camera, "camera_other"), state=camera)
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 20
        rect = QRectF(target.x() + 10, target.y() + 10, min(width, target.width() - 20), metrics.height() + 10)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QColor(COLOURS["warning"]))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_placeholder(self, painter: QPainter) -> None:
        rect = QRectF(self.rect()).adjusted(40, 40, -40, -40)
        pen = QPen(QColor(COLOURS["border"]), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 16, 16)
        title_font = QFont(self.font())
        title_font.setPointSizeF(self.font().pointSizeF() * 1.6)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(QColor(COLOURS["text"]))
        upper = QRectF(rect.x(), rect.center().y() - 60, rect.width(), 40)
        painter.drawText(upper, Qt.AlignmentFlag.AlignCenter, self.placeholder_title)
        painter.setFont(self.font())
        painter.setPen(QColor(COLOURS["muted"]))
        lower = QRectF(rect.x(), rect.center().y() - 10, rect.width(), 60)
        painter.drawText(lower, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.placeholder_text)

    def _paint_regions(self, painter: QPainter, target: QRectF) -> None:
        frame = self._frame
        assert frame is not None and self._image is not None
        sx = target.width() / self._image.width()
        sy = target.height() / self._image.height()
        label_font = QFont(self.font())
        label_font.setPointSizeF(max(7.5, self.font().pointSizeF() * 0.85))
        label_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(label_font)
        metrics = painter.fontMetrics()

        for region in frame.ignored:
            x0, y0, x1, y1 = region.box
            rect = QRectF(target.x() + x0 * sx, target.y() + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy)
            painter.setPen(QPen(QColor(150, 150, 150, 140), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)

        shown = [region for region in sorted(frame.regions, key=lambda r: r.score) if not region.whole_frame]
        rects, colours, labels = [], [], []
        for region in shown:  # weakest first, so the most suspicious box is drawn on top
            r, g, b = score_rgb(region.score, frame.threshold)
            colour = QColor(r, g, b)
            x0, y0, x1, y1 = region.box
            rect = QRectF(target.x() + x0 * sx, target.y() + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy)
            hot = region.score >= frame.threshold
            painter.setPen(QPen(colour, 3 if hot else 2))
            fill = QColor(colour)
            fill.setAlpha(40 if hot else 0)
            painter.setBrush(QBrush(fill))
            painter.drawRect(rect)
            rects.append(rect)
            colours.append(colour)
            labels.append(f"{i18n.attribute_name(region.top_attribute)}  {region.score:.2f}")
        # Labels after all boxes, so no box covers a label; the weakest first, like the boxes.
        sizes = [(metrics.horizontalAdvance(label) + 10, metrics.height() + 4) for label in labels]
        layout = label_layout(
            [rect.getCoords() for rect in rects],
            [region.score for region in shown],
            frame.threshold,
            sizes,
            target.getCoords(),
        )
        for i in sorted(layout):
            colour, label = colours[i], labels[i]
            x0, y0, x1, y1 = layout[i]
            pill = QRectF(x0, y0, x1 - x0, y1 - y0)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(pill, 3, 3)
            painter.setPen(QColor(15, 17, 21))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_zones(self, painter: QPainter, target: QRectF) -> None:
        if not self.zones and not self._draft:
            return
        if self.zones_are_roi and self.zones:
            # Watch-only zones: dim everything outside them.
            outside = QPainterPath()
            outside.addRect(target)
            inside = QPainterPath()
            for zone in self.zones:
                inside.addPolygon(QPolygonF([self._to_widget(x, y) for x, y in zone]))
                inside.closeSubpath()
            painter.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 120))
            pen = QPen(QColor(COLOURS["accent"]), 2)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for zone in self.zones:
                painter.drawPolygon(QPolygonF([self._to_widget(x, y) for x, y in zone]))
        else:
            painter.setPen(QPen(QColor(255, 120, 120, 200), 1.5, Qt.PenStyle.DashLine))
            brush = QBrush(QColor(255, 80, 80, 70), Qt.BrushStyle.BDiagPattern)
            for zone in self.zones:
                polygon = QPolygonF([self._to_widget(x, y) for x, y in zone])
                painter.setBrush(QColor(255, 60, 60, 35))
                painter.drawPolygon(polygon)
                painter.setBrush(brush)
                painter.drawPolygon(polygon)
        if self._draft:
            points = [self._to_widget(x, y) for x, y in self._draft]
            if self._hover is not None:
                points.append(self._hover)
            painter.setPen(QPen(QColor(COLOURS["warning"]), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolyline(QPolygonF(points))
            painter.setBrush(QColor(COLOURS["warning"]))
            for point in points[: len(self._draft)]:
                painter.drawEllipse(point, 3.5, 3.5)

    def _paint_edit_hint(self, painter: QPainter) -> None:
        text = tr("mask_hint")
        metrics = painter.fontMetrics()
        painter.setFont(self.font())
        rect = QRectF(12, self.height() - metrics.height() - 24, self.width() - 24, metrics.height() + 12)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QColor(COLOURS["warning"]))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    # --- zone editing ------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.editing or self._image is None:
            return super().mousePressEvent(event)
        point = self._to_normalised(event.position())
        if event.button() == Qt.MouseButton.RightButton:
            if self._draft:
                self._draft.pop()
            else:
                self._delete_zone_at(point)
            self.update()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._draft.append(point)
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.editing:
            self._close_draft()
        else:
            super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.editing:
            self._hover = event.position()
            if self._draft:
                self.update()
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event) -> None:
        if self.editing and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._close_draft()
            return
        if self.editing and event.key() == Qt.Key.Key_Escape:
            self._close_draft()
            self.set_editing(False)
            self.editing_finished.emit()
            return
        super().keyPressEvent(event)

    def _close_draft(self) -> None:
        # A double-click also delivered a press: drop the duplicate last point.
        draft = [p for i, p in enumerate(self._draft) if i == 0 or p != self._draft[i - 1]]
        if len(draft) >= 3:
            self.zones.append(draft)
            self.zones_changed.emit([list(zone) for zone in self.zones])
        self._draft = []
        self.update()

    def _delete_zone_at(self, point: tuple[float, float]) -> None:
        from aivad.live.decision import point_in_polygon

        for i in range(len(self.zones) - 1, -1, -1):
            if point_in_polygon(point[0], point[1], self.zones[i]):
                del self.zones[i]
                self.zones_changed.emit([list(zone) for zone in self.zones])
                return
