"""Several cameras in one window (a part of the main window): create, start, edit, remove, save.

Each camera is an :class:`aivad.ui.cameras.Camera`: its own source and its own inference worker
(own Detector, Decider, zones and threshold), the worker a job on the window's one
:class:`aivad.live.scheduler.InferenceScheduler`. The big view with the chart, zones and settings
shows the *selected* camera (:mod:`aivad.ui.window_camera_view`); ``self.worker``, ``self.source``
and the other single-camera names the rest of the window uses are that camera's, so the
single-camera code did not change.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtWidgets import QDialog

from aivad.ui.camera_dialog import CameraDialog
from aivad.ui.cameras import LAYOUTS, Camera, CameraConfig, load_setup, save_setup, slug
from aivad.ui.i18n import tr
from aivad.ui.preload import preload_model_modules
from aivad.ui.reports import DetectionSettings
from aivad.ui.worker import InferenceWorker
from aivad.video.live_sources import make_source


class WindowCameras:
    """Cameras and the grid; mixed into MainWindow."""

    # ===================================================================== the selected camera's names
    @property
    def worker(self) -> InferenceWorker:
        return self.camera.worker

    @property
    def source(self):
        return self.camera.source if self.camera is not None else None

    @source.setter
    def source(self, value) -> None:
        self.camera.source = value

    @property
    def source_spec(self) -> str:
        return self.camera.config.source

    @source_spec.setter
    def source_spec(self, value: str) -> None:
        self.camera.config.source = value

    @property
    def checkpoint_path(self) -> str:
        return self.camera.config.checkpoint

    @checkpoint_path.setter
    def checkpoint_path(self, value: str) -> None:
        self.camera.config.checkpoint = value

    @property
    def checkpoint_info(self) -> dict | None:
        return self.camera.checkpoint_info if self.camera is not None else None

    @checkpoint_info.setter
    def checkpoint_info(self, value: dict | None) -> None:
        self.camera.checkpoint_info = value

    @property
    def frames_processed(self) -> int:
        return self.camera.frames_processed

    @property
    def _source_configured(self) -> bool:
        return self.camera.source_configured

    @_source_configured.setter
    def _source_configured(self, value: bool) -> None:
        self.camera.source_configured = value

    @property
    def _stream_done(self) -> bool:
        return self.camera.stream_done

    @_stream_done.setter
    def _stream_done(self, value: bool) -> None:
        self.camera.stream_done = value

    # ===================================================================== set-up
    def _restore_cameras(self) -> None:
        # Scripted runs start from the command line's cameras, never from what the user saved.
        configs, layout, selected = load_setup(self.settings) if self.automation is None else ([], "1", "")
        self.set_cameras(configs, layout, selected)

    def _save_cameras(self) -> None:
        if self.automation is None and self.camera is not None:
            save_setup(self.settings, [c.config for c in self.cameras], self.layout_name, self.camera.name)

    def set_cameras(self, configs: list[CameraConfig], layout: str = "1", selected: str = "") -> None:
        """Replace every camera (stopping the old ones) and start the new ones."""
        for camera in list(self.cameras):
            self._stop_camera(camera)
        configs = configs or [CameraConfig(name=tr("camera_default_name", number=1))]
        self.cameras = [self._create_camera(config) for config in configs]
        self.camera = None
        self.layout_name = layout if layout in LAYOUTS else "1"
        self._layout_changed()
        chosen = next((c for c in self.cameras if c.name == selected), self.cameras[0])
        self.select_camera(chosen, show_detail=self.layout_name == "1")
        if self.layout_name != "1":
            self.show_grid()
        for camera in self.cameras:
            self._start_camera(camera)

    def _create_camera(self, config: CameraConfig) -> Camera:
        camera = Camera(config, InferenceWorker(self.scheduler, camera_name=config.name))
        w = camera.worker
        # Every signal carries its camera: the tile always learns of it, the detail only when selected.
        w.results_ready.connect(self._schedule_drain)
        w.checkpoint_loading.connect(partial(self._camera_checkpoint_loading, camera))
        w.checkpoint_loaded.connect(partial(self._camera_checkpoint_loaded, camera))
        w.checkpoint_failed.connect(partial(self._camera_checkpoint_failed, camera))
        w.source_status.connect(partial(self._camera_source_status, camera))
        w.source_finished.connect(partial(self._camera_source_finished, camera))
        w.event_started.connect(self._event_update)
        w.event_finished.connect(self._event_update)
        w.event_saved.connect(self._event_saved)
        w.problem.connect(partial(self._camera_problem, camera))
        w.event_store, w.webhook = self.event_store, self.webhook  # None until the window opened them
        w.model_cache = self.model_cache
        w.start()
        return camera

    def _start_camera(self, camera: Camera) -> None:
        """Load the camera's checkpoint and open its source (the selected one through the big view's paths)."""
        config = camera.config
        if not config.enabled:
            self.grid.refresh(camera)
            return
        if config.checkpoint:
            if camera is self.camera:
                self.load_checkpoint(config.checkpoint)
            else:
                preload_model_modules(config.checkpoint)
                camera.worker.load_checkpoint(config.checkpoint, self.device)
        if config.source:
            if camera is self.camera:
                self.open_source(config.source)
            else:
                self._open_camera_source(camera)

    def _open_camera_source(self, camera: Camera) -> None:
        every_frame = self.act_every_frame.isChecked() or self.automation is not None
        settings = self._settings_for(camera)
        source = make_source(
            camera.config.source,
            every_frame=every_frame,
            preroll_frames=1 + int(math.ceil(2 * settings.smoothing_sigma)),
        )
        camera.source = source
        camera.reset_stream()
        camera.worker.set_source(source)
        camera.worker.set_settings(settings)
        self.grid.refresh(camera)

    def _stop_camera(self, camera: Camera) -> None:
        """Its source first, then its job (which closes its events and waits for its clips)."""
        if camera.source is not None:
            camera.source.stop(0.5)
        camera.worker.stop()
        camera.source = None

    # ===================================================================== add, edit, remove
    def add_camera(self, config: CameraConfig, select: bool = False) -> Camera:
        taken = {c.name for c in self.cameras}
        base, number = config.name, 2
        while config.name in taken:  # names key the event list and the filter: keep them unique
            config = replace(config, name=f"{base} ({number})")
            number += 1
        camera = self._create_camera(config)
        self.cameras.append(camera)
        self._layout_changed()
        if select:
            self.select_camera(camera)
        self._start_camera(camera)
        self._save_cameras()
        return camera

    def remove_camera(self, camera: Camera) -> None:
        if camera not in self.cameras:
            return
        self.cameras.remove(camera)
        self._stop_camera(camera)
        if not self.cameras:
            self.cameras.append(self._create_camera(CameraConfig(name=tr("camera_default_name", number=1))))
        if camera is self.camera:
            self.camera = None
            self.select_camera(self.cameras[0], show_detail=self.layout_name == "1")
        self._layout_changed()
        self._save_cameras()

    def update_camera(self, camera: Camera, config: CameraConfig) -> None:
        """Apply an edited set-up: only what changed is reloaded or reopened."""
        old = camera.config
        camera.config = config
        camera.worker.camera_name = config.name
        if not config.enabled:
            if camera.source is not None:
                camera.source.stop(0.5)
            camera.worker.set_source(None)
            camera.source = None
            camera.reset_stream()
        else:
            reload = config.checkpoint and (config.checkpoint != old.checkpoint or not old.enabled)
            if reload:
                if camera is self.camera:
                    self.load_checkpoint(config.checkpoint)
                else:
                    preload_model_modules(config.checkpoint)
                    camera.worker.load_checkpoint(config.checkpoint, self.device)
            if config.source != old.source or not old.enabled:
                if camera is self.camera:
                    self.open_source(config.source)
                else:
                    self._open_camera_source(camera)
        if camera is self.camera and camera.checkpoint_info is not None:
            self.detection.set_threshold(
                config.threshold if config.threshold is not None else self.detection.calibrated, emit=False
            )
            self._push_settings()
        elif camera is not self.camera:
            camera.worker.set_settings(self._settings_for(camera))
        self._layout_changed()
        self._save_cameras()

    def add_camera_dialog(self) -> None:
        number = len(self.cameras) + 1
        config = CameraConfig(name=tr("camera_default_name", number=number), checkpoint=self.checkpoint_path)
        dialog = CameraDialog(None, {c.name for c in self.cameras}, self)
        dialog.name_edit.setText(config.name)
        dialog.checkpoint_edit.setText(config.checkpoint)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_camera(dialog.config(), select=self.layout_name == "1")

    def edit_camera_dialog(self, camera: Camera | None = None) -> None:
        camera = camera or self.camera
        dialog = CameraDialog(camera.config, {c.name for c in self.cameras}, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.update_camera(camera, dialog.config())

    def remove_selected_camera(self) -> None:
        self.remove_camera(self.camera)

    def _camera_output_dir(self, camera: Camera) -> str:
        # One folder per camera: every worker numbers its events from 1.
        return str(Path(self.output_dir) / slug(camera.name)) if self.output_dir else ""

    def _settings_for(self, camera: Camera) -> DetectionSettings:
        """The settings of a camera that is not in the big view: its own, else its checkpoint's."""
        if camera is self.camera:
            return self.current_settings()
        info = camera.checkpoint_info or {}
        alarm = info.get("alarm") or {}
        base = camera.settings or DetectionSettings(
            smoothing_sigma=float(info.get("smoothing_sigma", 0.0)),
            hysteresis=1.0 - float(alarm.get("release_ratio", 0.8)),
            min_duration_s=float(alarm.get("min_duration_s", 0.0)),
            merge_gap_s=float(alarm.get("merge_gap_s", 0.0)),
        )
        threshold = camera.config.threshold
        if threshold is None and info:
            threshold = float(info.get("threshold", 1.0))
        return replace(
            base,
            threshold=threshold if info else None,
            zones=[list(zone) for zone in camera.config.zones],
            zones_are_roi=camera.config.roi,
            heatmap=self.act_heatmap.isChecked(),
            save_events=self.detection.save_events.isChecked(),
            output_dir=self._camera_output_dir(camera),
        )

    # ===================================================================== each camera's signals
    def _camera_checkpoint_loading(self, camera: Camera, path: str) -> None:
        if camera is self.camera:
            self.model_card.set_loading(Path(path).name)

    def _camera_checkpoint_loaded(self, camera: Camera, info: dict) -> None:
        if camera not in self.cameras:
            return  # removed while it loaded
        camera.checkpoint_info = info
        camera.config.checkpoint = str(info.get("path", camera.config.checkpoint))
        if camera is self.camera:
            self._checkpoint_loaded(info)
        else:
            camera.worker.set_settings(self._settings_for(camera))
        self.grid.refresh(camera)

    def _camera_checkpoint_failed(self, camera: Camera, message: str) -> None:
        if camera is self.camera:
            self._checkpoint_failed(message)
        elif camera in self.cameras:
            self.show_error(f"{camera.name}: " + tr("ckpt_failed", message=message), owner="checkpoint")
            self._automation_fail()

    def _camera_source_status(self, camera: Camera, status) -> None:
        if camera not in self.cameras:
            return
        camera.status = status
        if camera is self.camera:
            self._source_status(status)
        elif status.state == "failed":
            self._automation_fail()
        self.grid.refresh(camera)

    def _camera_source_finished(self, camera: Camera) -> None:
        if camera not in self.cameras:
            return
        # The worker reported every frame before its end; a drain still waiting on its timer must not
        # leave them out of the chart and tiles of a finished stream.
        self._drain()
        camera.stream_done = True
        camera.alarm = False  # the file's end closed its event
        if camera is self.camera:
            self._source_finished()
        self.grid.refresh(camera)
        self._check_automation()

    def _camera_problem(self, camera: Camera, message: str) -> None:
        if camera in self.cameras:
            text = f"{camera.name}: {message}" if len(self.cameras) > 1 else message
            self.show_error(tr("problem", message=text), owner="problem", level="warning")

    def _check_automation(self) -> None:
        """Scripted runs end once every watching camera processed its frames (or its file ended)."""
        automation = self.automation
        if automation is None or automation.done:
            return
        active = [c for c in self.cameras if c.config.enabled and c.config.source]
        if active and all(c.frames_processed >= automation.frames or c.stream_done for c in active):
            self._automation_finish(0 if any(c.frames_processed for c in active) else 2)
