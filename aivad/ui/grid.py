"""The camera grid: one tile per camera with its newest frame, regions, alarm state and health.

A guard watching nine cameras must see at once which one alarms (red border and label) and
which one is not really watching (reconnecting, ended, failed, dropping frames). Tiles draw
what the window hands them; a click asks the window to open the camera large.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QVBoxLayout, QWidget

from aivad.ui.cameras import Camera
from aivad.ui.i18n import tr
from aivad.ui.reports import DisplayFrame
from aivad.ui.theme import COLOURS
from aivad.ui.video_view import VideoView, bgr_to_qimage, rgba_to_qimage


class TileVideo(VideoView):
    """The video view, small and lazy: a frame is converted for Qt only when the tile is painted,
    so hidden tiles (the detail view is open) cost nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(120, 68)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._pending: DisplayFrame | None = None

    def set_frame(self, frame: DisplayFrame) -> None:
        self._pending = frame
        self.update()

    def clear(self) -> None:
        self._pending = None
        super().clear()

    @property
    def has_frame(self) -> bool:
        return self._pending is not None or self._image is not None

    def paintEvent(self, event) -> None:
        frame, self._pending = self._pending, None
        if frame is not None:
            self._frame = frame
            self._image = bgr_to_qimage(frame.image)
            self._heat = rgba_to_qimage(frame.heatmap) if frame.heatmap is not None else None
        super().paintEvent(event)


class CameraTile(QFrame):
    """One camera in the grid: name, alarm label, video with regions and zones, status line."""

    clicked = Signal(object)  # Camera
    edit_requested = Signal(object)
    remove_requested = Signal(object)

    def __init__(self, camera: Camera, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera = camera
        self.setObjectName("tile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        header = QHBoxLayout()
        header.setSpacing(6)
        self.name_label = QLabel()
        self.name_label.setObjectName("value")
        self.alarm_label = QLabel()
        self.alarm_label.setObjectName("alarmPill")
        self.alarm_label.hide()
        self.score_label = QLabel()
        self.score_label.setObjectName("muted")
        header.addWidget(self.name_label)
        header.addWidget(self.alarm_label)
        header.addStretch(1)
        header.addWidget(self.score_label)
        layout.addLayout(header)
        self.video = TileVideo()
        self.video.placeholder_title = ""
        layout.addWidget(self.video, 1)
        self.status_label = QLabel()
        self.status_label.setObjectName("muted")
        layout.addWidget(self.status_label)
        self.in_alarm = False
        self.refresh()

    def refresh(self, frame: DisplayFrame | None = None) -> None:
        camera = self.camera
        if frame is not None:
            self.video.set_frame(frame)
        self.video.set_zones(camera.config.zones, camera.config.roi)
        self.name_label.setText(camera.name)
        self.in_alarm = camera.alarm and camera.config.enabled
        self.alarm_label.setText(tr("tile_alarm"))
        self.alarm_label.setVisible(self.in_alarm)
        # The border is the part readable from across the room; property + restyle switches it.
        if self.property("alarm") != self.in_alarm:
            self.setProperty("alarm", self.in_alarm)
            self.style().unpolish(self)
            self.style().polish(self)
        latest = camera.latest
        self.score_label.setText(f"{latest.result.score:.2f}" if latest is not None and latest.result else "")
        self.status_label.setText(status_line(camera))
        warn = camera.status is not None and camera.status.state in ("reconnecting", "failed")
        self.status_label.setStyleSheet(f"color: {COLOURS['warning']};" if warn else "")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.camera)
        super().mousePressEvent(event)

    def contextMenuEvent(self, event) -> None:
        menu = QMenu(self)
        menu.addAction(tr("act_edit_camera"), lambda: self.edit_requested.emit(self.camera))
        menu.addAction(tr("act_remove_camera"), lambda: self.remove_requested.emit(self.camera))
        menu.exec(event.globalPos())


def status_line(camera: Camera) -> str:
    """``12.5 fps · 40 ms · 3 dropped`` while it runs, else what keeps it from running."""
    if not camera.config.enabled:
        return tr("tile_disabled")
    if not camera.config.source:
        return tr("tile_no_source")
    status = camera.status
    state = status.state if status is not None else "opening"
    if state == "reconnecting":
        return tr("tile_reconnecting", seconds=status.retry_in_s, attempt=status.attempt)
    if state == "failed":
        return tr("tile_failed", detail=status.detail)[:80]
    if camera.stream_done:
        return tr("src_ended")
    stats = camera.stats
    if not stats.frames_processed:
        return tr("src_opening", label="")
    parts = [tr("fps", value=stats.processed_fps), tr("ms", value=stats.latency_ms)]
    parts.append(tr("tile_dropped", count=stats.dropped))
    if camera.checkpoint_info is None:
        parts.append(tr("tile_no_model"))
    return " · ".join(parts)


class CameraGrid(QWidget):
    """Tiles in a square grid (2x2, 3x3); empty places invite adding a camera."""

    tile_clicked = Signal(object)  # Camera
    edit_requested = Signal(object)
    remove_requested = Signal(object)
    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self.side = 2
        self.tiles: dict[int, CameraTile] = {}  # id(camera) -> tile
        self._placeholders: list[QLabel] = []

    def set_cameras(self, cameras: list[Camera], side: int) -> None:
        """Rebuild the grid: the first side x side cameras, in their order."""
        self.side = side
        for tile in self.tiles.values():
            tile.setParent(None)
            tile.deleteLater()
        for placeholder in self._placeholders:
            placeholder.setParent(None)
            placeholder.deleteLater()
        self.tiles, self._placeholders = {}, []
        for position in range(side * side):
            row, column = divmod(position, side)
            if position < len(cameras):
                tile = CameraTile(cameras[position])
                tile.clicked.connect(self.tile_clicked)
                tile.edit_requested.connect(self.edit_requested)
                tile.remove_requested.connect(self.remove_requested)
                if cameras[position].latest is not None:
                    tile.refresh(cameras[position].latest)
                self.tiles[id(cameras[position])] = tile
                self._layout.addWidget(tile, row, column)
            else:
                placeholder = EmptyTile()
                placeholder.clicked.connect(self.add_requested)
                self._placeholders.append(placeholder)
                self._layout.addWidget(placeholder, row, column)
        for index in range(3):
            self._layout.setRowStretch(index, 1 if index < side else 0)
            self._layout.setColumnStretch(index, 1 if index < side else 0)
        self.retranslate()

    def tile(self, camera: Camera) -> CameraTile | None:
        return self.tiles.get(id(camera))

    def refresh(self, camera: Camera, frame: DisplayFrame | None = None) -> None:
        tile = self.tiles.get(id(camera))
        if tile is not None:
            tile.refresh(frame)

    def retranslate(self) -> None:
        for tile in self.tiles.values():
            tile.refresh()
        for placeholder in self._placeholders:
            placeholder.setText(tr("tile_add"))


class EmptyTile(QLabel):
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyTile")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
