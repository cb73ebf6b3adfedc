"""Which camera the window shows: every camera in the grid, or one in the big view (a part of the main window).

The big view shows the *selected* camera's frame, chart history, zones, model and settings
(:class:`aivad.ui.window_cameras.WindowCameras` keeps the cameras themselves).
"""

from __future__ import annotations

from aivad.ui.cameras import LAYOUTS, Camera
from aivad.ui.i18n import tr


class WindowCameraView:
    """Selecting a camera, the grid and its layout; mixed into MainWindow."""

    def select_camera(self, camera: Camera, show_detail: bool = True) -> None:
        """Show ``camera`` in the big view: its frame, chart history, zones, model and settings."""
        self.camera = camera
        source = camera.source
        self.video.clear()
        self.video.set_zones(camera.config.zones, camera.config.roi)
        self.act_roi_mode.blockSignals(True)
        self.act_roi_mode.setChecked(camera.config.roi)
        self.act_roi_mode.blockSignals(False)
        self._update_zone_label()
        seekable = source is not None and source.seekable
        if source is not None and source.status.state in ("playing", "paused", "ended"):
            camera.source_configured = True
        frame_count = source.frame_count if source is not None else 0
        self.chart.reset(seekable=seekable, frame_count=frame_count, fps=source.fps if source is not None else 25.0)
        for report in camera.history:
            self.chart.add(report.index, report.time_s, report.score, report.alarm)
        self.show_taught_ranges(camera)  # aivad.ui.window_teach
        self.transport.set_seekable(seekable and camera.source_configured, frame_count, source.fps if source else 25)
        self.model_card.set_info(camera.checkpoint_info)
        self.detection.blockSignals(True)  # the panel shows this camera's values; one push below
        info = camera.checkpoint_info
        if info is not None:
            self.detection.set_calibrated(
                float(info.get("threshold", 1.0)),
                float(info.get("smoothing_sigma", 0.0)),
                info.get("alarm"),
                info.get("false_alarm_model"),
            )
        if camera.settings is not None:
            self.detection.smoothing_spin.setValue(camera.settings.smoothing_sigma)
            self.detection.hysteresis_spin.setValue(camera.settings.hysteresis * 100.0)
            self.detection.duration_spin.setValue(camera.settings.min_duration_s)
            self.detection.merge_spin.setValue(camera.settings.merge_gap_s)
        if info is not None and camera.config.threshold is not None:
            self.detection.set_threshold(camera.config.threshold, emit=False)
        self.detection.blockSignals(False)
        self.source_title.setText(source.label if source is not None else "")
        self._show_source_status(camera.status)
        if camera.latest is not None:
            self._show_latest(camera.latest)
        else:
            self.badge.set_state("idle")
            self.score_value.setText("–")
            self.driver_label.setText("")
        self._show_stats(camera.stats)
        self._refresh_idle_state()
        self._push_settings()
        self._fill_camera_choice()
        if show_detail:
            self.show_detail()

    def show_detail(self) -> None:
        self.stack.setCurrentWidget(self.detail_page)
        self.model_card.show()
        self.detection.show()
        self.back_button.setVisible(self.layout_name != "1")

    def show_grid(self) -> None:
        if self.layout_name == "1":
            self.set_layout("2x2")
            return
        self.stack.setCurrentWidget(self.grid)
        # The grid's sidebar is the combined event list; the selected camera's settings wait for its view.
        self.model_card.hide()
        self.detection.hide()
        self.back_button.hide()
        self.act_edit_mask.setChecked(False)

    @property
    def showing_grid(self) -> bool:
        return self.stack.currentWidget() is self.grid

    def set_layout(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {name!r}")
        self.layout_name = name
        self._layout_changed()
        if name == "1":
            self.show_detail()
        else:
            self.show_grid()
        self._save_cameras()

    def _layout_changed(self) -> None:
        side = LAYOUTS[self.layout_name]
        self.grid.set_cameras(self.cameras if side > 1 else [], side if side > 1 else 1)
        for name, action in self.layout_actions.items():
            action.setChecked(name == self.layout_name)
            self.layout_buttons[name].setChecked(name == self.layout_name)
        self.events.set_cameras([c.name for c in self.cameras])
        self._fill_camera_choice()

    def _fill_camera_choice(self) -> None:
        combo = self.camera_choice
        combo.blockSignals(True)
        combo.clear()
        for camera in self.cameras:
            combo.addItem(camera.name)
        if self.camera in self.cameras:
            combo.setCurrentIndex(self.cameras.index(self.camera))
        combo.blockSignals(False)

    def _camera_chosen(self, index: int) -> None:
        if 0 <= index < len(self.cameras):
            self.select_camera(self.cameras[index])

    def _retranslate_cameras(self) -> None:
        self.menu_cameras.setTitle(tr("menu_cameras"))
        self.back_button.setText("◀  " + tr("act_show_grid"))
        self.add_button.setText(tr("tile_add"))
        self.grid.retranslate()
        self.events.retranslate()
