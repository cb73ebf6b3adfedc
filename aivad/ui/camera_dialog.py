"""Adding or editing one camera: a name, a source, a checkpoint and an optional threshold.

A small form rather than a wizard: a CCTV installer types an RTSP URL or a webcam index as
often as they pick a file, so the source is one text field with a browse button beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aivad.ui.cameras import CameraConfig
from aivad.ui.i18n import tr


class CameraDialog(QDialog):
    def __init__(self, config: CameraConfig | None = None, taken_names: set[str] = frozenset(), parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("camera_dialog_edit" if config is not None else "camera_dialog_add"))
        self._base = config or CameraConfig(name="")
        self._taken = {name for name in taken_names if name != self._base.name}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name_edit = QLineEdit(self._base.name)
        self.source_edit = QLineEdit(self._base.source)
        self.source_edit.setPlaceholderText(tr("camera_source_hint"))
        self.checkpoint_edit = QLineEdit(self._base.checkpoint)
        self.use_checkpoint_threshold = QCheckBox(tr("camera_threshold_auto"))
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setDecimals(4)
        self.threshold_spin.setRange(0.0, 1000.0)
        self.threshold_spin.setSingleStep(0.01)
        self.use_checkpoint_threshold.toggled.connect(lambda auto: self.threshold_spin.setEnabled(not auto))
        self.use_checkpoint_threshold.setChecked(self._base.threshold is None)
        self.threshold_spin.setValue(self._base.threshold if self._base.threshold is not None else 1.0)
        self.threshold_spin.setEnabled(self._base.threshold is not None)
        self.enabled_check = QCheckBox(tr("camera_enabled"))
        self.enabled_check.setChecked(self._base.enabled)
        form.addRow(tr("camera_name"), self.name_edit)
        form.addRow(tr("camera_source"), self._with_browse(self.source_edit, self._browse_source))
        form.addRow(tr("camera_checkpoint"), self._with_browse(self.checkpoint_edit, self._browse_checkpoint))
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold_spin)
        threshold_row.addWidget(self.use_checkpoint_threshold)
        form.addRow(tr("threshold"), threshold_row)
        form.addRow("", self.enabled_check)
        layout.addLayout(form)
        self.error_label = QLabel()
        self.error_label.setObjectName("muted")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def _with_browse(self, edit: QLineEdit, slot) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        button = QPushButton(tr("camera_browse"))
        button.clicked.connect(slot)
        box.addWidget(button)
        return row

    def _browse_source(self) -> None:
        start = str(Path(self.source_edit.text()).parent) if self.source_edit.text() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, tr("act_open_video"), start, tr("filter_videos"))
        if path:
            self.source_edit.setText(path)

    def _browse_checkpoint(self) -> None:
        start = str(Path(self.checkpoint_edit.text()).parent) if self.checkpoint_edit.text() else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, tr("act_load_checkpoint"), start, tr("filter_ckpt"))
        if path:
            self.checkpoint_edit.setText(path)

    def problem(self) -> str:
        """What keeps the form from being a camera, in one sentence; "" when it is fine."""
        name, source = self.name_edit.text().strip(), self.source_edit.text().strip()
        if not name:
            return tr("camera_need_name")
        if name in self._taken:
            return tr("camera_name_taken", name=name)
        if not source:
            return tr("camera_need_source")
        if not source.isdigit() and "://" not in source and not os.path.exists(source):  # file or frame folder
            return tr("src_missing", path=source)
        checkpoint = self.checkpoint_edit.text().strip()
        if checkpoint and not os.path.isfile(checkpoint):
            return tr("camera_checkpoint_missing", path=checkpoint)
        return ""

    def _accept_if_valid(self) -> None:
        message = self.problem()
        self.error_label.setText(message)
        if not message:
            self.accept()

    def config(self) -> CameraConfig:
        """The camera as filled in; zones are kept from the camera being edited."""
        return CameraConfig(
            name=self.name_edit.text().strip(),
            source=self.source_edit.text().strip(),
            checkpoint=self.checkpoint_edit.text().strip(),
            zones=[list(zone) for zone in self._base.zones],
            roi=self._base.roi,
            threshold=None if self.use_checkpoint_threshold.isChecked() else float(self.threshold_spin.value()),
            enabled=self.enabled_check.isChecked(),
        )
