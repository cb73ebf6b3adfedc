"""Live figures of a stream that has already been running: each test video played after normal footage.

Why: a development split's test video is 30-40 s long and is scored as a stream that starts with it, so
everything a stream learns as it runs starts cold: the scene baseline (aivad.model.drift) then judges the
scene's normal level from the first seconds alone. Split e needs that (its test half shows people near the
camera that the training half never shows, and the baseline adapts within seconds); split f is hurt by it
(its crawling car is in view from the 2nd to the 9th second, and the median of those seconds takes the
car's appearance for the scene's level). A camera that has run for minutes is neither. This plays the
source video's own frames of the test's hour, without the injected objects, as the stream's past, then the
test video, and prints the causal figures beside those of a cold start.

The warm-up is the same hour as the test (the same people, unmodified), so it is the most a warm stream can
know about the scene's level: an upper bound next to the cold start's lower bound, not a prediction.

    python benchmarks/warm_start.py out/dev_quality --data . vtest-dev vtest-dev-b ... --source ../shared/data/vtest.avi

``out/dev_quality/<split>/trained.ckpt`` are the models ``dev_quality.py`` trained.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from dev_quality import FPS  # noqa: E402  (the development videos' rate)

# Source frames (first, end) of each split's test hour in vtest.avi, as the scripts that build them cut it
# (../shared/bench/make_vtest_dev.py, make_vtest_split_c.py, make_vtest_objects.py).
TEST_HOURS = {
    "vtest-dev": (0, 395),
    "vtest-dev-b": (200, 595),
    "vtest-dev-c": (395, 795),
    "vtest-dev-d": (0, 395),
    "vtest-dev-e": (395, 795),
    "vtest-dev-f": (500, 795),
    "vtest-dev-g": (0, 300),
}


def decoded(path: Path, first: int = 0, end: int | None = None) -> list:
    """Frames ``first`` to ``end`` (excluded; None: the last) of a video file."""
    from aivad.video.files import read_frames

    count = None if end is None else end - first
    return [frame for _, frame in read_frames(path, max_frames=count, start=first)]


def as_encoded(frames: list) -> list:
    """``frames`` after the MPEG-4 round trip the splits' videos went through (make_vtest_dev.write), so that
    the warm-up has the test video's compression noise, not the source's."""
    import tempfile

    import cv2

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warm.mp4"
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (width, height))
        for frame in frames:
            writer.write(frame)
        writer.release()
        return decoded(path)


def scored_stream(detector, warm_frames, test_video: Path) -> list:
    """The test video's causal results after ``warm_frames`` went through the same stream."""
    from aivad.video.files import read_frames

    detector.reset()
    for frame in warm_frames:
        detector.process(frame)
    detector.restart_motion()  # the test video is not the warm-up's next frame: no motion across the cut
    return [detector.process(frame, index / FPS, frame_index=index) for index, frame in read_frames(test_video)]


def split_figures(model: Path, data: Path, warm_frames) -> dict:
    from dev_quality import live_events, load_dev_set, segment_aurocs

    from aivad.live.detector import Detector

    _, test_video, segments, labels = load_dev_set(data)
    detector = Detector.load(model, device="cpu")
    out = {}
    for name, past in (("cold", []), ("warm", warm_frames)):
        results = scored_stream(detector, past, test_video)
        events = live_events(detector, results, labels, data, segments)
        out[name] = {
            "causal": segment_aurocs(labels, np.array([r.score for r in results]), segments),
            "found_after_s": {s["name"]: s["delay_s"] for s in events["segments"]},
            "false_alarm_events": events["false_alarm_events"],
            "normal_frames_in_alarm": events["normal_frames_in_alarm"],
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, help="folder with <split>/trained.ckpt (dev_quality.py --out)")
    parser.add_argument("splits", nargs="+", help=f"split folders' names, of {', '.join(TEST_HOURS)}")
    parser.add_argument("--data", type=Path, default=Path("."), help="folder holding the split folders")
    parser.add_argument("--source", type=Path, required=True, help="vtest.avi, the footage the splits are cut from")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    report = {}
    for split in args.splits:
        if split not in TEST_HOURS:
            parser.error(f"{split}: unknown split, expected one of {', '.join(TEST_HOURS)}")
        first, end = TEST_HOURS[split]
        warm = as_encoded(decoded(args.source, first, end))  # only the split's hour: the whole source is 1 GB
        report[split] = figures = split_figures(args.models / split / "trained.ckpt", args.data / split, warm)
        for name in ("cold", "warm"):
            f = figures[name]
            found = ", ".join(
                f"{segment} {'missed' if delay is None else f'{delay:.1f} s'}"
                for segment, delay in f["found_after_s"].items()
            )
            segments = ", ".join(f"{k} {v:.3f}" for k, v in f["causal"].items() if k != "overall")
            print(
                f"{split:12s} {name}: causal AUROC {f['causal']['overall']:.3f} ({segments}); {found}; "
                f"false-alarm events {f['false_alarm_events']}, normal frames in alarm {f['normal_frames_in_alarm']}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
