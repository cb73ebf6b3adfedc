"""Plain-Python results of scoring one frame: what the UI, the CSV writer and the tests read.

No tensors here on purpose: the UI and the command line only ever see these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RegionResult:
    """One object region in one frame."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels
    score: float  # this region's attribute scores combined like the frame's (aivad.model.scoring)
    attributes: dict[str, float]  # normalised score per attribute
    whole_frame: bool = False  # True when no region was found and the whole frame stood in

    @property
    def top_attribute(self) -> str:
        return max(self.attributes, key=self.attributes.get) if self.attributes else ""


@dataclass
class FrameResult:
    """Everything known about one frame after scoring."""

    frame_index: int
    time_s: float
    score: float  # smoothed frame score (what the threshold is applied to)
    raw_score: float  # unsmoothed frame score: attribute_scores combined (aivad.model.scoring)
    is_anomaly: bool
    attribute_scores: dict[str, float]  # per attribute: max over regions, this frame
    regions: list[RegionResult] = field(default_factory=list)
    # per attribute, smoothed in time like ``score`` (causal live, centred offline)
    smoothed_attribute_scores: dict[str, float] = field(default_factory=dict)
    # what the camera itself did (aivad.features.camera_motion: "shaking", "exposure", "no picture"), held
    # for a moment after it stops (Detector); "" while it holds still or the backend cannot tell
    camera: str = ""

    @property
    def n_regions(self) -> int:
        return sum(not r.whole_frame for r in self.regions)

    @property
    def top_attribute(self) -> str:
        """What the (smoothed) score comes from; the current frame's when nothing was smoothed."""
        scores = self.smoothed_attribute_scores or self.attribute_scores
        return max(scores, key=scores.get) if scores else ""


# ``camera`` last, so that scripts reading the earlier columns by position keep working
CSV_COLUMNS = ["frame_index", "time_s", "score", "raw_score", "is_anomaly", "n_regions", "top_attribute", "camera"]


def write_csv(path: Path, results) -> None:
    from aivad.model.checkpoint import atomic_write_bytes

    lines = [",".join(CSV_COLUMNS)]
    for r in results:
        lines.append(
            f"{r.frame_index},{r.time_s:.3f},{r.score:.6f},{r.raw_score:.6f},{int(r.is_anomaly)},{r.n_regions},{r.top_attribute},{r.camera}"
        )
    text = ("\n".join(lines) + "\n").encode("utf-8")
    atomic_write_bytes(path, lambda handle: handle.write(text))
