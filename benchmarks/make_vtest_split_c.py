"""A third development split: the source video's first half for training, its second half for testing.

    python benchmarks/make_vtest_split_c.py vtest-dev-c
    python benchmarks/dev_quality.py vtest-dev vtest-dev-b vtest-dev-c

``../shared/bench/make_vtest_dev.py`` builds splits a and b of the same real footage (vtest.avi);
this one reuses its footage reader, writer and compositing (imported, not copied) and differs in two
ways that make it the hardest check of generalisation:
- it trains on frames 0-394 (two videos) and tests on frames 395-794, where people walk on the lawn
  near the camera, a place the training frames never show anyone at;
- its anomalies are partly other ones: a slow large vehicle (the parked van, 2.5x, driving across the
  lawn at 4 px a frame, found by what it is and where, not by its speed), a sprinter crossing near
  the camera, and the crowd at three times its pace.
It writes the same files as make_vtest_dev.py (train/*.mp4, test/dev_test.mp4, labels.npy,
segments.csv, boxes.csv), so dev_quality.py and ``python -m aivad evaluate`` read it as they read a and b.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def main(out: Path) -> None:
    sys.path.insert(0, str(BENCH))
    from make_vtest_dev import DATA, paste, read_all, sprite, write

    frames = read_all(DATA / "vtest.avi")
    write(out / "train" / "dev_train_a.mp4", frames[0:198])
    write(out / "train" / "dev_train_b.mp4", frames[198:395])
    source = frames[395:795]
    person, mask = sprite(frames, 299, (185, 150, 220, 235))
    van = frames[0][44:100, 654:723]  # the white van parked at the top right
    van = cv2.resize(van, (int(van.shape[1] * 2.5), int(van.shape[0] * 2.5)))
    height, width = frames[0].shape[:2]
    test, labels, segments, boxes = [], [], [], []

    def box(name: str, x: int, y: int, w: int, h: int) -> None:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 > x0 and y1 > y0:
            boxes.append((len(test), name, x0, y0, x1, y1))

    def add(frame: np.ndarray, label: int) -> None:
        test.append(frame)
        labels.append(label)

    for i in range(0, 50):
        add(source[i].copy(), 0)
    start = len(test)  # a slow large vehicle crossing the lawn
    for k, i in enumerate(range(50, 110)):
        frame = source[i].copy()
        x, y = 20 + 4 * k, 300 - k
        paste(frame, van, np.ones(van.shape[:2], np.uint8), x, y)
        box("slow_vehicle", x, y, van.shape[1], van.shape[0])
        add(frame, 1)
    segments.append(("slow_vehicle", start, len(test) - 1))
    for i in range(110, 190):
        add(source[i].copy(), 0)
    start = len(test)  # a sprinter crossing near the camera, the other way than split a's and b's
    for k, i in enumerate(range(190, 215)):
        frame = source[i].copy()
        x, y = 40 + 26 * k, 420 - 4 * k
        paste(frame, person, mask, x, y)
        box("sprinter", x, y, person.shape[1], person.shape[0])
        add(frame, 1)
    segments.append(("sprinter", start, len(test) - 1))
    for i in range(215, 270):
        add(source[i].copy(), 0)
    start = len(test)  # the crowd at three times its pace
    for i in range(270, 345, 3):
        add(source[i].copy(), 1)
    segments.append(("crowd_3x_pace", start, len(test) - 1))
    for i in range(345, 400):
        add(source[i].copy(), 0)

    write(out / "test" / "dev_test.mp4", test)
    write_labels(out / "test", np.array(labels, np.uint8), segments, boxes)
    print(out.resolve())


def write_labels(folder: Path, labels: np.ndarray, segments: list, boxes: list) -> None:
    """labels.npy, labels.csv, segments.csv and boxes.csv of a test video, as make_vtest_dev.py writes them."""
    np.save(folder / "labels.npy", labels)
    for name, header, rows in (
        ("labels.csv", ["frame_index", "label"], enumerate(labels.tolist())),
        ("segments.csv", ["name", "first_frame", "last_frame"], segments),
        ("boxes.csv", ["frame_index", "name", "x0", "y0", "x1", "y1"], boxes),
    ):
        with open(folder / name, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, nargs="?", default=Path("vtest-dev-c"), help="folder to write")
    main(parser.parse_args().out)
