"""Pick the compute device and a precision that works on it, and say why in one line."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from aivad.errors import UserError

DEVICE_CHOICES = ("auto", "cuda", "cpu")
PRECISION_CHOICES = ("auto", "16-mixed", "bf16-mixed", "32-true", "32")


@dataclass
class DeviceChoice:
    device: str  # "cuda" or "cpu"
    reason: str  # printed at start, e.g. "CUDA not available: torch is a CPU build"


def cuda_unavailable_reason() -> str:
    if torch.version.cuda is None:
        return "torch is a CPU-only build (README: 'Installing a CUDA build of torch')"
    return "no NVIDIA GPU or driver was found by torch"


def choose_device(requested: str = "auto") -> DeviceChoice:
    if requested not in DEVICE_CHOICES:
        raise UserError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, not '{requested}'.")
    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise UserError(f"--device cuda was asked for, but CUDA is not available: {cuda_unavailable_reason()}; use --device cpu or install a CUDA build of torch.")
    if requested == "cpu":
        return DeviceChoice("cpu", "CPU forced with --device cpu")
    if has_cuda:
        return DeviceChoice("cuda", f"CUDA GPU: {torch.cuda.get_device_name(0)}")
    return DeviceChoice("cpu", f"CUDA not available: {cuda_unavailable_reason()}")


def choose_precision(requested: str, device: str) -> tuple[str, str | None]:
    """Return (precision, warning or None). 16-bit mixed precision is a CUDA feature here."""
    if requested not in PRECISION_CHOICES:
        raise UserError(f"--precision must be one of {', '.join(PRECISION_CHOICES)}, not '{requested}'.")
    if requested == "auto":
        return ("16-mixed" if device == "cuda" else "32-true"), None
    if requested == "32":
        requested = "32-true"
    if device == "cpu" and requested == "16-mixed":
        return "32-true", "precision 16-mixed needs a CUDA GPU; using 32-true on the CPU"
    return requested, None
