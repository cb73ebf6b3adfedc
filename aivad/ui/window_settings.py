"""What the window remembers between sessions (QSettings), and what it hands the worker."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from aivad.ui.reports import DetectionSettings
from aivad.video.file_source import FileSource


def as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


# ========================================================================= main


class WindowSettings:
    """Restoring and saving the window's settings; mixed into MainWindow."""

    # ===================================================================== settings
    def _restore_settings(self) -> None:
        s = self.settings
        if self.automation is None:
            geometry = s.value("window/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            splitter = s.value("window/splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)
        self.detection.hysteresis_spin.setValue(float(s.value("detection/hysteresis", 20.0)))
        self.detection.duration_spin.setValue(float(s.value("detection/min_duration", 0.0)))
        self.detection.merge_spin.setValue(float(s.value("detection/merge_gap", 0.0)))
        self.detection.save_events.setChecked(as_bool(s.value("detection/save_events", True)))
        self.act_heatmap.setChecked(as_bool(s.value("view/heatmap", False)))
        self.act_boxes.setChecked(as_bool(s.value("view/boxes", True)))
        # Automation analyses every frame so a screenshot after N frames is reproducible.
        self.act_every_frame.setChecked(self.automation is not None or as_bool(s.value("source/every_frame", False)))
        device = str(s.value("device", "auto"))
        if device in self.device_actions:
            self.device_actions[device].setChecked(True)
        language = str(s.value("language", "system"))
        self.language_actions.get(language, self.language_actions["system"]).setChecked(True)
        default_output = (
            Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation) or Path.home())
            / "aivad-events"
        )
        self.output_dir = str(s.value("output_dir", str(default_output)))

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("detection/hysteresis", self.detection.hysteresis_spin.value())
        s.setValue("detection/min_duration", self.detection.duration_spin.value())
        s.setValue("detection/merge_gap", self.detection.merge_spin.value())
        s.setValue("detection/save_events", self.detection.save_events.isChecked())
        s.setValue("view/heatmap", self.act_heatmap.isChecked())
        s.setValue("view/boxes", self.act_boxes.isChecked())
        s.setValue("source/every_frame", self.act_every_frame.isChecked())
        s.setValue("device", self.device)
        s.setValue("output_dir", self.output_dir)
        s.sync()

    @property
    def device(self) -> str:
        action = self.device_group.checkedAction()
        return str(action.data()) if action is not None else "auto"

    def current_settings(self) -> DetectionSettings:
        return DetectionSettings(
            threshold=self.detection.threshold if self.checkpoint_info is not None else None,
            smoothing_sigma=self.detection.smoothing_spin.value(),
            hysteresis=self.detection.hysteresis_spin.value() / 100.0,
            min_duration_s=self.detection.duration_spin.value(),
            merge_gap_s=self.detection.merge_spin.value(),
            zones=[list(zone) for zone in self.video.zones],
            zones_are_roi=self.act_roi_mode.isChecked(),
            heatmap=self.act_heatmap.isChecked(),
            save_events=self.detection.save_events.isChecked(),
            output_dir=self._camera_output_dir(self.camera),
        )

    def _push_settings(self) -> None:
        """The panel's values to the selected camera's worker; the camera remembers them (and its threshold)."""
        if self.camera is None:
            return
        settings = self.current_settings()
        self.worker.set_settings(settings)
        self.camera.settings = settings
        if settings.threshold is not None:
            self.threshold = settings.threshold
            # None: follow the checkpoint's calibration (also after a retrain); a set value stays.
            calibrated = self.detection.calibrated
            own = abs(settings.threshold - calibrated) > 5e-4 * max(calibrated, 1e-6)
            self.camera.config.threshold = settings.threshold if own else None
        off_level = self.threshold * (1.0 - settings.hysteresis)
        self.chart.set_threshold(self.threshold, off_level)
        if isinstance(self.source, FileSource):
            # Enough earlier frames after a seek for velocity and the smoothing window.
            self.source.preroll_frames = 1 + int(math.ceil(2 * settings.smoothing_sigma))
