"""The three public benchmarks read in the layout their authors distribute, with their frame labels and masks.

- UCSD Ped2: ``UCSDped2/Train/Train0NN/*.tif`` and ``UCSDped2/Test/Test0NN/*.tif`` (frame folders); frame
  labels from ``UCSDped2.m`` (``TestVideoFile{end+1}.gt_frame = [61:180];``, 1-indexed and inclusive, one
  line per test video in order, several ranges or none); pixel masks in ``Test0NN_gt/*.bmp`` where present.
- CUHK Avenue: ``training_videos/NN.avi`` and ``testing_videos/NN.avi``; labels and pixel masks from
  ``testing_label_mask/N_label.mat`` (``volLabel``: one mask per frame; a frame is anomalous when any pixel of
  its mask is set), found anywhere under the root (the masks come in a separate download).
- ShanghaiTech: ``training/videos/*.avi`` (all 13 scenes together), ``testing/frames/<video>/*.jpg``, labels
  ``testing/test_frame_mask/<video>.npy``, pixel masks ``testing/test_pixel_mask/<video>.npy`` where present.

Frame folders are read as videos by :mod:`aivad.video.files` (sorted by the number in the name). Every test
video's labels are checked against its frame count here, before any model loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivad.errors import UserError

DATASETS = ("ped2", "avenue", "shanghaitech")


@dataclass
class TestVideo:
    name: str  # "Test001", "01", "01_0014": the name the CSVs and the report use
    path: Path  # a video file or a frame folder
    labels: np.ndarray  # (T,) int8, 1 = anomalous frame
    masks: Callable[[], np.ndarray] | None = None  # () -> (T, H, W) bool pixel masks; None where none exist
    mask_frames: int | None = None  # how many pixel masks there are (read cheaply, checked before any model loads)

    @property
    def n_frames(self) -> int:
        return len(self.labels)


@dataclass
class Benchmark:
    name: str  # one of DATASETS
    root: Path  # the folder the layout was found in
    train: list[Path]  # training videos or frame folders, in order
    test: list[TestVideo]  # test videos, in order
    label_source: Path | None = None  # the labels file or folder, where it is not in root's layout (Avenue's)

    @property
    def has_masks(self) -> bool:
        return any(video.masks is not None for video in self.test)


def read_benchmark(name: str, root: Path, count_frames: Callable[[Path], int] | None = None) -> Benchmark:
    """The dataset ``name`` under ``root``; ``count_frames`` (default: the video reader's count) checks labels."""
    if name not in DATASETS:
        raise UserError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}.")
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"the dataset folder {root} does not exist; give the folder you unpacked {name} into.")
    count_frames = count_frames or video_frame_count
    reader = {"ped2": read_ped2, "avenue": read_avenue, "shanghaitech": read_shanghaitech}[name]
    benchmark = reader(root)
    for video in benchmark.test:
        found = count_frames(video.path)
        if found != video.n_frames:
            raise UserError(
                f"{name}: test video {video.path} has {found} frames but its labels cover {video.n_frames}; "
                "check that the video and its labels come from the same, complete download."
            )
        if video.mask_frames is not None and video.mask_frames != found:
            raise UserError(
                f"{name}: test video {video.path} has {found} frames but {video.mask_frames} pixel masks; check "
                "that the video and its masks come from the same, complete download."
            )
    return benchmark


def video_frame_count(path: Path) -> int:
    from aivad.video.files import inspect_video

    info = inspect_video(Path(path))
    if isinstance(info, str):
        raise UserError(f"the benchmark video {path} cannot be used ({info}); check the download.")
    return info.n_frames


def _find_root(given: Path, looks_right: Callable[[Path], bool]) -> Path:
    """``given`` when it holds the layout, else the one sub-folder that does (the unpacked archive's folder)."""
    if looks_right(given):
        return given
    found = [p for p in sorted(given.iterdir()) if p.is_dir() and looks_right(p)]
    return found[0] if len(found) == 1 else given


def _inside_hint(given: Path, looks_right: Callable[[Path], bool]) -> str:
    """Where the user gave a folder inside the dataset: which folder to give instead."""
    for parent in list(given.resolve().parents)[:3]:
        if looks_right(parent):
            return f" {given} is inside the dataset: give {parent}."
    return ""


def check_numbering(folder: Path, images: list[Path]) -> None:
    """A test frame folder's images must be numbered without gaps: a lost frame would shift every later label."""
    from aivad.video.frame_folders import frame_order_key

    numbers = [frame_order_key(p.name)[1] for p in images]
    expected = range(numbers[0], numbers[0] + len(numbers)) if numbers else range(0)
    if numbers != list(expected):
        gap = next(n for n, e in zip(numbers, expected) if n != e)
        missing = next(e for n, e in zip(numbers, expected) if n != e)
        raise UserError(
            f"{folder}: the image numbered {missing} is missing (the next is {gap}); a lost frame would shift every "
            "later frame against its label, so restore it from the download."
        )


def numbered_folders(parent: Path, prefix: str) -> list[Path]:
    """``Test001``, ``Test002``, ... (not ``Test001_gt``), in numeric order."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)$", re.IGNORECASE)
    found = [(int(m.group(1)), p) for p in parent.iterdir() if p.is_dir() and (m := pattern.match(p.name))]
    return [p for _, p in sorted(found)]


# --------------------------------------------------------------------------- UCSD Ped2


GT_FRAME_LINE = re.compile(r"TestVideoFile\s*\{\s*end\s*\+\s*1\s*\}\s*\.\s*gt_frame\s*=\s*\[([^\]]*)\]")


def parse_ucsd_gt(text: str) -> list[list[tuple[int, int]]]:
    """Per test video, its anomalous frame ranges (first, last), 1-indexed and inclusive, from a ``UCSDpedN.m``."""
    text = "\n".join(line.split("%", 1)[0] for line in text.splitlines())  # MATLAB comments
    videos = []
    for match in GT_FRAME_LINE.finditer(text):
        ranges = []
        for item in re.split(r"[,\s;]+", match.group(1).strip()):
            if not item:
                continue
            parts = [int(float(p)) for p in item.split(":")]
            if len(parts) == 1:
                ranges.append((parts[0], parts[0]))
            elif len(parts) == 2:
                ranges.append((parts[0], parts[1]))
            elif parts[1] == 1:  # first:1:last
                ranges.append((parts[0], parts[2]))
            else:  # first:step:last, each frame on its own
                ranges.extend((f, f) for f in range(parts[0], parts[2] + 1, parts[1]))
        videos.append(ranges)
    return videos


def ranges_to_labels(ranges: list[tuple[int, int]], n_frames: int, where: str) -> np.ndarray:
    labels = np.zeros(n_frames, dtype=np.int8)
    for first, last in ranges:
        if not 1 <= first <= last <= n_frames:
            raise UserError(
                f"{where}: the anomalous frames [{first}:{last}] fall outside the video's {n_frames} frames; check "
                "that the labels file belongs to these videos."
            )
        labels[first - 1 : last] = 1
    return labels


def image_files(folder: Path) -> list[Path]:
    """A frame folder's images in the order the video reader takes them (aivad.video.frame_folders)."""
    from aivad.video.frame_folders import frame_images

    return frame_images(folder)


def _is_ped2(folder: Path) -> bool:
    return (folder / "Train").is_dir() and (folder / "Test").is_dir()


def read_ped2(given: Path) -> Benchmark:
    # UCSD's archive holds UCSDped1 and UCSDped2 side by side: given the archive's folder, take UCSDped2
    root = given / "UCSDped2" if _is_ped2(given / "UCSDped2") else _find_root(given, _is_ped2)
    train_dir, test_dir = root / "Train", root / "Test"
    if not _is_ped2(root):
        raise UserError(
            f"{given} does not look like UCSD Ped2: expected the folders UCSDped2/Train/Train001 ... and "
            "UCSDped2/Test/Test001 ...; give the UCSDped2 folder (or the one holding it)."
            + _inside_hint(given, _is_ped2)
        )
    train, test = numbered_folders(train_dir, "Train"), numbered_folders(test_dir, "Test")
    if not train or not test:
        raise UserError(f"{root}: found no Train0NN or Test0NN frame folders in Train/ and Test/.")
    candidates = [test_dir / "UCSDped2.m", root / "UCSDped2.m", *sorted(root.rglob("UCSDped2.m"))]
    gt_file = next((p for p in candidates if p.is_file()), None)
    if gt_file is None:
        raise UserError(f"{root}: UCSDped2.m (the frame labels, in UCSDped2/Test/) is missing.")
    per_video = parse_ucsd_gt(gt_file.read_text(encoding="utf-8", errors="replace"))
    if len(per_video) != len(test):
        raise UserError(
            f"{gt_file} lists {len(per_video)} test videos but {test_dir} holds {len(test)} Test0NN folders; they "
            "must match one to one."
        )
    videos = []
    for folder, ranges in zip(test, per_video):
        images = image_files(folder)
        check_numbering(folder, images)
        labels = ranges_to_labels(ranges, len(images), f"{gt_file} ({folder.name})")
        gt_folder = folder.with_name(folder.name + "_gt")
        gt_images = image_files(gt_folder) if gt_folder.is_dir() else []
        masks = _bmp_masks(gt_folder, len(images)) if gt_images else None
        videos.append(TestVideo(folder.name, folder, labels, masks, len(gt_images) if gt_images else None))
    return Benchmark("ped2", root, train, videos)


def read_image_grey(path: Path) -> np.ndarray:
    """One image as a grey array; np.fromfile + imdecode, since cv2.imread cannot open Korean paths on Windows."""
    import cv2

    image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise UserError(f"the mask image {path} cannot be read; check the download.")
    return image


def _bmp_masks(folder: Path, n_frames: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        files = image_files(folder)
        if len(files) != n_frames:
            raise UserError(f"{folder} holds {len(files)} masks for a video of {n_frames} frames.")
        return np.stack([read_image_grey(f) > 0 for f in files])

    return load


# --------------------------------------------------------------------------- CUHK Avenue


def load_vol_label(path: Path) -> list[np.ndarray]:
    """``volLabel`` of an Avenue ``N_label.mat``: one 2-D mask per frame, whichever way the cell array lies.

    The files are distributed as MATLAB 5 files (scipy reads them). A file saved again with ``-v7.3`` is HDF5,
    which scipy cannot read: it is read with h5py where that is installed, otherwise the error says what to do.
    """
    import scipy.io

    try:
        data = scipy.io.loadmat(str(path))
    except NotImplementedError:  # scipy's answer to a v7.3 (HDF5) file
        return _vol_label_hdf5(path)
    except (ValueError, OSError) as error:
        raise UserError(f"{path} cannot be read as a MATLAB file ({error}); check the download.") from None
    if "volLabel" not in data:
        raise UserError(f"{path} has no volLabel variable; is it one of Avenue's testing_label_mask files?")
    cells = data["volLabel"]
    if cells.dtype == object:  # a 1xT or Tx1 cell array of HxW masks
        return [np.asarray(mask) for mask in cells.ravel()]
    cells = np.asarray(cells)  # a plain HxWxT array
    return [cells[..., t] for t in range(cells.shape[-1])] if cells.ndim == 3 else [cells]


def _vol_label_hdf5(path: Path) -> list[np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise UserError(
            f"{path} is a MATLAB v7.3 (HDF5) file, which scipy cannot read: install h5py (pip install h5py) and run "
            f"again, or save it again as version 7 in MATLAB: load('{path.name}'); save('{path.name}', 'volLabel', "
            "'-v7')."
        ) from None
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise UserError(f"{path} cannot be read as a MATLAB v7.3 file ({error}); check the download.") from None
    with handle:
        if "volLabel" not in handle:
            raise UserError(f"{path} has no volLabel variable; is it one of Avenue's testing_label_mask files?")
        cells = handle["volLabel"]
        if h5py.check_dtype(ref=cells.dtype) is None:  # a plain numeric array, stored transposed: (T, W, H)
            return list(np.asarray(cells).transpose(0, 2, 1)) if cells.ndim == 3 else [np.asarray(cells).T]
        return [np.asarray(handle[ref]).T for ref in np.asarray(cells).ravel()]  # each mask stored as (W, H)


def _is_avenue(folder: Path) -> bool:
    return (folder / "training_videos").is_dir() and (folder / "testing_videos").is_dir()


def _label_folders(given: Path, root: Path) -> list[Path]:
    """Avenue's testing_label_mask folders: under the folder given, else beside the dataset's folder, where the
    separate ground-truth download (ground_truth_demo.zip) is usually unpacked."""
    found = sorted(p for p in given.rglob("testing_label_mask") if p.is_dir())
    if not found:
        beside = [root.parent / "testing_label_mask", *sorted(root.parent.glob("*/testing_label_mask"))]
        found = [p for p in beside if p.is_dir()]
    return found


def read_avenue(given: Path) -> Benchmark:
    root = _find_root(given, _is_avenue)
    train_dir, test_dir = root / "training_videos", root / "testing_videos"
    if not _is_avenue(root):
        raise UserError(
            f"{given} does not look like CUHK Avenue: expected training_videos/01.avi ... and testing_videos/01.avi "
            "...; give the 'Avenue Dataset' folder." + _inside_hint(given, _is_avenue)
        )
    train, test = _numbered_videos(train_dir), _numbered_videos(test_dir)
    if not train or not test:
        raise UserError(f"{root}: found no .avi videos in training_videos/ or testing_videos/.")
    label_dirs = _label_folders(given, root)
    if not label_dirs:
        raise UserError(
            f"{root}: the folder testing_label_mask (Avenue's ground truth, a separate download) was found neither "
            f"under it nor beside it; unpack ground_truth_demo.zip into {root.parent}."
        )
    videos = []
    for video in test:
        number = int(video.stem)
        names = (f"{number}_label.mat", f"{video.stem}_label.mat")
        label_file = next((label_dirs[0] / n for n in names if (label_dirs[0] / n).is_file()), None)
        if label_file is None:
            raise UserError(f"{label_dirs[0]}: {number}_label.mat, the labels of {video.name}, is missing.")
        masks = load_vol_label(label_file)
        labels = np.array([int(np.any(mask)) for mask in masks], dtype=np.int8)
        videos.append(TestVideo(video.stem, video, labels, _cell_masks(label_file), len(masks)))
    return Benchmark("avenue", root, train, videos, label_dirs[0])


def _cell_masks(path: Path) -> Callable[[], np.ndarray]:
    return lambda: np.stack([mask > 0 for mask in load_vol_label(path)])


def _numbered_videos(folder: Path) -> list[Path]:
    videos = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".avi" and p.stem.isdigit()]
    return sorted(videos, key=lambda p: int(p.stem))


# --------------------------------------------------------------------------- ShanghaiTech


def _is_shanghaitech(folder: Path) -> bool:
    return (folder / "training" / "videos").is_dir() and (folder / "testing" / "frames").is_dir()


def read_shanghaitech(given: Path) -> Benchmark:
    root = _find_root(given, _is_shanghaitech)
    train_dir, frames_dir = root / "training" / "videos", root / "testing" / "frames"
    labels_dir, pixels_dir = root / "testing" / "test_frame_mask", root / "testing" / "test_pixel_mask"
    if not (_is_shanghaitech(root) and labels_dir.is_dir()):
        raise UserError(
            f"{given} does not look like ShanghaiTech: expected training/videos/*.avi, testing/frames/01_0014/ ... "
            "and testing/test_frame_mask/01_0014.npy ...; give the folder holding training/ and testing/."
            + _inside_hint(given, _is_shanghaitech)
        )
    train = sorted(p for p in train_dir.iterdir() if p.is_file() and p.suffix.lower() == ".avi")
    test = sorted(p for p in frames_dir.iterdir() if p.is_dir())
    if not train or not test:
        raise UserError(f"{root}: found no training/videos/*.avi or no testing/frames/<video>/ folders.")
    videos = []
    for folder in test:
        label_file = labels_dir / f"{folder.name}.npy"
        if not label_file.is_file():
            raise UserError(f"{label_file}, the labels of the test video {folder.name}, is missing.")
        labels = (np.load(label_file, allow_pickle=False).ravel() > 0).astype(np.int8)
        check_numbering(folder, image_files(folder))
        pixel_file = pixels_dir / f"{folder.name}.npy"
        mask_frames = _npy_frames(pixel_file) if pixel_file.is_file() else None
        masks = _npy_masks(pixel_file) if pixel_file.is_file() else None
        videos.append(TestVideo(folder.name, folder, labels, masks, mask_frames))
    return Benchmark("shanghaitech", root, train, videos)


def _npy_frames(path: Path) -> int:
    """How many (H, W) masks a (T, H, W) .npy holds, from its header only."""
    shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
    if len(shape) != 3:
        raise UserError(f"{path} holds an array of shape {shape}; a pixel mask file holds (frames, height, width).")
    return shape[0]


def _npy_masks(path: Path) -> Callable[[], np.ndarray]:
    return lambda: np.load(path, mmap_mode="r", allow_pickle=False) > 0
