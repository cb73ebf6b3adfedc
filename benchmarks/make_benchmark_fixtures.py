"""Fixtures of the three public benchmarks in their exact distributed layouts, built from real footage.

    python benchmarks/make_benchmark_fixtures.py bench-fixtures --dataset all
    python -m aivad benchmark ped2 bench-fixtures/ped2 --backend lite --epochs 0 --out bench-fixtures/ped2-result

What ``python -m aivad benchmark`` reads from a real download, built from OpenCV's ``vtest.avi`` (a real
pedestrian street, 768x576, 10 fps, 795 frames; ``../shared/data/``) and Debian's opencv-doc example images
beside it. They are *fixtures*, not the paper's datasets: figures measured on them check the command, not
the method. The layouts:

- ``ped2/UCSDped2/``: ``Train/Train00N/NNN.tif`` and ``Test/Test00N/NNN.tif`` (8-bit grey, 360x240),
  ``Test/UCSDped2.m`` (``TestVideoFile{end+1}.gt_frame = [a:b];``, 1-indexed, inclusive; one test video
  without anomalies, ``[]``), ``Test/Test00N_gt/NNN.bmp`` pixel masks for the first two test videos, and a
  macOS ``.DS_Store`` the reader must leave out;
- ``avenue/Avenue Dataset/``: ``training_videos/NN.avi`` and ``testing_videos/NN.avi`` (640x360, 25 fps),
  with the separate ground-truth download unpacked beside it as ``avenue/ground_truth_demo/testing_label_mask/
  N_label.mat`` (``volLabel``, a 1xT cell array of HxW masks, as MATLAB writes it); test video 02 is anomalous
  throughout, as two of Avenue's are;
- ``shanghaitech/``: ``training/videos/01_00N.avi`` and ``02_00N.avi`` (24 fps; scene 02 is another camera,
  a zoomed and mirrored view of the street: a plain mirror would make each scene-02 video a twin of a scene-01
  one, which shrinks the calibration's held-out spread), ``testing/frames/<video>/NNN.jpg`` (the dataset's
  ``000.jpg``, ``001.jpg``, ... for 01_0014 and 02_0161; 01_0015 written unpadded, ``0.jpg ... 99.jpg``, so a
  text sort would misplace ``10.jpg``), ``testing/test_frame_mask/<video>.npy`` and
  ``testing/test_pixel_mask/<video>.npy`` ((T, H, W) uint8).

Anomalies are pasted real objects moving across the street (a cardboard box, a car, a squirrel, a mandrill's
face), or people seen at three times their speed (a region of the frame taken from every third source frame).
Frame labels and pixel masks come from where each was pasted. ``OUT/<dataset>/expected.json`` records, per test
video, its frame count and anomalous frames, so a report can be checked against what was pasted.

Training takes the first half of vtest.avi, testing the second, so no test frame was seen in training.
Not imported by the tests (they never depend on ../shared).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import scipy.io

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's aivad, for --check
from make_vtest_objects import cut_out, rounded_mask  # noqa: E402  (sibling script: GrabCut cut-outs)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ("ped2", "avenue", "shanghaitech")
TRAIN_RANGE = (0, 395)  # source frames for training videos (the first half of vtest.avi)
TEST_START = 395  # test videos are cut from here on
WALK = 4.0  # pixels per frame of an ordinary walker in vtest.avi at 10 fps, at the source's size


# --------------------------------------------------------------------------- objects and pasting


@functools.cache
def objects() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (BGR patch, 0/1 mask) at the source's size (768x576); the same whichever datasets are built."""
    cv2.setRNGSeed(0)  # GrabCut starts from OpenCV's global random state
    box = cv2.resize(cv2.imread(str(DATA / "box.png")), (62, 44), interpolation=cv2.INTER_AREA)
    car = cv2.imread(str(DATA / "licenseplate_motion.jpg"))[30:460, 20:580]
    car = cv2.resize(car, (96, 74), interpolation=cv2.INTER_AREA)
    squirrel, squirrel_mask = cut_out(cv2.imread(str(DATA / "squirrel_cls.jpg")), (125, 105, 245, 260))
    squirrel = cv2.resize(squirrel, (60, 64), interpolation=cv2.INTER_AREA)
    squirrel_mask = cv2.resize(squirrel_mask, (60, 64), interpolation=cv2.INTER_NEAREST)
    baboon = cv2.imread(str(DATA / "baboon.jpg"))
    baboon = cv2.resize(baboon, (70, 70), interpolation=cv2.INTER_AREA)
    return {
        "box": (box, np.ones(box.shape[:2], np.uint8)),
        "car": (car, rounded_mask(*car.shape[:2], 10)),
        "squirrel": (squirrel, squirrel_mask),
        "baboon": (baboon, rounded_mask(70, 70, 30)),
    }


def paste(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, x: int, y: int, where: np.ndarray) -> None:
    """``patch`` at (x, y) inside ``frame`` where ``mask`` is set, clipped to the frame; marks ``where``."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + patch.shape[1], w), min(y + patch.shape[0], h)
    if x1 <= x0 or y1 <= y0:
        return
    sub_mask = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(bool)
    frame[y0:y1, x0:x1][sub_mask] = patch[y0 - y : y1 - y, x0 - x : x1 - x][sub_mask]
    where[y0:y1, x0:x1] |= sub_mask


def inject(source: list[np.ndarray], start: int, plan: list[tuple]) -> tuple[list[np.ndarray], np.ndarray]:
    """Test frames from ``source[start:]`` with ``plan``'s anomalies, and their (T, H, W) bool pixel masks.

    A plan item is ``(kind, first, count, x, y, dx, dy)``: an object pasted from the clip's frame ``first`` for
    ``count`` frames, starting at (x, y) and moving (dx, dy) per frame; or ``("fast", first, count, x, y, w, h)``:
    the region (x, y, w, h) taken from every third source frame, so whoever walks there moves at 3x speed.
    """
    patches = objects()
    length = max(item[1] + item[2] for item in plan) if plan else 0
    length = max(length, 100)
    frames = [f.copy() for f in source[start : start + length]]
    masks = np.zeros((len(frames), *frames[0].shape[:2]), bool)
    for kind, first, count, x0, y0, a, b in plan:
        for k in range(count):
            t = first + k
            if t >= len(frames):
                break
            if kind == "fast":
                fast = source[start + first + 3 * k]  # every third frame
                frames[t][y0 : y0 + b, x0 : x0 + a] = fast[y0 : y0 + b, x0 : x0 + a]
                masks[t, y0 : y0 + b, x0 : x0 + a] = True
                if k == count - 1 and t + 1 < len(frames):  # the frame after: the region jumps back in time
                    masks[t + 1, y0 : y0 + b, x0 : x0 + a] = True
            else:
                patch, mask = patches[kind]
                paste(frames[t], patch, mask, int(round(x0 + a * k)), int(round(y0 + b * k)), masks[t])
    return frames, masks


# --------------------------------------------------------------------------- reading and writing


def read_source() -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if len(frames) < 700:
        raise SystemExit(f"{DATA / 'vtest.avi'}: read {len(frames)} frames, expected 795")
    return frames


# What a camera sees of the source: (x0, y0, x1, y1) and whether it is mirrored. 16:9 views crop, never stretch.
WHOLE = ((0, 0, 768, 576), False)  # 4:3, as UCSD's
BAND_16_9 = ((0, 72, 768, 504), False)  # the middle 768x432 band
ZOOMED_MIRRORED = ((192, 200, 768, 524), True)  # ShanghaiTech's second scene: another camera, not a mirror twin


def fit(frame: np.ndarray, size: tuple[int, int], view=WHOLE) -> np.ndarray:
    """The frame as ``view`` sees it, at ``size`` (width, height)."""
    (x0, y0, x1, y1), mirrored = view
    frame = cv2.resize(frame[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    return cv2.flip(frame, 1) if mirrored else frame


def fit_masks(masks: np.ndarray, size: tuple[int, int], view=WHOLE) -> np.ndarray:
    (x0, y0, x1, y1), mirrored = view
    fitted = [cv2.resize(m[y0:y1, x0:x1].astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0 for m in masks]
    return np.stack([np.fliplr(m) if mirrored else m for m in fitted])


def write_avi(path: Path, frames: list[np.ndarray], fps: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    size = (frames[0].shape[1], frames[0].shape[0])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), fps, size)
    if not writer.isOpened():
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for frame in frames:
        writer.write(frame)
    writer.release()


def write_image(path: Path, image: np.ndarray) -> None:
    """cv2.imencode + tofile: cv2.imwrite cannot write Korean paths on Windows."""
    ok, data = cv2.imencode(path.suffix, image)
    assert ok, path
    data.tofile(str(path))


def train_clips(source: list[np.ndarray], count: int) -> list[list[np.ndarray]]:
    first, last = TRAIN_RANGE
    bounds = np.linspace(first, last, count + 1).astype(int)
    return [source[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """1-indexed inclusive (first, last) of each run of anomalous frames."""
    padded = np.concatenate(([0], labels.astype(int), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a) + 1, int(b)) for a, b in zip(edges[::2], edges[1::2])]


def record(out: Path, expected: dict) -> None:
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- the datasets

# Test clips: (start in the source, plan). Each clip is 100 frames unless a plan runs longer.
PED2_TESTS = [
    (TEST_START, [("box", 20, 45, 700, 220, -WALK, 0.3)]),  # a cart along the walkway
    (TEST_START + 100, [("car", 30, 30, -90, 260, 3 * WALK, 0.4)]),  # a car across at 3x a walker's pace
    (TEST_START + 200, [("fast", 35, 20, 250, 150, 300, 330)]),  # people at 3x speed in the middle third
    (TEST_START + 300, []),  # nothing happens: `[]` in UCSDped2.m
]
AVENUE_TESTS = [
    (TEST_START, [("baboon", 40, 40, 20, 200, 2.5 * WALK, 0.5)]),
    (TEST_START + 100, [("squirrel", 0, 100, 700, 430, -1.8 * WALK, -0.6)]),  # anomalous throughout
    (TEST_START + 200, [("box", 10, 30, 60, 240, 2 * WALK, 0.2), ("car", 60, 30, 760, 300, -3 * WALK, -0.5)]),
]
SCENES = {"01": BAND_16_9, "02": ZOOMED_MIRRORED}
SHANGHAITECH_TESTS = [  # (name: scene_video, start, plan, image name pattern)
    ("01_0014", TEST_START, [("car", 25, 30, -90, 260, 3 * WALK, 0.4)], "{:03d}.jpg"),
    ("01_0015", TEST_START + 100, [("fast", 40, 20, 250, 150, 300, 330)], "{}.jpg"),
    ("02_0161", TEST_START + 200, [("squirrel", 30, 40, 200, 420, 2.5 * WALK, -1.5)], "{:03d}.jpg"),
]


def make_ped2(source: list[np.ndarray], out: Path) -> None:
    size = (360, 240)
    base = out / "UCSDped2"
    for i, clip in enumerate(train_clips(source, 3), start=1):
        folder = base / "Train" / f"Train{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(clip, start=1):
            write_image(folder / f"{t:03d}.tif", cv2.cvtColor(fit(frame, size), cv2.COLOR_BGR2GRAY))
    (base / "Train" / "Train001" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    lines = ["% Ground truth of the test videos: anomalous frames, 1-indexed (a fixture from vtest.avi)"]
    lines.append("TestVideoFile = {};")
    expected = {}
    for i, (start, plan) in enumerate(PED2_TESTS, start=1):
        frames, masks = inject(source, start, plan)
        masks = fit_masks(masks, size)
        labels = masks.any(axis=(1, 2)).astype(np.int8)
        folder = base / "Test" / f"Test{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(frames, start=1):
            write_image(folder / f"{t:03d}.tif", cv2.cvtColor(fit(frame, size), cv2.COLOR_BGR2GRAY))
        if i <= 2:  # pixel masks for some videos only, as "where present"
            gt = folder.with_name(folder.name + "_gt")
            gt.mkdir(exist_ok=True)
            for t, mask in enumerate(masks, start=1):
                write_image(gt / f"{t:03d}.bmp", mask.astype(np.uint8) * 255)
        ranges = ", ".join(f"{a}:{b}" for a, b in runs(labels))
        lines.append(f"TestVideoFile{{end+1}}.gt_frame = [{ranges}];")
        expected[folder.name] = {"frames": len(frames), "anomalous": np.flatnonzero(labels).tolist()}
    (base / "Test" / "UCSDped2.m").write_text("\n".join(lines) + "\n", encoding="utf-8")
    record(out, expected)


def vol_label(masks: np.ndarray, dtype) -> np.ndarray:
    """A 1xT MATLAB cell array of HxW masks, as Avenue's N_label.mat holds it."""
    cells = np.empty((1, len(masks)), dtype=object)
    for t, mask in enumerate(masks):
        cells[0, t] = mask.astype(dtype)
    return cells


def make_avenue(source: list[np.ndarray], out: Path) -> None:
    size = (640, 360)
    base = out / "Avenue Dataset"
    for i, clip in enumerate(train_clips(source, 2), start=1):
        write_avi(base / "training_videos" / f"{i:02d}.avi", [fit(f, size, BAND_16_9) for f in clip], 25)
    labels_dir = out / "ground_truth_demo" / "testing_label_mask"
    labels_dir.mkdir(parents=True, exist_ok=True)
    expected = {}
    for i, (start, plan) in enumerate(AVENUE_TESTS, start=1):
        frames, masks = inject(source, start, plan)
        masks = fit_masks(masks, size, BAND_16_9)
        write_avi(base / "testing_videos" / f"{i:02d}.avi", [fit(f, size, BAND_16_9) for f in frames], 25)
        dtype = np.uint8 if i % 2 else bool  # MATLAB writes either, depending on how the masks were made
        scipy.io.savemat(str(labels_dir / f"{i}_label.mat"), {"volLabel": vol_label(masks, dtype)})
        labels = masks.any(axis=(1, 2))
        expected[f"{i:02d}"] = {"frames": len(frames), "anomalous": np.flatnonzero(labels).tolist()}
    record(out, expected)


def make_shanghaitech(source: list[np.ndarray], out: Path) -> None:
    size = (640, 360)
    for scene, view in SCENES.items():
        for i, clip in enumerate(train_clips(source, 2), start=1):
            frames = [fit(f, size, view) for f in clip]
            write_avi(out / "training" / "videos" / f"{scene}_{i:03d}.avi", frames, 24)
    expected = {}
    for name, start, plan, pattern in SHANGHAITECH_TESTS:
        view = SCENES[name[:2]]
        frames, masks = inject(source, start, plan)
        masks = fit_masks(masks, size, view)
        folder = out / "testing" / "frames" / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(frames):
            write_image(folder / pattern.format(t), fit(frame, size, view))
        labels = masks.any(axis=(1, 2)).astype(np.int8)
        for kind, data in (("test_frame_mask", labels), ("test_pixel_mask", masks.astype(np.uint8))):
            (out / "testing" / kind).mkdir(parents=True, exist_ok=True)
            np.save(out / "testing" / kind / f"{name}.npy", data)
        expected[name] = {"frames": len(frames), "anomalous": np.flatnonzero(labels).tolist()}
    record(out, expected)


MAKERS = {"ped2": make_ped2, "avenue": make_avenue, "shanghaitech": make_shanghaitech}


# --------------------------------------------------------------------------- checking a benchmark's report


def rank_auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUROC as the Mann-Whitney statistic from ranks (ties share their mean rank): not sklearn's code path."""
    from scipy.stats import rankdata

    labels = np.asarray(labels, bool)
    ranks = rankdata(scores)
    positives, negatives = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def check_result(fixture: Path, result: Path) -> list[str]:
    """What is wrong in ``result`` (a benchmark's --out) against the fixture it scored; empty when all is right."""
    from scipy.ndimage import gaussian_filter1d
    from sklearn.metrics import roc_auc_score

    from aivad.video.files import read_frames

    report = json.loads((result / "benchmark.json").read_text(encoding="utf-8"))
    expected = json.loads((fixture / "expected.json").read_text(encoding="utf-8"))
    sigma = report["preset"]["smoothing_sigma"]
    problems = []
    names = [video["video"] for video in report["per_video"]]
    if names != list(expected):
        problems.append(f"test videos {names}, expected {list(expected)} in that order")
    all_labels, all_scores, padded = [], [], []
    for name, entry in zip(names, report["per_video"]):
        rows = list(csv.DictReader(open(result / "frames" / f"{name}.csv", newline="", encoding="utf-8")))
        want = expected[name]
        if [int(r["frame"]) for r in rows] != list(range(want["frames"])) or entry["frames"] != want["frames"]:
            problems.append(f"{name}: {len(rows)} CSV rows / {entry['frames']} reported, expected {want['frames']}")
        labels = np.array([int(r["label"]) for r in rows])
        if np.flatnonzero(labels).tolist() != want["anomalous"]:
            problems.append(f"{name}: the labelled frames differ from where the anomalies were pasted")
        smoothed = np.array([float(r["smoothed_score"]) for r in rows])
        attributes = [c for c in rows[0] if c not in ("frame", "score", "smoothed_score", "label")]
        again = np.max([gaussian_filter1d(np.array([float(r[a]) for r in rows]), sigma) for a in attributes], axis=0)
        if not np.allclose(again, smoothed, rtol=1e-6, atol=1e-9):
            problems.append(f"{name}: smoothed_score is not the largest attribute smoothed with sigma {sigma:g}")
        pad_labels = np.concatenate(([0], labels, [1]))
        pad_scores = np.concatenate(([0.0], smoothed, [sys.float_info.max]))
        padded.append(rank_auroc(pad_labels, pad_scores))
        if abs(padded[-1] - entry["auroc_padded"]) > 1e-9:
            problems.append(f"{name}: padded AUROC {entry['auroc_padded']}, by ranks {padded[-1]}")
        all_labels.append(labels)
        all_scores.append(smoothed)
    micro = roc_auc_score(np.concatenate(all_labels), np.concatenate(all_scores))
    if abs(micro - report["micro_auroc"]) > 1e-12:
        problems.append(f"micro AUROC {report['micro_auroc']}, sklearn over the CSVs {micro}")
    if abs(rank_auroc(np.concatenate(all_labels), np.concatenate(all_scores)) - micro) > 1e-9:
        problems.append("micro AUROC by ranks differs from sklearn's")
    if abs(float(np.mean(padded)) - report["macro_auroc"]) > 1e-9:
        problems.append(f"macro AUROC {report['macro_auroc']}, mean of padded per-video AUROCs {np.mean(padded)}")
    for video in fixture.rglob("*"):  # frame folders: the reader's order is the number's order
        images = sorted(
            (p for p in video.glob("*") if p.suffix in (".tif", ".jpg") and p.stem.isdigit()), key=lambda p: int(p.stem)
        )
        if video.name not in names or not images:
            continue
        for (index, frame), image in zip(read_frames(video), images):
            reference = cv2.imdecode(np.fromfile(str(image), np.uint8), cv2.IMREAD_COLOR)
            if not np.array_equal(frame, reference):
                problems.append(f"{video.name}: frame {index} is not {image.name}")
                break
    return problems


def main(args) -> None:
    if args.check is not None:
        problems = check_result(args.out, args.check)
        print("\n".join(problems) or f"{args.check}: the report agrees with {args.out} (labels, counts, order, AUROCs)")
        raise SystemExit(1 if problems else 0)
    source = read_source()
    for name in DATASETS if args.dataset == "all" else (args.dataset,):
        target = args.out / name
        if target.exists() and any(target.iterdir()):
            raise SystemExit(f"{target} is not empty; give another OUT or delete it")
        target.mkdir(parents=True, exist_ok=True)
        MAKERS[name](source, target)
        print(f"{name}: {target.resolve()}")


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write OUT/<dataset>/ into")
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all", help="which layout (default all)")
    parser.add_argument(
        "--check",
        type=Path,
        default=None,
        help="instead of building: check a benchmark's --out folder against the fixture OUT (one dataset's folder)",
    )
    return parser


if __name__ == "__main__":
    main(get_args_parser().parse_args())
