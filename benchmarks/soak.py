"""Soak test: run the streaming detector on a synthetic live stream and print memory over time.

    python benchmarks/soak.py CHECKPOINT [--minutes 3] [--size 640x480]

Prints resident memory (RSS) every 20 s and the growth between the first and the last reading after
warm-up; the UI and a camera source hold nothing per frame, so memory should stay flat. This is the
detector alone; ``benchmarks/watch_soak.py`` soaks the whole ``python -m aivad watch`` (looping cameras,
events, clips, history) and reads its memory and open handles.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS")) / 1024
    except OSError:  # not Linux: psutil if present
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()

    from aivad.live.detector import Detector, EventTracker
    from aivad.video.synthetic import render_scene

    width, height = map(int, args.size.split("x"))
    frames, _ = render_scene(120, (width, height), seed=11, anomaly="fast", anomaly_frames=(60, 80))
    detector = Detector.load(args.checkpoint, device="cpu")
    tracker = EventTracker(detector.threshold, detector.threshold * 0.8, min_frames=3)
    for frame in frames:  # warm-up
        detector.process(frame)
    start, readings, processed, events = time.time(), [], 0, 0
    next_reading = start
    while time.time() - start < args.minutes * 60:
        result = detector.process(frames[processed % len(frames)])
        events += tracker.update(result)[1] is not None
        processed += 1
        if time.time() >= next_reading:
            readings.append(rss_mb())
            print(
                f"{time.time() - start:7.1f} s  {processed:7d} frames  RSS {readings[-1]:8.1f} MB  events {events}",
                flush=True,
            )
            next_reading += 20
    readings.append(rss_mb())
    print(
        f"frames: {processed} ({processed / (time.time() - start):.1f} fps), RSS first {readings[0]:.1f} MB, "
        f"last {readings[-1]:.1f} MB, growth {readings[-1] - readings[0]:+.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
