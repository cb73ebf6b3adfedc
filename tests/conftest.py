"""Shared test fixtures: tiny synthetic videos, so no test needs real footage."""

from collections.abc import Callable
from pathlib import Path

import pytest

from aivad.synthetic import make_scene_video

REPO_ROOT = Path(__file__).resolve().parent.parent  # pyproject.toml puts it on sys.path for the tests

TINY_SIZE = (64, 48)
TINY_FRAMES = 12


@pytest.fixture
def tiny_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``tiny_video("sub/clip.avi", n_frames=5, seed=1)`` writes a small clip under tmp_path."""

    def make(name: str = "clip.mp4", n_frames: int = TINY_FRAMES, **scene) -> Path:
        return make_scene_video(tmp_path / name, n_frames=n_frames, size=TINY_SIZE, **scene)

    return make


def train(preset_name: str, args: list[str]) -> int:
    """Run a training script's main in-process with its own preset (no subprocess start-up cost)."""
    import runpy

    preset = runpy.run_path(str(REPO_ROOT / f"train_aivad_{preset_name}.py"))["PRESET"]
    from aivad.train import main

    return main(args, preset)


def train_as_user(preset_name: str, args: list) -> int:
    """As :func:`train`, through the console wrapper a user's run goes through: a mistake the user
    can make becomes exit code 2 and one sentence on stderr."""
    from aivad.console import run_main

    return run_main(lambda a: train(preset_name, a), [str(a) for a in args])


# Small, fast settings shared by the tests that train.
LITE_FAST = ["--backend", "lite", "--device", "cpu", "--num-workers", "0", "--batch-size", "8"]


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
