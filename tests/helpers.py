"""What tests share besides fixtures: paths, sizes, fast training flags, training in-process.

(Not in conftest.py: pytest loads every folder's conftest.py under the one module name "conftest",
so importing from it would depend on which folder's tests ran last.)
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # pyproject.toml puts it on sys.path for the tests

TINY_SIZE = (64, 48)
TINY_FRAMES = 12


def train(preset_name: str, args: list[str]) -> int:
    """Run a training script's main in-process with its own preset (no subprocess start-up cost)."""
    import runpy

    preset = runpy.run_path(str(REPO_ROOT / f"train_aivad_{preset_name}.py"))["PRESET"]
    from aivad.training.pipeline import main

    return main(args, preset)


def train_as_user(preset_name: str, args: list) -> int:
    """As :func:`train`, through the console wrapper a user's run goes through: a mistake the user
    can make becomes exit code 2 and one sentence on stderr."""
    from aivad.console import run_main

    return run_main(lambda a: train(preset_name, a), [str(a) for a in args])


# Small, fast settings shared by the tests that train.
LITE_FAST = ["--backend", "lite", "--device", "cpu", "--num-workers", "0", "--batch-size", "8"]


def velocity_pose_config(smoothing_sigma: float):
    """A full-backend model config scoring velocity (GMM) and pose (kNN), for fitting tests on made-up features."""
    from aivad.model.aivad_model import default_density_config
    from aivad.model.config import ModelConfig
    from aivad.model.scoring import MAX_SMOOTHED

    return ModelConfig(
        backend="full",
        backend_settings={},
        encoder="clip_vit_b16",
        density=default_density_config(["velocity", "pose"]),
        combine=MAX_SMOOTHED,
        smoothing_sigma=smoothing_sigma,
    )
