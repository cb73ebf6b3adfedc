"""A camera stream that is not what the model was trained on: another resolution, a lower frame rate, night.

Cameras send a main stream and smaller sub-streams, at their own frame rates, and footage is often recorded
from one and watched from another. Per development split (a folder written by make_vtest_dev.py,
make_vtest_split_c.py or make_vtest_objects.py) and a checkpoint trained on it, the test video is played,
causally and from memory as live use scores it:

- ``as_trained``: as it is;
- ``half_size`` / ``double_size`` / ``quarter_size``: every frame resized (area averaging down, linear up);
- ``half_rate``: every other frame, at half the frame rate (labels and segments follow);
- ``grey``: colour gone, as an infrared camera at night sends it;
- ``night``: 35% of the brightness with sensor noise (Gaussian, sd 12 grey levels, new every frame);
- ``rain``: 150 bright streaks 10-30 px long on every frame, new every frame;
- ``jpeg``: every frame through JPEG at quality 25 (a starved encoder's blocks).

Printed per split and kind: frame AUROC (causal), each anomaly found at the default threshold and after
how long, false-alarm events and normal frames in alarm (and their share), and whether the detector scaled
the frames or stepped the stream (aivad.video.frame_size, aivad.video.frame_rate).

    python benchmarks/stream_mismatch.py vtest-dev vtest-dev-b --checkpoints out/dev_quality

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
from dev_quality import FPS, load_dev_set, report_per_split, segment_aurocs, trained_checkpoint  # noqa: E402

KINDS = ("as_trained", "half_size", "double_size", "quarter_size", "half_rate", "grey", "night", "rain", "jpeg")


def resized(frames: list[np.ndarray], factor: float) -> list[np.ndarray]:
    height, width = frames[0].shape[:2]
    size = (round(width * factor), round(height * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return [cv2.resize(frame, size, interpolation=interpolation) for frame in frames]


def looks(frames: list[np.ndarray], kind: str, seed: int = 0) -> list[np.ndarray]:
    """The picture conditions: ``grey``, ``night``, ``rain`` or ``jpeg`` (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    out = []
    for frame in frames:
        if kind == "grey":
            frame = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        elif kind == "night":
            noisy = frame.astype(np.float32) * 0.35 + rng.normal(0, 12, frame.shape[:2])[..., None]
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
        elif kind == "rain":
            streaks = np.zeros(frame.shape[:2], np.uint8)
            for _ in range(150):
                x, y = int(rng.integers(0, frame.shape[1])), int(rng.integers(0, frame.shape[0]))
                length = int(rng.integers(10, 30))
                cv2.line(streaks, (x, y), (x + length // 6, y + length), 255, 1)
            alpha = cv2.GaussianBlur(streaks, (3, 3), 0).astype(np.float32)[..., None] / 255 * 0.5
            frame = (frame.astype(np.float32) * (1 - alpha) + 220 * alpha).astype(np.uint8)
        elif kind == "jpeg":
            frame = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 25])[1], cv2.IMREAD_COLOR)
        out.append(frame)
    return out


def played(frames, labels, segments, kind: str):
    """(frames, labels, segments, fps) of the test video as ``kind`` plays it."""
    if kind in ("grey", "night", "rain", "jpeg"):
        return looks(frames, kind), labels, segments, FPS
    if kind == "half_rate":
        kept = [(first // 2, last // 2, name) for name, first, last in segments]
        return frames[::2], labels[::2], [(name, first, last) for first, last, name in kept], FPS / 2
    factor = {"as_trained": 1.0, "half_size": 0.5, "double_size": 2.0, "quarter_size": 0.25}[kind]
    return (frames if factor == 1.0 else resized(frames, factor)), labels, segments, FPS


def evaluate(data: Path, checkpoint: Path, kinds: list[str]) -> dict:
    from aivad.live.detector import Detector
    from aivad.live.evaluation import Segment, event_report, load_boxes
    from aivad.video.files import read_frames

    _, test_video, segments, labels = load_dev_set(data)
    frames = [frame for _, frame in read_frames(test_video)]
    labels = labels[: len(frames)]
    detector = Detector.load(checkpoint, device="cpu")
    out = {}
    for kind in kinds:
        video, kind_labels, kind_segments, fps = played(frames, labels, segments, kind)
        detector.reset()
        results = [detector.process(frame, time_s=i / fps, frame_index=i) for i, frame in enumerate(video)]
        scores = np.array([r.score for r in results])
        # boxes only where the picture is the labelled one (the localisation is not reported here)
        boxes = load_boxes(data / "test" / "boxes.csv") if kind == "as_trained" else {}
        events = event_report(
            results,
            kind_labels,
            fps,
            detector.event_tracker(fps),
            [Segment(*s) for s in kind_segments],
            boxes,
            detector.expected_false_alarms_per_hour(),
        )
        normal = int((kind_labels == 0).sum())
        out[kind] = {
            "causal_auroc": segment_aurocs(kind_labels, scores, kind_segments)["overall"],
            "found": [(s["name"], s["delay_s"]) for s in events["segments"]],
            "false_alarm_events": events["false_alarm_events"],
            "normal_frames_in_alarm": events["normal_frames_in_alarm"],
            "normal_frames": normal,
            # (getattr: the previous versions, which neither scale nor step, run this script too)
            "scaled_from": getattr(detector, "resized_from", None),
            "scored_one_frame_in": getattr(getattr(detector, "frame_rate", None), "step", 1),
        }
    return out


def describe(split: str, kind: str, entry: dict) -> str:
    found = ", ".join(f"{name} {'%.1f s' % delay if delay is not None else 'missed'}" for name, delay in entry["found"])
    share = entry["normal_frames_in_alarm"] / max(entry["normal_frames"], 1)
    line = (
        f"{split:12s} {kind:12s} AUROC {entry['causal_auroc']:.3f}; {found}; false events "
        f"{entry['false_alarm_events']}, normal frames in alarm {entry['normal_frames_in_alarm']} ({share:.0%})"
    )
    if entry["scaled_from"]:
        line += f"; scaled from {entry['scaled_from'][0]}x{entry['scaled_from'][1]}"
    if entry["scored_one_frame_in"] > 1:
        line += f"; one frame in {entry['scored_one_frame_in']} scored"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="development split folders")
    parser.add_argument("--checkpoints", type=Path, required=True, help="DIR/<split folder name>/trained.ckpt")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    checkpoint = partial(trained_checkpoint, args.checkpoints)
    report_per_split(args.data, lambda data: evaluate(data, checkpoint(data), args.kinds), describe, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
