"""Does the view check (aivad.features.camera_view) tell a moved camera from the view it was trained on?

Per development split: the reference view is built from the split's training videos exactly as training
builds it, and the split's test video is fed frame by frame through the ViewMonitor each live stream
runs, as it is and changed:

- ``as is``, ``dark`` (30% brightness), ``blur`` (Gaussian, sigma 3 px): the same view, which must never
  count as changed;
- simulated light on the same view, which must not count as changed either: ``uneven light`` (the frame
  times a smooth random light field from 0.2 to 1.0), ``shadow`` (the right 45% of the frame at 45%),
  ``night`` (5% brightness plus sensor noise of 3 grey levels), ``inverted`` (grey, contrast inverted, as
  a thermal or infrared picture can be);
- ``shift 20`` (20 px right, 10 down), ``zoom 1.1``, ``rotate 3`` (degrees): small knocks;
- ``shift 70`` (70 px right, 40 down), ``rotate 8 zoom 1.2``: a camera turned away;
- ``turned at half time``: the test video as it is, then from its middle on shifted by 70 px (printed: the
  delay from the turn);
- ``other scene``: each of opencv-doc's example images beside vtest.avi (baboon, squirrel, box, licence
  plate) as a still camera with sensor noise: another camera's picture on this camera's model.

Printed per split and variant: the range of the similarity once judged, the share of judged frames
counted as changed, and how long after the start the first "changed" came (live: the check needs
VIEW_MIN_SAMPLES samples, one every VIEW_EVERY frames).

    python benchmarks/view_check.py vtest-dev vtest-dev-b ... --images ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dev_quality import report_per_split  # noqa: E402

FPS = 10.0
OTHER_IMAGES = ("baboon.jpg", "squirrel_cls.jpg", "box.png", "licenseplate_motion.jpg")


def changed_view(frame: np.ndarray, kind: str) -> np.ndarray:
    height, width = frame.shape[:2]
    centre = (width / 2, height / 2)
    if kind in ("as is",):
        return frame
    if kind == "dark":
        return cv2.convertScaleAbs(frame, alpha=0.3)
    if kind == "blur":
        return cv2.GaussianBlur(frame, (0, 0), 3)
    if kind == "uneven light":
        field = cv2.resize(np.random.default_rng(2).random((3, 4)).astype(np.float32), (width, height))
        field = 0.2 + 0.8 * (field - field.min()) / (field.max() - field.min())
        return np.clip(frame * field[..., None], 0, 255).astype(np.uint8)
    if kind == "shadow":
        out = frame.copy()
        out[:, int(width * 0.55) :] = (out[:, int(width * 0.55) :] * 0.45).astype(np.uint8)
        return out
    if kind == "night":
        noise = np.random.default_rng(int(frame[0, 0, 0])).normal(0, 3, frame.shape)
        return np.clip(frame * 0.05 + noise, 0, 255).astype(np.uint8)
    if kind == "inverted":
        return cv2.cvtColor(255 - cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    matrices = {
        "shift 20": np.float32([[1, 0, 20], [0, 1, 10]]),
        "shift 70": np.float32([[1, 0, 70], [0, 1, 40]]),
        "zoom 1.1": cv2.getRotationMatrix2D(centre, 0, 1.1),
        "rotate 3": cv2.getRotationMatrix2D(centre, 3, 1.0),
        "rotate 8 zoom 1.2": cv2.getRotationMatrix2D(centre, 8, 1.2),
    }
    return cv2.warpAffine(frame, matrices[kind], (width, height), borderMode=cv2.BORDER_REFLECT)


KINDS = (
    "as is", "dark", "blur", "uneven light", "shadow", "night", "inverted",
    "shift 20", "zoom 1.1", "rotate 3", "shift 70", "rotate 8 zoom 1.2",
)  # fmt: skip


def run_monitor(monitor, frames) -> dict:
    monitor.reset()
    similarities, changed, first = [], 0, None
    for i, frame in enumerate(frames):
        monitor.add(frame)
        if monitor.similarity is not None:
            similarities.append(monitor.similarity)
            changed += monitor.changed
            if monitor.changed and first is None:
                first = i / FPS
    return {
        "similarity": [min(similarities), max(similarities)] if similarities else None,
        "changed_share": changed / len(similarities) if similarities else None,
        "first_changed_s": first,
    }


def evaluate(data: Path, images: Path | None) -> dict:
    from aivad.features.camera_view import ViewMonitor, decode_view, reference_view
    from aivad.video.files import read_frames, validate_videos

    reference = decode_view(reference_view(validate_videos(sorted((data / "train").glob("*.mp4")))))
    monitor = ViewMonitor(reference)
    frames = [frame for _, frame in read_frames(data / "test" / "dev_test.mp4")]
    out = {kind: run_monitor(monitor, [changed_view(f, kind) for f in frames]) for kind in KINDS}
    middle = len(frames) // 2
    turned = run_monitor(monitor, frames[:middle] + [changed_view(f, "shift 70") for f in frames[middle:]])
    if turned["first_changed_s"] is not None:
        turned["first_changed_s"] -= middle / FPS  # from the turn
    out["turned at half time"] = turned
    if images is not None:
        rng = np.random.default_rng(0)
        height, width = frames[0].shape[:2]
        for name in OTHER_IMAGES:
            still = cv2.resize(cv2.imread(str(images / name)), (width, height))
            noisy = [np.clip(still + rng.normal(0, 2, still.shape), 0, 255).astype(np.uint8) for _ in range(100)]
            out[f"other scene: {name}"] = run_monitor(monitor, noisy)
    return out


def describe(split: str, kind: str, entry: dict) -> str:
    low, high = entry["similarity"]
    first = "never" if entry["first_changed_s"] is None else f"first after {entry['first_changed_s']:.1f} s"
    if kind == "turned at half time" and entry["first_changed_s"] is not None:
        first += " from the turn"
    return f"{split:12s} {kind:34s} similarity {low:5.2f}..{high:5.2f}  changed {entry['changed_share']:4.0%}  {first}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="development split folders")
    parser.add_argument("--images", type=Path, default=None, help="folder with opencv-doc's example images")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    report_per_split(args.data, lambda data: evaluate(data, args.images), describe, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
