"""Reading and writing checkpoints: atomic writes, code-free loading, and anomalib's AiVad format.

Our checkpoint is a Lightning-style dict: ``state_dict`` (encoder, densities, threshold),
``hyper_parameters`` (the model config), ``pytorch-lightning_version`` and ``aivad`` (what it was
trained on, settings, versions). It is loaded with ``torch.load(weights_only=True)`` plus an
explicit allow-list, so a checkpoint can never run code on the user's machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import pickle
import tempfile
from pathlib import Path

import torch

from aivad.errors import UserError
from aivad.model.aivad_model import FORMAT, FORMAT_VERSION


# Everything beyond tensors and plain containers that our and anomalib's (Lightning) checkpoints
# are known to hold. Anything else makes loading fail, and we refuse the file.
def _allowed_globals() -> list:
    allowed = [pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath, pathlib.PureWindowsPath]
    try:
        import numpy as np

        allowed += [np.dtype, np.core.multiarray.scalar] if hasattr(np, "core") else [np.dtype]
        allowed += [type(np.dtype(np.float64)), type(np.dtype(np.float32)), type(np.dtype(np.int64))]
        from numpy._core.multiarray import scalar

        allowed.append(scalar)
    except (ImportError, AttributeError):
        pass
    return allowed


def atomic_write_bytes(path: Path, write) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over the target.

    A crash or kill at any moment leaves either the old complete file or the new complete file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def save_checkpoint(path: Path, payload: dict) -> None:
    atomic_write_bytes(path, lambda handle: torch.save(payload, handle))


def save_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    atomic_write_bytes(path, lambda handle: handle.write(text))


def summary_path(checkpoint_path: Path) -> Path:
    return Path(str(checkpoint_path) + ".json")


def load_raw(path: Path) -> dict:
    """torch.load with weights_only=True; every failure becomes one sentence."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"checkpoint {path} does not exist; check the path or train one first.")
    if not path.is_file() or path.stat().st_size == 0:
        raise UserError(f"checkpoint {path} is empty or not a file; copy it again or retrain.")
    try:
        with torch.serialization.safe_globals(_allowed_globals()):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise UserError(
            f"checkpoint {path} was refused: it needs objects beyond plain weights to load "
            f"({str(error).splitlines()[0][:160]}), "
            "and loading those could run code from the file; use a checkpoint written by this project or by "
            "anomalib's AiVad."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise UserError(
            f"checkpoint {path} is damaged or truncated ({str(error).splitlines()[0][:120]}); copy it again or retrain."
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            f"{path} is not an AI-VAD checkpoint (it holds a {type(data).__name__}, not a checkpoint dict)."
        )
    return data


def checkpoint_kind(data: dict) -> str:
    """'aivad' (ours), 'anomalib' (anomalib's AiVad) or 'foreign'."""
    if isinstance(data.get("aivad"), dict) and data["aivad"].get("format") == FORMAT:
        return "aivad"
    state = data.get("state_dict")
    if isinstance(state, dict) and any(k.startswith("model.density_estimator.") for k in state):
        return "anomalib"
    return "foreign"


def require_known(path: Path, data: dict) -> str:
    kind = checkpoint_kind(data)
    if kind == "foreign":
        keys = list(data.get("state_dict", data))[:3]
        raise UserError(
            f"{path} is not an AI-VAD checkpoint (no AI-VAD model inside; first keys: {', '.join(map(str, keys))}); "
            "pass a checkpoint written by these training scripts or by anomalib's AiVad."
        )
    if kind == "aivad" and data["aivad"].get("format_version", 0) > FORMAT_VERSION:
        raise UserError(f"{path} was written by a newer version of this project; update the project to load it.")
    return kind
