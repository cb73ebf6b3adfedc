"""Shared test fixtures: tiny synthetic videos, so no test needs real footage."""

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Tests import the package from this checkout; it is not installed into the venv.
sys.path.insert(0, str(REPO_ROOT))

from aivad.synthetic import make_scene_video  # noqa: E402

TINY_SIZE = (64, 48)
TINY_FRAMES = 12


@pytest.fixture
def tiny_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``tiny_video("sub/clip.avi", n_frames=5, seed=1)`` writes a small clip under tmp_path."""

    def make(name: str = "clip.mp4", n_frames: int = TINY_FRAMES, **scene) -> Path:
        return make_scene_video(tmp_path / name, n_frames=n_frames, size=TINY_SIZE, **scene)

    return make
