"""Shared test fixtures: tiny synthetic videos, so no test needs real footage."""

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import LITE_FAST, TINY_FRAMES, TINY_SIZE, train

from aivad.video.synthetic import make_scene_video


@pytest.fixture
def tiny_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``tiny_video("sub/clip.avi", n_frames=5, seed=1)`` writes a small clip under tmp_path."""

    def make(name: str = "clip.mp4", n_frames: int = TINY_FRAMES, **scene) -> Path:
        return make_scene_video(tmp_path / name, n_frames=n_frames, size=TINY_SIZE, **scene)

    return make


@pytest.fixture(scope="session")
def lite_training_videos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("lite_videos")
    return [make_scene_video(folder / f"normal_{seed}.mp4", n_frames=40, size=(160, 120), seed=seed) for seed in (1, 2)]


@pytest.fixture(scope="session")
def lite_checkpoint(tmp_path_factory, lite_training_videos) -> Path:
    """A small trained lite checkpoint (2 synthetic normal videos, 2 epochs)."""
    output = tmp_path_factory.mktemp("lite_ckpt") / "lite.ckpt"
    assert (
        train(
            "from_scratch",
            ["--videos", *map(str, lite_training_videos), "--output", str(output), "--epochs", "2", *LITE_FAST],
        )
        == 0
    )
    return output
