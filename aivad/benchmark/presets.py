"""Per-dataset settings: where the AI-VAD authors' code sets a value per dataset, the benchmark does the same.

Read from the authors' code (github.com/talreiss/Accurate-Interpretable-VAD): ``evaluate.py`` fits the
velocity GMM with 2 components on Ped2 and 5 otherwise, and leaves the deep (appearance) features out of
ShanghaiTech's final score; ``feature_extraction.py`` uses 1 flow-direction bin on Ped2 and 8 otherwise, and
on ShanghaiTech divides the flow magnitude of each person box by the box's height; their README smooths
with sigma 3 on Ped2 and Avenue and 7 on ShanghaiTech. Their velocity is otherwise the flow as measured.

Each preset turns into training flags (:func:`training_flags`), so it reaches the model through the same
command line a user trains with, and the report lists it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DatasetPreset:
    smoothing_sigma: float  # frames, per-video Gaussian smoothing of the frame scores (protocol.smooth)
    velocity_components: int  # Gaussian components of the velocity density
    velocity_bins: int  # flow-direction bins of the velocity histogram (full backend)
    velocity_units: str  # aivad.model.aivad_model.VELOCITY_UNITS
    appearance: bool  # whether the appearance attribute is scored
    frame_fps: float | None  # frame rate of the test frame folders (None: the reader's default)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    # UCSD's frames are commonly taken at 10 per second; the rate only sets the report's times and the
    # training's false-alarm calibration, never a frame score.
    "ped2": DatasetPreset(3.0, 2, 1, "pixels", True, 10.0),
    "avenue": DatasetPreset(3.0, 5, 8, "pixels", True, None),
    "shanghaitech": DatasetPreset(7.0, 5, 8, "box_height", False, None),
}

# What a preset cannot do on each backend, said in the report.
LITE_NOTES = (
    "lite backend: velocity is a speed without direction, so velocity_bins does not apply; it has no object "
    "classes, so box_height divides every region's flow by its height (the authors: person boxes only)"
)
FULL_NOTES = "full backend: box_height divides every region's flow by its height (the authors: person boxes only)"


def training_flags(preset: DatasetPreset) -> list[str]:
    """The training command line's flags (aivad.training.arguments) that apply the preset."""
    flags = [
        "--velocity-components",
        str(preset.velocity_components),
        "--velocity-bins",
        str(preset.velocity_bins),
        "--velocity-units",
        preset.velocity_units,
    ]
    return flags if preset.appearance else [*flags, "--no-appearance"]


def preset_notes(name: str, backend: str) -> str:
    preset = PRESETS[name]
    if backend == "lite":
        return LITE_NOTES if preset.velocity_units == "box_height" else LITE_NOTES.split(";")[0]
    return FULL_NOTES if preset.velocity_units == "box_height" else ""
