"""A development split whose training footage runs at half its rate: for a live stream faster than training.

Writes DST with the training videos of SRC (a folder written by make_vtest_dev.py, make_vtest_split_c.py or
make_vtest_objects.py) keeping every other frame, at half the frame rate, and the test folder copied as
it is. A model trained on DST and tested on its test video sees a stream twice as fast as its training
footage, as a camera's 20-30 fps stream is against an NVR's 10-15 fps recordings
(docs/results.md, "Another frame rate than the training footage"):

    python benchmarks/half_rate_split.py vtest-dev vtest-dev-half
    python benchmarks/dev_quality.py vtest-dev-half --out out/half_rate
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package


def write_half_rate(source: Path, target: Path) -> int:
    """``source`` (a video) with every other frame, at half its rate, as ``target`` (MPEG-4); frames written."""
    from aivad.video.files import probe_video, read_frames

    fps = probe_video(source).fps
    writer = None
    written = 0
    for _, frame in read_frames(source, stride=2):
        if writer is None:
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps / 2, frame.shape[1::-1])
        writer.write(frame)
        written += 1
    if writer is not None:
        writer.release()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a development split folder")
    parser.add_argument("target", type=Path, help="the folder to write")
    args = parser.parse_args(argv)
    (args.target / "train").mkdir(parents=True, exist_ok=True)
    for video in sorted((args.source / "train").glob("*.mp4")):
        frames = write_half_rate(video, args.target / "train" / video.name)
        print(f"{args.target / 'train' / video.name}: {frames} frames")
    shutil.copytree(args.source / "test", args.target / "test", dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
