"""Issue 27 item 1: a folder of numbered images is a video wherever a video file is."""

import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import LITE_FAST, REPO_ROOT, train, train_as_user, wait_until

from aivad.cli import main as cli_main
from aivad.console import run_main
from aivad.errors import UserError
from aivad.video.file_source import FileSource
from aivad.video.files import (
    SeekableVideo,
    content_stamp,
    inspect_video,
    iter_frame_pairs,
    probe_video,
    read_frames,
    validate_videos,
)
from aivad.video.frame_folders import FRAME_FOLDER_FPS, frame_order_key
from aivad.video.listing import is_frame_folder, load_video_list_file, resolve_videos
from aivad.video.synthetic import make_scene_video

SIZE = (32, 24)  # width, height


def numbered_frame(number: int, size=SIZE) -> np.ndarray:
    """A frame that says which one it is: every pixel holds its number."""
    return np.full((size[1], size[0], 3), number, np.uint8)


def write_frames(folder: Path, names: list[str], size=SIZE) -> Path:
    """Image ``names[i]`` holds the value 10 * (i + 1), so the read order shows in the pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    for order, name in enumerate(names, start=1):
        assert cv2.imwrite(str(folder / name), numbered_frame(10 * order, size))
    return folder


def values(frames) -> list[int]:
    return [int(frame[0, 0, 0]) for _, frame in frames]


def decoded_into_folder(video: Path, folder: Path) -> Path:
    """The video's frames, decoded by our reader, as lossless PNG files 1.png, 2.png, ..."""
    folder.mkdir(parents=True)
    for index, frame in read_frames(video):
        assert cv2.imwrite(str(folder / f"{index + 1}.png"), frame)
    return folder


def run_cli(*args) -> int:
    return run_main(cli_main, [str(a) for a in args])


# ------------------------------------------------------------------------------ order


def test_frames_follow_the_number_in_the_name_not_the_text(tmp_path):
    shanghaitech = write_frames(tmp_path / "01_0014", ["10.png", "1.png", "2.png", "11.png"])  # hold 10, 20, 30, 40
    assert values(read_frames(shanghaitech)) == [20, 30, 10, 40]  # 1, 2, 10, 11 (as text: 1, 10, 11, 2)
    ucsd = write_frames(tmp_path / "Test001", [f"{n:03d}.tif" for n in range(1, 13)])
    assert values(read_frames(ucsd)) == [10 * n for n in range(1, 13)]


def test_order_key_takes_the_last_number_ties_by_name_and_unnumbered_last():
    names = ["frame_10.png", "cam2_frame_9.png", "b.png", "frame_2.png", "02.png", "2.png", "a.png", "01_0014_1.png"]
    assert sorted(names, key=frame_order_key) == [
        "01_0014_1.png",
        "02.png",
        "2.png",
        "frame_2.png",
        "cam2_frame_9.png",
        "frame_10.png",
        "a.png",
        "b.png",
    ]


def test_every_image_kind_is_read_hidden_files_and_other_files_are_not(tmp_path):
    folder = tmp_path / "mixed"
    write_frames(folder, ["1.bmp", "2.JPEG", "3.png", "4.TIF", "5.tiff"])
    (folder / "._3.png").write_bytes(b"macOS resource fork")  # copied from a Mac: not a frame
    (folder / "notes.txt").write_text("camera 3")
    (folder / "Thumbs.db").write_bytes(b"\0" * 10)
    assert inspect_video(folder).n_frames == 5
    assert np.allclose(values(read_frames(folder)), [10, 20, 30, 40, 50], atol=2)  # atol: 2.JPEG is lossy


# ------------------------------------------------------------------------------ listing


def test_listing_rules_for_folders(tmp_path):
    ucsd_train = tmp_path / "UCSDped2" / "Train"
    for name in ("Train010", "Train002", "Train001"):
        write_frames(ucsd_train / name, ["001.tif", "002.tif"])
    assert resolve_videos([str(ucsd_train)], tmp_path) == [ucsd_train / n for n in ("Train001", "Train002", "Train010")]

    ucsd_test = tmp_path / "UCSDped2" / "Test"
    write_frames(ucsd_test / "Test001", ["001.tif", "002.tif"])
    write_frames(ucsd_test / "Test001_gt", ["001.bmp", "002.bmp"])  # ground-truth masks, not a video
    assert resolve_videos([ucsd_test], tmp_path) == [ucsd_test / "Test001"]

    frames = write_frames(tmp_path / "frames", ["1.jpg", "2.jpg"])
    assert resolve_videos(["frames"], tmp_path) == [frames]  # relative to the list file's folder
    assert resolve_videos([tmp_path / "UCSDped2" / "Train" / "Train00*"], tmp_path) == [
        ucsd_train / "Train001",
        ucsd_train / "Train002",
    ]

    with_videos = write_frames(tmp_path / "camera", ["poster.jpg"])
    clip = make_scene_video(with_videos / "clip.mp4", n_frames=3, size=SIZE)
    assert resolve_videos([with_videos], tmp_path) == [clip]  # video files win over images beside them
    assert not is_frame_folder(with_videos) and is_frame_folder(frames) and not is_frame_folder(ucsd_train)


def test_the_video_list_file_takes_frame_folders(tmp_path):
    write_frames(tmp_path / "Test001", ["001.tif", "002.tif", "003.tif"])
    write_frames(tmp_path / "Train" / "Train001", ["001.tif", "002.tif"])
    list_file = tmp_path / "video_files_list.py"
    list_file.write_text('video_files = ["Test001", "Train"]\n', encoding="utf-8")
    paths = resolve_videos(load_video_list_file(list_file), tmp_path)
    assert [(info.path.name, info.n_frames, info.fps) for info in validate_videos(paths, fps=10)] == [
        ("Test001", 3, 10.0),
        ("Train001", 2, 10.0),
    ]


# ------------------------------------------------------------------------------ reading


def test_frame_counts_strides_and_pairs_match_a_video_file(tmp_path):
    video = make_scene_video(tmp_path / "clip.mp4", n_frames=12, size=SIZE, seed=3)
    folder = decoded_into_folder(video, tmp_path / "clip")
    video_info, folder_info = probe_video(video), probe_video(folder, fps=12.5)
    assert (folder_info.n_frames, folder_info.width, folder_info.height) == (12, *SIZE)
    assert folder_info.fps == 12.5 and probe_video(folder).fps == FRAME_FOLDER_FPS
    assert probe_video(video, fps=12.5).fps == video_info.fps  # a video file keeps its own rate
    for kwargs in ({}, {"stride": 3}, {"stride": 2, "start": 5}, {"stride": 4, "max_frames": 2, "start": 1}):
        from_video, from_folder = list(read_frames(video, **kwargs)), list(read_frames(folder, **kwargs))
        assert [i for i, _ in from_folder] == [i for i, _ in from_video], kwargs
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(from_video, from_folder))
    for kwargs in ({}, {"stride": 2}, {"stride": 3, "max_pairs": 2}, {"max_pairs": 6, "start": 4}):
        from_video, from_folder = list(iter_frame_pairs(video, **kwargs)), list(iter_frame_pairs(folder, **kwargs))
        assert [p[0] for p in from_folder] == [p[0] for p in from_video], kwargs
        for (_, *video_pair), (_, *folder_pair) in zip(from_video, from_folder):
            assert all(np.array_equal(a, b) for a, b in zip(video_pair, folder_pair))


def test_grayscale_and_16_bit_images_become_8_bit_bgr(tmp_path):
    folder = tmp_path / "gray16"
    folder.mkdir()
    ramp = np.arange(SIZE[0] * SIZE[1], dtype=np.uint16).reshape(SIZE[1], SIZE[0]) * 60
    for number in (1, 2):
        assert cv2.imwrite(str(folder / f"{number}.tif"), ramp + number)
    gray8 = tmp_path / "gray8"
    gray8.mkdir()
    for number in (1, 2):
        assert cv2.imwrite(str(gray8 / f"{number:03d}.tif"), (ramp % 256).astype(np.uint8))
    (_, first), _ = read_frames(folder)
    assert first.dtype == np.uint8 and first.shape == (SIZE[1], SIZE[0], 3)
    assert np.array_equal(first[..., 0], ((ramp + 1) >> 8).astype(np.uint8))  # one fixed scale: the top 8 bits
    assert np.array_equal(first[..., 0], first[..., 2])
    (_, first8), _ = read_frames(gray8)
    assert np.array_equal(first8, np.repeat((ramp % 256).astype(np.uint8)[..., None], 3, axis=2))


def test_seekable_video_plays_a_frame_folder_from_any_frame(tmp_path):
    folder = write_frames(tmp_path / "frames", [f"{n}.png" for n in range(1, 9)])
    video = SeekableVideo(folder, fps=4)
    assert (video.fps, video.frame_count, video.width, video.height) == (4.0, 8, *SIZE)
    video.seek(5)
    assert [(index, time_s, int(frame[0, 0, 0])) for index, time_s, frame in video.frames()] == [
        (5, 1.25, 60),
        (6, 1.5, 70),
        (7, 1.75, 80),
    ]
    video.close()


def test_the_window_file_source_plays_a_frame_folder(tmp_path):
    folder = write_frames(tmp_path / "프레임 폴더", [f"{n:03d}.png" for n in range(1, 7)])
    source = FileSource(folder, every_frame=True, fps=10)
    received = []
    source.start()
    try:

        def collect() -> bool:
            frame = source.take(0.05)
            if frame is not None:
                received.append((frame.index, frame.time_s, int(frame.image[0, 0, 0]), frame.previous is not None))
            return source.status.state == "ended" and not source.slot.ready

        wait_until(collect, "the file source to play the frame folder to its end")
    finally:
        source.stop()
    assert (source.fps, source.frame_count, source.size) == (10.0, 6, SIZE)
    assert received == [(i, pytest.approx(i / 10), 10 * (i + 1), i > 0) for i in range(6)]


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda f: None, "no video files and no images"),
        (lambda f: write_frames(f, ["1.png"]), "only 1 frame(s) (1.png)"),
        (lambda f: write_frames(f, ["1.png", "2.png", "3.png"], size=SIZE) and write_frames(f, ["4.png"], (24, 24)),
         "its image 4.png is 24x24 but 1.png is 32x24"),
        (lambda f: write_frames(f, ["1.png", "2.png"]) and (f / "3.png").write_bytes(b"not an image"),
         "its image 3.png cannot be read as an image"),
        (lambda f: write_frames(f, ["1.png", "2.png"]) and (f / "3.jpg").write_bytes(b""),
         "its image 3.jpg cannot be read as an image"),
    ],
)  # fmt: skip
def test_an_unusable_frame_folder_is_one_clear_sentence(tmp_path, make, expected):
    folder = tmp_path / "frames"
    folder.mkdir()
    make(folder)
    problem = inspect_video(folder)
    assert isinstance(problem, str) and expected in problem
    with pytest.raises(UserError, match="1 of 1 video file") as raised:
        validate_videos([folder])
    assert str(folder) in str(raised.value) and expected in str(raised.value)


def test_an_image_damaged_after_its_header_stops_the_read_naming_it(tmp_path):
    folder = write_frames(tmp_path / "frames", ["1.png", "2.png", "3.png"])
    data = (folder / "3.png").read_bytes()
    (folder / "3.png").write_bytes(data[: len(data) // 2])  # the header is intact, the pixels are not
    assert inspect_video(folder).n_frames == 3  # the header check lets it through ...
    with pytest.raises(UserError, match=r"3\.png \(frame 2 of the frame folder .*\) cannot be decoded"):
        list(read_frames(folder))  # ... decoding names it


def test_one_image_given_as_a_video_says_to_give_its_folder(tmp_path):
    folder = write_frames(tmp_path / "frames", ["1.png", "2.png"])
    assert "give the folder of numbered images" in inspect_video(folder / "1.png")


def test_a_replaced_image_changes_the_footage_cache_key(tmp_path):
    folder = write_frames(tmp_path / "frames", ["1.png", "2.png"])
    before = content_stamp(folder)
    assert cv2.imwrite(str(folder / "2.png"), numbered_frame(99))
    stat = (folder / "2.png").stat()
    os.utime(folder / "2.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert content_stamp(folder) != before


# ------------------------------------------------------------------------------ commands


def test_a_frame_folder_scores_the_same_as_the_same_frames_in_a_video(tmp_path, lite_checkpoint):
    video = make_scene_video(
        tmp_path / "clip.mp4", n_frames=30, size=(160, 120), seed=5, anomaly="fast", anomaly_frames=(10, 20)
    )
    folder = decoded_into_folder(video, tmp_path / "clip frames")
    fps = probe_video(video).fps
    rows = {}
    for name, path in (("video", video), ("folder", folder)):
        out = tmp_path / f"{name}.csv"
        assert run_cli("score", lite_checkpoint, path, "--csv", out, "--device", "cpu", "--fps", fps) == 0
        with open(out, newline="", encoding="utf-8") as handle:
            rows[name] = list(csv.DictReader(handle))
    assert len(rows["folder"]) == len(rows["video"]) == 30
    for column in ("frame_index", "time_s", "score", "raw_score"):
        video_values = np.array([float(r[column]) for r in rows["video"]])
        folder_values = np.array([float(r[column]) for r in rows["folder"]])
        assert np.allclose(video_values, folder_values), column
    assert np.ptp([float(r["score"]) for r in rows["folder"]]) > 0  # scores that vary, not a constant


def test_score_and_evaluate_take_fps_and_refuse_a_bad_one(tmp_path, capsys, lite_checkpoint):
    folder = write_frames(tmp_path / "frames", ["1.png", "2.png", "3.png"])
    with pytest.raises(SystemExit) as exited:
        run_cli("score", lite_checkpoint, folder, "--csv", tmp_path / "s.csv", "--fps", "0")
    assert exited.value.code == 2 and "--fps: '0' is not a frame rate" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    labels = tmp_path / "labels.npy"
    np.save(labels, np.array([0, 1, 0]))
    assert run_cli("evaluate", lite_checkpoint, empty, "--labels", labels, "--device", "cpu") == 2
    error = capsys.readouterr().err
    assert f"the video {empty} given to python -m aivad evaluate cannot be used" in error
    assert "no video files and no images" in error


def test_training_takes_a_frame_folder_in_videos(tmp_path, lite_training_videos):
    folder = decoded_into_folder(lite_training_videos[0], tmp_path / "normal frames")
    output = tmp_path / "folder.ckpt"
    args = ["--videos", folder, lite_training_videos[1], "--fps", "7.5", "--epochs", "0", "--output", output]
    assert train("from_scratch", [str(a) for a in args] + LITE_FAST) == 0
    summary = json.loads(Path(str(output) + ".json").read_text(encoding="utf-8"))
    assert [(Path(v["path"]).name, v["frames"], v["fps"], v["frame_pairs"]) for v in summary["videos"]] == [
        ("normal frames", 40, 7.5, 39),
        (lite_training_videos[1].name, 40, probe_video(lite_training_videos[1]).fps, 39),
    ]
    assert summary["settings"]["fps"] == 7.5


def test_a_damaged_image_met_in_a_decoding_worker_is_one_sentence(tmp_path, capsys, lite_training_videos):
    folder = decoded_into_folder(lite_training_videos[0], tmp_path / "frames")
    data = (folder / "20.png").read_bytes()
    (folder / "20.png").write_bytes(data[: len(data) // 2])  # passes the header check, fails to decode
    args = ["--videos", folder, "--epochs", "0", "--output", tmp_path / "o.ckpt", *LITE_FAST, "--num-workers", "1"]
    assert train_as_user("from_scratch", args) == 2  # the last --num-workers counts: one worker process
    error = capsys.readouterr().err
    assert "error: The image " in error and "20.png (frame 19 of the frame folder" in error
    assert "Traceback" not in error and "DataLoader worker" not in error


def test_fps_is_one_option_with_one_default_for_training_and_scoring():
    import runpy

    from aivad.cli import get_args_parser as cli_parser
    from aivad.training.arguments import get_args_parser as training_parser

    preset = runpy.run_path(str(REPO_ROOT / "train_aivad_from_scratch.py"))["PRESET"]
    for parser, argv in (
        (cli_parser(), ["score", "m.ckpt", "Test001", "--csv", "s.csv"]),
        (cli_parser(), ["evaluate", "m.ckpt", "Test001", "--labels", "l.npy"]),
        (training_parser(preset), []),
    ):
        assert parser.parse_args(argv).fps == FRAME_FOLDER_FPS
        assert parser.parse_args([*argv, "--fps", "10"]).fps == 10.0
