"""Pick the compute device and a precision that works on it, and say why in one line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from aivad.errors import UserError

DEVICE_CHOICES = ("auto", "cuda", "cpu")
PRECISION_CHOICES = ("auto", "16-mixed", "bf16-mixed", "32-true", "32")
# Precision of the networks when they extract features (training's last pass, scoring, live view):
#   auto: float32, except the appearance encoder in float16 on CUDA (cosine >= 0.9999 to float32);
#   fp32: float32 everywhere (bit-for-bit comparable with stock anomalib on the same device);
#   bf16: bfloat16 autocast for every network (RAFT, Mask/Keypoint R-CNN, CLIP): about 2-2.5x faster
#         on CPUs with AVX512-BF16 or AMX and on recent NVIDIA GPUs; changes the scores slightly.
INFERENCE_PRECISIONS = ("auto", "fp32", "bf16")


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
        raise UserError(
            f"--device cuda was asked for, but CUDA is not available: {cuda_unavailable_reason()}; use "
            "--device cpu or install a CUDA build of torch."
        )
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


def inference_autocast(precision: str, device: str, encoder: bool = False):
    """The autocast context a network runs its inference under (see ``INFERENCE_PRECISIONS``)."""
    if precision not in INFERENCE_PRECISIONS:
        raise UserError(f"--inference-precision must be one of {', '.join(INFERENCE_PRECISIONS)}, not '{precision}'.")
    device_type = "cuda" if device == "cuda" else "cpu"
    if precision == "bf16":
        return torch.autocast(device_type, dtype=torch.bfloat16)
    if precision == "auto" and encoder and device == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def bf16_warning(precision: str, device: str) -> str | None:
    """A warning where bfloat16 was asked for but would be emulated (slower than float32)."""
    if precision != "bf16":
        return None
    try:
        if device == "cuda":
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        else:  # a private oneDNN query: builds without it cannot say, so they get the warning
            native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError, TypeError):
        native = False
    if native:
        return None
    where = "GPU" if device == "cuda" else "CPU (no AVX512-BF16 or AMX)"
    return (
        f"--inference-precision bf16 is emulated on this {where} and slower than float32; use "
        "--inference-precision auto"
    )


def _as_float32(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, dict):
        return {k: _as_float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float32(v) for v in value)
    return value


class Bfloat16Inference(nn.Module):
    """Runs a sub-network under bfloat16 autocast and hands float32 back.

    Only the heavy convolution/attention trunks are wrapped: box decoding, keypoint decoding and
    the detection scores stay in float32, where bfloat16's 8-bit mantissa would move box corners
    by several pixels.
    """

    def __init__(self, module: nn.Module, device: str) -> None:
        super().__init__()
        self.module = module
        self.device_type = "cuda" if device == "cuda" else "cpu"

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:  # attributes the owner reads, e.g. RAFT's update_block.hidden_state_size
            return getattr(self._modules["module"], name)

    def forward(self, *args, **kwargs):
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            return _as_float32(self.module(*args, **kwargs))
