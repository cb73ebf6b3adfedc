"""Import the model's extension modules on the GUI thread, before a scheduler thread needs them."""

from __future__ import annotations

from pathlib import Path


def preload_model_modules(checkpoint: str | Path | None = None) -> None:
    """Import the model's extension modules on the GUI thread, before the worker needs them.

    PySide6 hooks module creation; importing torch's C extensions on a worker thread while
    the GUI thread runs Qt crashed the interpreter (PySide6 6.12, "none_dealloc"). Imports
    are cached, so this costs time only once. The full backend's modules (torchvision
    detection and flow, a few seconds) are skipped when the checkpoint's sidecar JSON says
    it is a lite model.
    """
    import importlib
    import json

    modules = [
        "torch",
        "aivad.live.detector",
        "aivad.features.backends",
        "aivad.features.lite",
        "aivad.model.aivad_model",
        "aivad.model.checkpoint",
        "aivad.features.weights",
        "aivad.devices",
    ]
    backend = ""
    if checkpoint is not None:
        sidecar = Path(str(checkpoint) + ".json")
        try:
            backend = str(json.loads(sidecar.read_text(encoding="utf-8")).get("backend", ""))
        except (OSError, ValueError, AttributeError):
            backend = ""
    if backend != "lite":
        modules += [
            "torchvision.ops",
            "torchvision.models.detection",
            "torchvision.models.optical_flow",
            "aivad.features.full",
            "aivad.features.flow",
            "aivad.features.pose",
            "aivad.features.regions",
            "aivad.model.anomalib",
        ]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass  # the worker's own import reports the problem as a checkpoint error
