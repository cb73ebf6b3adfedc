"""python -m aivad benchmark: the datasets' layouts and labels, the authors' protocol, RBDC/TBDC, presets, end to end.

Every fixture is built here in the exact layout its authors distribute (images with OpenCV, .mat with
scipy.io.savemat, .npy, a UCSDped2.m text), tiny, from synthetic frames.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from aivad.benchmark.datasets import parse_ucsd_gt, read_benchmark
from aivad.benchmark.protocol import frame_metrics, padded_auroc, smooth, smoothed_frame_scores
from aivad.benchmark.region_metrics import RegionTally, curve_area, link_tracks, mask_boxes
from aivad.errors import UserError

SIZE = (64, 48)  # width, height of the layout fixtures


def frames_of(n: int, seed: int, size=SIZE) -> list[np.ndarray]:
    """Distinct frames: each frame's number is drawn in as a flat grey block, so a reordering would show."""
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        frame = rng.integers(0, 40, size=(size[1], size[0], 3), dtype=np.uint8)
        frame[:8, :8] = 20 * t  # survives JPEG: read back with frame_number
        frames.append(frame)
    return frames


def frame_number(frame: np.ndarray) -> int:
    return int(round(frame[2:6, 2:6].mean() / 20))


def write_folder(folder: Path, frames, pattern: str) -> None:
    folder.mkdir(parents=True)
    for t, frame in enumerate(frames, start=1):
        assert cv2.imwrite(str(folder / pattern.format(t)), frame)


def write_avi(path: Path, frames, fps: float = 25) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()


UCSD_M = """% Ground truth of the UCSD Ped2 test videos (as in the dataset)
TestVideoFile = {};
TestVideoFile{end+1}.gt_frame = [4:9];
TestVideoFile{end+1}.gt_frame = [2:3, 10:12];
TestVideoFile{end+1}.gt_frame = [];
"""


def make_ped2(root: Path, frames_per_video: int = 12, render=None) -> dict:
    """UCSDped2/Train/Train00N, UCSDped2/Test/Test00N (+ Test001_gt), UCSDped2/Test/UCSDped2.m."""
    render = render or (lambda n, seed, labels: frames_of(n, seed))
    base = root / "UCSDped2"
    for i in (1, 2):
        write_folder(base / "Train" / f"Train{i:03d}", render(frames_per_video, i, None), "{:03d}.tif")
    expected = {}
    for i, ranges in enumerate(parse_ucsd_gt(UCSD_M), start=1):
        labels = np.zeros(frames_per_video, dtype=np.int8)
        for first, last in ranges:
            labels[first - 1 : last] = 1
        expected[f"Test{i:03d}"] = labels
        write_folder(base / "Test" / f"Test{i:03d}", render(frames_per_video, 10 + i, labels), "{:03d}.tif")
    gt = base / "Test" / "Test001_gt"
    gt.mkdir()
    for t in range(frames_per_video):
        mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
        if expected["Test001"][t]:
            mask[10:20, 30:40] = 255
        assert cv2.imwrite(str(gt / f"{t + 1:03d}.bmp"), mask)
    (base / "Test" / "UCSDped2.m").write_text(UCSD_M, encoding="utf-8")
    return expected


def test_ucsd_gt_parsing_ranges_single_frames_and_none():
    text = UCSD_M + "TestVideoFile{end+1}.gt_frame = [5, 7:8];  % a comment [1:2]\n"
    assert parse_ucsd_gt(text) == [[(4, 9)], [(2, 3), (10, 12)], [], [(5, 5), (7, 8)]]


def test_ped2_layout_labels_counts_order_and_masks(tmp_path):
    expected = make_ped2(tmp_path)
    benchmark = read_benchmark("ped2", tmp_path)  # the folder holding UCSDped2 works as well as UCSDped2 itself
    assert [p.name for p in benchmark.train] == ["Train001", "Train002"]
    assert [v.name for v in benchmark.test] == ["Test001", "Test002", "Test003"]
    for video in benchmark.test:
        np.testing.assert_array_equal(video.labels, expected[video.name])
    assert benchmark.test[0].labels.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]  # [4:9], 1-indexed inclusive
    masks = benchmark.test[0].masks()
    assert masks.shape == (12, SIZE[1], SIZE[0])
    np.testing.assert_array_equal(masks.any(axis=(1, 2)), expected["Test001"].astype(bool))
    assert benchmark.test[1].masks is None  # no Test002_gt folder
    from aivad.video.files import read_frames

    order = [frame_number(frame) for _, frame in read_frames(benchmark.test[0].path)]
    assert order == list(range(12))  # 001.tif ... 012.tif in order
    assert read_benchmark("ped2", tmp_path / "UCSDped2").root == benchmark.root
    (tmp_path / "UCSDped1" / "Test" / "Test001").mkdir(parents=True)  # UCSD's archive holds both
    assert read_benchmark("ped2", tmp_path).root == benchmark.root


def test_ped2_mismatched_labels_are_a_user_error(tmp_path):
    make_ped2(tmp_path)
    m = tmp_path / "UCSDped2" / "Test" / "UCSDped2.m"
    m.write_text(UCSD_M.replace("[4:9]", "[4:30]"), encoding="utf-8")
    with pytest.raises(UserError, match="outside the video's 12 frames"):
        read_benchmark("ped2", tmp_path)
    m.write_text(UCSD_M + "TestVideoFile{end+1}.gt_frame = [1:2];\n", encoding="utf-8")
    with pytest.raises(UserError, match="lists 4 test videos"):
        read_benchmark("ped2", tmp_path)


@pytest.mark.parametrize("layout", ["row", "column"])
def test_avenue_layout_and_vol_label_cells(tmp_path, layout):
    import scipy.io

    root = tmp_path / "Avenue Dataset"
    for i in (1, 2):
        write_avi(root / "training_videos" / f"{i:02d}.avi", frames_of(10, i))
    expected = {"01": np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 0]), "02": np.ones(8, dtype=int)}  # 02: anomalous throughout
    label_dir = tmp_path / "ground_truth_demo" / "testing_label_mask"  # Avenue's separate ground-truth download
    label_dir.mkdir(parents=True)
    for name, labels in expected.items():
        write_avi(root / "testing_videos" / f"{name}.avi", frames_of(len(labels), int(name) + 5))
        cells = np.empty((1, len(labels)) if layout == "row" else (len(labels), 1), dtype=object)
        for t, label in enumerate(labels):
            mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
            mask[5:9, 5:9] = label
            cells.flat[t] = mask
        scipy.io.savemat(label_dir / f"{int(name)}_label.mat", {"volLabel": cells})
    benchmark = read_benchmark("avenue", tmp_path)
    assert [p.name for p in benchmark.train] == ["01.avi", "02.avi"]
    assert [v.name for v in benchmark.test] == ["01", "02"]
    for video in benchmark.test:
        np.testing.assert_array_equal(video.labels, expected[video.name])
        assert video.masks().shape == (len(expected[video.name]), SIZE[1], SIZE[0])


def test_shanghaitech_layout_labels_and_pixel_masks(tmp_path):
    root = tmp_path / "shanghaitech"
    write_avi(root / "training" / "videos" / "01_001.avi", frames_of(10, 1))
    write_avi(root / "training" / "videos" / "02_001.avi", frames_of(10, 2))
    expected = {"01_0014": np.array([0] * 8 + [1] * 4), "12_0151": np.array([1] * 3 + [0] * 8)}
    for name, labels in expected.items():
        write_folder(root / "testing" / "frames" / name, frames_of(len(labels), 7), "{}.jpg")  # 1.jpg ... 12.jpg
        (root / "testing" / "test_frame_mask").mkdir(parents=True, exist_ok=True)
        np.save(root / "testing" / "test_frame_mask" / f"{name}.npy", labels)
    (root / "testing" / "test_pixel_mask").mkdir()
    np.save(root / "testing" / "test_pixel_mask" / "01_0014.npy", np.zeros((12, SIZE[1], SIZE[0]), np.uint8))
    benchmark = read_benchmark("shanghaitech", root)
    assert [p.name for p in benchmark.train] == ["01_001.avi", "02_001.avi"]
    assert [v.name for v in benchmark.test] == ["01_0014", "12_0151"]
    for video in benchmark.test:
        np.testing.assert_array_equal(video.labels, expected[video.name])
    assert benchmark.test[0].masks().shape == (12, SIZE[1], SIZE[0]) and benchmark.test[1].masks is None
    from aivad.video.files import read_frames

    # 1.jpg, 2.jpg, ..., 10.jpg, 11.jpg: by number, not as text
    order = [frame_number(frame) for _, frame in read_frames(benchmark.test[0].path)]
    assert order == list(range(12))
    np.save(root / "testing" / "test_frame_mask" / "12_0151.npy", np.zeros(5))
    with pytest.raises(UserError, match="has 11 frames but its labels cover 5"):
        read_benchmark("shanghaitech", root)


def test_wrong_layout_says_what_is_expected(tmp_path):
    with pytest.raises(UserError, match="UCSDped2/Train/Train001"):
        read_benchmark("ped2", tmp_path)
    with pytest.raises(UserError, match="training_videos/01.avi"):
        read_benchmark("avenue", tmp_path)


def make_avenue(base: Path, labels_beside: bool = True) -> Path:
    """'Avenue Dataset' with 01.avi (frames 3-5 anomalous), and ground_truth_demo beside it or inside it."""
    import scipy.io

    root = base / "Avenue Dataset"
    write_avi(root / "training_videos" / "01.avi", frames_of(10, 1))
    write_avi(root / "testing_videos" / "01.avi", frames_of(10, 2))
    label_dir = (base if labels_beside else root) / "ground_truth_demo" / "testing_label_mask"
    label_dir.mkdir(parents=True)
    cells = np.empty((1, 10), dtype=object)
    for t in range(10):
        cells[0, t] = np.zeros((SIZE[1], SIZE[0]), np.uint8)
        cells[0, t][5:9, 5:9] = 2 <= t <= 4
    scipy.io.savemat(label_dir / "1_label.mat", {"volLabel": cells})
    return root


def test_a_folder_inside_the_dataset_is_named_and_labels_beside_it_are_found(tmp_path):
    make_ped2(tmp_path / "ucsd")
    with pytest.raises(UserError, match=r"Test is inside the dataset: give .*UCSDped2\."):
        read_benchmark("ped2", tmp_path / "ucsd" / "UCSDped2" / "Test")
    # The two Avenue downloads unpacked side by side, and the 'Avenue Dataset' folder given, as its help says.
    root = make_avenue(tmp_path / "avenue")
    benchmark = read_benchmark("avenue", root)
    assert benchmark.test[0].labels.tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert benchmark.label_source == tmp_path / "avenue" / "ground_truth_demo" / "testing_label_mask"
    # ground_truth_show.m reads testing_videos\ beside the masks: a copy there does not hide the dataset
    shutil.copytree(root / "testing_videos", tmp_path / "avenue" / "ground_truth_demo" / "testing_videos")
    assert read_benchmark("avenue", tmp_path / "avenue").root == root
    with pytest.raises(UserError, match=r"testing_videos is inside the dataset: give .*Avenue Dataset\."):
        read_benchmark("avenue", root / "testing_videos")
    shutil.rmtree(tmp_path / "avenue" / "ground_truth_demo")
    with pytest.raises(UserError, match="unpack ground_truth_demo.zip into"):
        read_benchmark("avenue", root)


def save_mat_v73(path: Path, masks: list[np.ndarray]) -> None:
    """volLabel as MATLAB's save -v7.3 writes it: HDF5 behind a 512-byte MAT header, the cells as references
    to (W, H) arrays (MATLAB stores column-major)."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        cells = handle.create_dataset("volLabel", (len(masks), 1), dtype=h5py.ref_dtype)
        for t, mask in enumerate(masks):
            cells[t, 0] = handle.create_dataset(f"#refs#/m{t}", data=np.ascontiguousarray(mask.T)).ref
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116) + bytes(8) + b"\x00\x02IM"
    with open(path, "r+b") as handle:
        handle.write(header)


def test_vol_label_saved_as_v73_is_read_with_h5py_or_says_what_to_do(tmp_path, monkeypatch):
    pytest.importorskip("h5py")  # requirements-dev.txt
    root = make_avenue(tmp_path)
    mat = tmp_path / "ground_truth_demo" / "testing_label_mask" / "1_label.mat"
    masks = [np.zeros((SIZE[1], SIZE[0]), np.uint8) for _ in range(10)]
    masks[7][1:3, 40:50] = 1
    save_mat_v73(mat, masks)
    assert read_benchmark("avenue", root).test[0].labels.tolist() == [0] * 7 + [1, 0, 0]
    np.testing.assert_array_equal(read_benchmark("avenue", root).test[0].masks()[7], masks[7] > 0)
    monkeypatch.setitem(sys.modules, "h5py", None)  # as where h5py is not installed
    with pytest.raises(UserError, match=r"v7.3 \(HDF5\).*pip install h5py.*'-v7'"):
        read_benchmark("avenue", root)


def test_mask_counts_and_lost_frames_are_caught_before_any_model_loads(tmp_path):
    make_ped2(tmp_path / "ucsd")
    test = tmp_path / "ucsd" / "UCSDped2" / "Test"
    (test / "Test001_gt" / "012.bmp").unlink()
    with pytest.raises(UserError, match="has 12 frames but 11 pixel masks"):
        read_benchmark("ped2", tmp_path / "ucsd")
    (test / "Test001_gt" / "005.bmp").rename(test / "Test001_gt" / "012.bmp")
    (test / "Test002" / "007.tif").unlink()  # a frame lost in the middle: later labels would shift by one
    with pytest.raises(UserError, match="Test002: the image numbered 7 is missing"):
        read_benchmark("ped2", tmp_path / "ucsd")
    root = tmp_path / "shanghaitech"
    write_avi(root / "training" / "videos" / "01_001.avi", frames_of(10, 1))
    write_folder(root / "testing" / "frames" / "01_0014", frames_of(12, 7), "{}.jpg")
    for kind, array in (("test_frame_mask", np.zeros(12)), ("test_pixel_mask", np.zeros((11, SIZE[1], SIZE[0])))):
        (root / "testing" / kind).mkdir(parents=True)
        np.save(root / "testing" / kind / "01_0014.npy", array)
    with pytest.raises(UserError, match="has 12 frames but 11 pixel masks"):
        read_benchmark("shanghaitech", root)
    with pytest.raises(UserError, match="testing is inside the dataset: give"):
        read_benchmark("shanghaitech", root / "testing")


# --------------------------------------------------------------------------- protocol


def test_smoothing_is_the_authors_gaussian_filter_per_video():
    scores = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    # gaussian_filter1d, sigma 1, reflected edges, truncated at 4 sigma: weights exp(-k^2/2), normalised
    weights = np.exp(-0.5 * np.arange(-4, 5) ** 2)
    weights /= weights.sum()
    assert smooth(scores, 1.0)[2] == pytest.approx(weights[4])
    assert smooth(scores, 1.0)[0] == pytest.approx(weights[2] + weights[7])  # frame 2 and its reflection at -3
    np.testing.assert_array_equal(smooth(scores, 0), scores)


def test_smoothed_frame_scores_follow_the_models_combination():
    attributes = {"velocity": np.array([0.0, 4.0, 0.0]), "pose": np.array([1.0, 1.0, 1.0])}
    by_max = smoothed_frame_scores(attributes, "max_smoothed", 1.0)
    np.testing.assert_allclose(by_max, np.maximum(smooth(attributes["velocity"], 1), smooth(attributes["pose"], 1)))
    np.testing.assert_allclose(smoothed_frame_scores(attributes, "sum", 1.0), smooth([1.0, 5.0, 1.0], 1.0))


def test_micro_macro_and_padding_against_hand_computed_values():
    labels = [np.array([0, 0, 1, 1]), np.array([0, 0, 0]), np.array([1, 1])]
    scores = [np.array([0.1, 0.4, 0.35, 0.8]), np.array([0.2, 0.3, 0.9]), np.array([0.5, 0.6])]
    figures = frame_metrics(labels, scores)
    # micro: 9 frames, anomalous scores {0.35, 0.8, 0.5, 0.6}, normal {0.1, 0.4, 0.2, 0.3, 0.9}:
    # pairs won: 0.35 beats 0.1,0.2,0.3 (3); 0.8 beats all but 0.9 (4); 0.5: 4; 0.6: 4 -> 15 of 20
    assert figures["micro_auroc"] == pytest.approx(15 / 20)
    # video 1, padded: normals {0 (pad), 0.1, 0.4}, anomalous {0.35, 0.8, max (pad)}:
    # 0.35 beats 0, 0.1 (2); 0.8 beats 3; max beats 3 -> 8 of 9
    # video 2 (all normal), padded: normals {0, 0.2, 0.3, 0.9}, anomalous {max}: 4 of 4
    # video 3 (all anomalous), padded: normals {0}, anomalous {0.5, 0.6, max}: 3 of 3
    assert figures["macro_auroc"] == pytest.approx((8 / 9 + 1 + 1) / 3)
    assert [v["auroc"] for v in figures["per_video"]] == [pytest.approx(3 / 4), None, None]
    assert figures["per_video"][0]["auroc_padded"] == pytest.approx(8 / 9)
    assert (figures["frames"], figures["anomalous_frames"]) == (9, 4)
    from sklearn.metrics import average_precision_score

    assert figures["average_precision"] == pytest.approx(
        average_precision_score(np.concatenate(labels), np.concatenate(scores))
    )
    assert padded_auroc(np.array([0, 1]), np.array([0.7, 0.2])) == pytest.approx(3 / 4)  # 0.2 beats only the pad 0


# --------------------------------------------------------------------------- RBDC / TBDC


def test_mask_regions_and_tracks():
    mask = np.zeros((20, 30), bool)
    mask[2:5, 3:7] = True
    mask[10:15, 20:22] = True
    np.testing.assert_array_equal(mask_boxes(mask), [[3, 2, 7, 5], [20, 10, 22, 15]])
    frames = [
        np.array([[0, 0, 10, 10]]),
        np.array([[2, 0, 12, 10], [50, 50, 60, 60]]),
        np.zeros((0, 4)),
        np.array([[2, 0, 12, 10]]),
    ]
    ids = link_tracks(frames)
    assert [i.tolist() for i in ids] == [[0], [0, 1], [], [2]]  # a gap ends a track


def test_rbdc_tbdc_on_a_hand_made_case():
    # Two frames of 20x20, one anomalous object in each (one track of 2 regions).
    masks = np.zeros((2, 20, 20), bool)
    masks[0, 0:10, 0:10] = True
    masks[1, 0:10, 2:12] = True
    detections = [
        (np.array([[0, 0, 10, 10], [15, 15, 20, 20]]), np.array([0.9, 0.5])),  # hit, false positive
        (np.array([[10, 10, 20, 20]]), np.array([0.7])),  # misses the object: a false positive
    ]
    tally = RegionTally()
    tally.add_video(masks, detections)
    figures = tally.criteria()
    assert (figures["regions"], figures["tracks"], figures["frames"]) == (2, 1, 2)
    # thresholds 0.9, 0.7, 0.5 -> false positives per frame 0, 0.5, 1.0; regions found 1/2 at every one;
    # the track is found once 10% of its regions are: 1 of 2 -> 1.0 at every threshold.
    # RBDC: (0,0) -> (0, .5) -> (.5, .5) -> (1, .5): area 0.5; TBDC: (0,0) -> (0,1) -> ... -> (1,1): area 1
    assert figures["rbdc"] == pytest.approx(0.5)
    assert figures["tbdc"] == pytest.approx(1.0)
    # (0,0) -> (.5,.5) -> (2,1) cut at x = 1, where y = .5 + .5 * (.5 / 1.5) = 2/3: .125 + .5 * (.5 + 2/3) / 2
    assert curve_area(np.array([0.5, 2.0]), np.array([0.5, 1.0])) == pytest.approx(0.125 + 0.5 * (0.5 + 2 / 3) / 2)


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize(
    "dataset, components, bins, units, appearance",
    [("ped2", 2, 1, "pixels", True), ("shanghaitech", 5, 8, "box_height", False)],
)
def test_presets_reach_the_model(dataset, components, bins, units, appearance):
    from aivad.benchmark.presets import PRESETS, training_flags
    from aivad.model.aivad_model import velocity_in_units, velocity_units_for
    from aivad.training.arguments import build_config, get_args_parser

    parser = get_args_parser({"video_list": "x.py", "init_checkpoint": None, "lr": 1e-4, "epochs": 0,
                              "accumulate_grad_batches": 1, "output": "m.ckpt"})  # fmt: skip
    for backend in ("full", "lite"):
        args = parser.parse_args(["--backend", backend, *training_flags(PRESETS[dataset])])
        config = build_config(args, None)
        assert config.density["velocity"]["n_components"] == components
        assert ("appearance" in config.density) == appearance
        if backend == "full":
            assert config.backend_settings["velocity_bins"] == bins
        assert args.velocity_units == units
    velocity, boxes = np.array([[3.0]]), np.array([[0, 0, 10, 50]])  # 3 pixels a frame, a box 50 high
    expected = {"pixels": 3.0, "box_height": 3.0 * 100 / 50}[units]
    assert velocity_in_units(velocity, boxes, velocity_units_for(units, 40.0))[0, 0] == pytest.approx(expected)


# --------------------------------------------------------------------------- end to end


def scene(n: int, seed: int, labels) -> list[np.ndarray]:
    from aivad.video.synthetic import render_scene

    if labels is None or not np.any(labels):
        return render_scene(n, seed=seed)[0]
    anomalous = np.flatnonzero(labels)
    return render_scene(n, seed=seed, anomaly="fast", anomaly_frames=(anomalous[0], anomalous[-1] + 1))[0]


def test_benchmark_ped2_end_to_end_on_cpu(tmp_path):
    """The acceptance check: lite, plain AI-VAD, on CPU; the reported micro AUROC is sklearn's over its own CSVs."""
    from sklearn.metrics import roc_auc_score

    from aivad.cli import main

    make_ped2(tmp_path / "data", frames_per_video=24, render=scene)
    out = tmp_path / "out"
    argv = ["benchmark", "ped2", str(tmp_path / "data"), "--backend", "lite", "--epochs", "0", "--out", str(out)]
    argv += ["--device", "cpu", "--num-workers", "0"]
    assert main(argv) == 0
    report = json.loads((out / "benchmark.json").read_text(encoding="utf-8"))
    labels, scores = [], []
    for video in ("Test001", "Test002", "Test003"):
        with open(out / "frames" / f"{video}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [int(r["frame"]) for r in rows] == list(range(24))  # every frame, the first one too
        labels += [int(r["label"]) for r in rows]
        scores += [float(r["smoothed_score"]) for r in rows]
    assert report["micro_auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert report["frames"] == 72 and report["anomalous_frames"] == sum(labels) == 6 + 5
    assert report["preset"]["velocity_components"] == 2 and report["preset"]["smoothing_sigma"] == 3.0
    assert report["rbdc"] is not None and report["region_metrics"]["videos"] == 1
    assert report["epochs"] == 0 and report["backend"] == "lite"
    import torch

    config = torch.load(out / "model.ckpt", weights_only=True)["hyper_parameters"]  # the preset reached the model
    assert config["density"]["velocity"]["n_components"] == 2 and config["velocity_units"] == {"kind": "pixels"}
    # A second run reuses the model and every finished CSV, and reports the same figures.
    stamp = (out / "frames" / "Test001.csv").stat().st_mtime_ns
    assert main(argv) == 0
    assert (out / "frames" / "Test001.csv").stat().st_mtime_ns == stamp
    assert json.loads((out / "benchmark.json").read_text(encoding="utf-8"))["micro_auroc"] == report["micro_auroc"]
    # A run stopped after one video resumes with the others.
    (out / "frames" / "Test002.csv").unlink()
    assert main(argv) == 0
    assert (out / "frames" / "Test001.csv").stat().st_mtime_ns == stamp and (out / "frames" / "Test002.csv").is_file()
    assert json.loads((out / "benchmark.json").read_text(encoding="utf-8"))["micro_auroc"] == report["micro_auroc"]
    # Other settings into the same folder are refused.
    with pytest.raises(UserError, match="other settings"):
        main([*argv[:-2], "--num-workers", "1"])


def test_benchmark_stopped_with_ctrl_c_says_how_to_go_on(tmp_path, monkeypatch, capsys):
    from aivad.benchmark import runner
    from aivad.cli import main

    def interrupted(*args):
        raise KeyboardInterrupt

    make_ped2(tmp_path / "data")
    monkeypatch.setattr(runner, "train_model", interrupted)
    argv = ["benchmark", "ped2", str(tmp_path / "data"), "--backend", "lite", "--out", str(tmp_path / "out")]
    assert main(argv) == 130
    assert "stopped; run the same benchmark command again" in capsys.readouterr().out


def test_benchmark_shanghaitech_without_appearance_trains_no_encoder(tmp_path):
    """The ShanghaiTech preset: no appearance attribute in the model, so no encoder epochs whatever --epochs says."""
    import torch

    from aivad.cli import main
    from aivad.video.synthetic import render_scene

    root = tmp_path / "shanghaitech"
    for i in (1, 2):
        write_avi(root / "training" / "videos" / f"01_00{i}.avi", render_scene(20, seed=i)[0])
    (root / "testing" / "test_frame_mask").mkdir(parents=True)
    for j, name in enumerate(["01_0014", "01_0015"]):
        frames, labels = render_scene(20, seed=10 + j, anomaly="fast", anomaly_frames=(8, 14))
        write_folder(root / "testing" / "frames" / name, frames, "{}.jpg")
        np.save(root / "testing" / "test_frame_mask" / f"{name}.npy", labels)
    out = tmp_path / "out"
    argv = ["benchmark", "shanghaitech", str(root), "--backend", "lite", "--epochs", "3", "--out", str(out)]
    assert main([*argv, "--device", "cpu", "--num-workers", "0"]) == 0
    report = json.loads((out / "benchmark.json").read_text(encoding="utf-8"))
    assert report["epochs"] == 0 and report["preset"]["smoothing_sigma"] == 7.0
    assert report["rbdc"] is None and report["frames"] == 40  # no pixel masks in this fixture
    config = torch.load(out / "model.ckpt", weights_only=True)["hyper_parameters"]
    assert "appearance" not in config["density"] and config["velocity_units"]["kind"] == "box_height"
    assert config["velocity_units"]["reference_height"] == 0.0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
