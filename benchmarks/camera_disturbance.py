"""What a disturbed camera does to the alarms: shake and exposure steps added to normal test footage.

Outdoor cameras shake (a pole in the wind, a passing truck) and change exposure at once (lights
switched, an iris or gain step). Neither is an anomaly of the scene, and a detector that alarms on them
gets switched off. Per development split (a folder written by make_vtest_dev.py, make_vtest_split_c.py
or make_vtest_objects.py) and a checkpoint trained on it, the test video is played as it is and with:

- ``shake``: 2 s of camera shake in the middle of its longest normal stretch (every frame moved by up
  to 4 px in x and y, at random);
- ``exposure``: a sudden step to 75% brightness a fifth into that stretch, and back four fifths in;
- ``jitter``: every frame of the whole video moved by up to 2 px (a camera that never holds still), so
  the anomalies must still be found while the picture moves;
- ``cover``: 3 s of a covered lens in the middle of that stretch (grey level 8 with sensor noise);
- ``sway``: 2 s of a camera that rolls as well as shakes (a pole in the wind, a loose bracket): every frame
  turned about the picture's centre by up to 1 degree and moved by up to 4 px, at random.

Each is scored causally, as live use scores it (frames straight from memory, no re-encoding), and
replayed through the checkpoint's alarm rule. Printed per split and disturbance: frame AUROC (causal),
anomalies found at the default threshold and after how long, false-alarm events, normal frames in
alarm, and for shake, sway, exposure and cover the highest score inside the disturbed stretch as a share of the
threshold (beside the same stretch's highest score undisturbed) and the alarm frames there. The camera's own
state as the window and ``watch`` report it (``FrameResult.camera``): frames reporting each state, inside the
disturbed stretch and outside it.

    python benchmarks/camera_disturbance.py vtest-dev vtest-dev-c --checkpoints out/dev_quality

(``--checkpoints DIR``: DIR/<split folder name>/trained.ckpt, what dev_quality.py writes.)
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dev_quality import (  # noqa: E402
    FPS,
    live_events,
    load_dev_set,
    report_per_split,
    segment_aurocs,
    trained_checkpoint,
)

SHAKE_SECONDS = 2.0
SHAKE_PIXELS = 4
SWAY_DEGREES = 1.0
JITTER_PIXELS = 2
EXPOSURE_STEP = 0.75
COVER_SECONDS = 3.0
DISTURBANCES = ("none", "shake", "exposure", "jitter", "cover", "sway")


def read_all(path: Path) -> list[np.ndarray]:
    from aivad.video.files import read_frames

    return [frame for _, frame in read_frames(path)]


def longest_normal_stretch(labels: np.ndarray) -> tuple[int, int]:
    """(first, last) frame of the longest run of normal frames."""
    best, start = (0, -1), None
    for i, label in enumerate(list(labels) + [1]):
        if label == 0 and start is None:
            start = i
        elif label != 0 and start is not None:
            if i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = None
    return best


def moved(frame: np.ndarray, dx: int, dy: int, degrees: float = 0.0) -> np.ndarray:
    """``frame`` turned about its centre by ``degrees`` and moved by (dx, dy) pixels."""
    matrix = cv2.getRotationMatrix2D((frame.shape[1] / 2, frame.shape[0] / 2), degrees, 1.0)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(frame, matrix, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def disturbed(frames: list[np.ndarray], labels: np.ndarray, kind: str, seed: int = 0):
    """The frames with disturbance ``kind``, and the (first, last) frames it covers (None for the whole video)."""
    rng = np.random.default_rng(seed)
    first, last = longest_normal_stretch(labels)
    if kind == "none":
        return frames, None
    if kind == "jitter":
        shifts = rng.integers(-JITTER_PIXELS, JITTER_PIXELS + 1, size=(len(frames), 2))
        return [moved(f, int(x), int(y)) for f, (x, y) in zip(frames, shifts)], None
    if kind == "exposure":
        begin, end = first + (last - first) // 5, first + 4 * (last - first) // 5
        out = [cv2.convertScaleAbs(f, alpha=EXPOSURE_STEP) if begin <= i < end else f for i, f in enumerate(frames)]
        # the two steps are what can alarm: report the frames from each step to 2 s after it
        return out, (begin, end + int(2 * FPS))
    if kind in ("shake", "sway", "cover"):  # a stretch in the middle of the longest normal one
        length = int((COVER_SECONDS if kind == "cover" else SHAKE_SECONDS) * FPS)
        begin = max(first, (first + last - length) // 2)
        end = min(last, begin + length - 1)
        out = list(frames)
        for i in range(begin, end + 1):
            if kind == "shake":
                x, y = rng.integers(-SHAKE_PIXELS, SHAKE_PIXELS + 1, size=2)
                out[i] = moved(frames[i], int(x), int(y))
            elif kind == "sway":
                x, y = rng.integers(-SHAKE_PIXELS, SHAKE_PIXELS + 1, size=2)
                out[i] = moved(frames[i], int(x), int(y), float(rng.uniform(-SWAY_DEGREES, SWAY_DEGREES)))
            else:  # a covered lens: a dark frame of sensor noise
                out[i] = np.clip(8 + rng.normal(0, 2, frames[i].shape), 0, 255).astype(np.uint8)
        return out, (begin, end)
    raise ValueError(f"unknown disturbance {kind!r}")


def camera_states(results, window) -> dict:
    """{"inside"/"outside" the disturbed frames: {state: frames reporting it}} (outside only: the whole video)."""
    counts = {"inside": {}, "outside": {}}
    for i, result in enumerate(results):
        if result.camera:
            where = "inside" if window is not None and window[0] <= i <= window[1] else "outside"
            counts[where][result.camera] = counts[where].get(result.camera, 0) + 1
    return counts


def evaluate(data: Path, checkpoint: Path, kinds: list[str]) -> dict:
    from aivad.live.detector import Detector

    _, test_video, segments, labels = load_dev_set(data)
    frames = read_all(test_video)
    labels = labels[: len(frames)]
    detector = Detector.load(checkpoint, device="cpu")
    out, undisturbed = {}, None
    for kind in ["none"] + [k for k in kinds if k != "none"]:
        video, window = disturbed(frames, labels, kind)
        detector.reset()
        results = [detector.process(frame, time_s=i / FPS, frame_index=i) for i, frame in enumerate(video)]
        scores = np.array([r.score for r in results])
        events = live_events(detector, results, labels, data, segments)
        entry = {
            "causal_auroc": segment_aurocs(labels, scores, segments)["overall"],
            "found": [(s["name"], s["delay_s"]) for s in events["segments"]],
            "false_alarm_events": events["false_alarm_events"],
            "normal_frames_in_alarm": events["normal_frames_in_alarm"],
            "threshold": detector.threshold,
            "camera_states": camera_states(results, window),
        }
        if kind == "none":
            undisturbed = scores
            if "none" not in kinds:
                continue
        if window is not None:
            first, last = window
            entry["undisturbed_peak_in_window_over_threshold"] = float(
                undisturbed[first : last + 1].max() / detector.threshold
            )
            tracker = detector.event_tracker(FPS)
            alarmed = [tracker.update(r)[0] for r in results]
            entry["window"] = [first, last]
            entry["peak_in_window_over_threshold"] = float(scores[first : last + 1].max() / detector.threshold)
            entry["alarm_frames_in_window"] = int(sum(alarmed[first : last + 1]))
        out[kind] = entry
    return out


def describe(split: str, kind: str, entry: dict) -> str:
    found = ", ".join(f"{name} {'%.1f s' % delay if delay is not None else 'missed'}" for name, delay in entry["found"])
    line = (
        f"{split:12s} {kind:9s} AUROC {entry['causal_auroc']:.3f}; {found}; false events "
        f"{entry['false_alarm_events']}, normal frames in alarm {entry['normal_frames_in_alarm']}"
    )
    if "window" in entry:
        line += (
            f"; frames {entry['window'][0]}-{entry['window'][1]}: peak {entry['peak_in_window_over_threshold']:.2f}"
            f" x threshold ({entry['undisturbed_peak_in_window_over_threshold']:.2f} undisturbed),"
            f" {entry['alarm_frames_in_window']} alarm frames"
        )
    states = entry.get("camera_states", {})
    for where in ("inside", "outside"):
        if states.get(where):
            line += f"; camera {where}: " + ", ".join(f"{k} {v}" for k, v in sorted(states[where].items()))
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="development split folders")
    parser.add_argument("--checkpoints", type=Path, required=True, help="DIR/<split folder name>/trained.ckpt")
    parser.add_argument("--disturbances", nargs="+", default=list(DISTURBANCES), choices=DISTURBANCES)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    checkpoint = partial(trained_checkpoint, args.checkpoints)
    report_per_split(args.data, lambda data: evaluate(data, checkpoint(data), args.disturbances), describe, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
