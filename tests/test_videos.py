"""Listing, validating and decoding videos (aivad.videos) and the synthetic clips (aivad.synthetic)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_FRAMES, TINY_SIZE
from torch.utils.data import DataLoader

from aivad.errors import UserError
from aivad.training.extraction import FramePairDataset
from aivad.video.files import (
    CorruptFramesWarning,
    iter_frame_pairs,
    probe_video,
    read_frames,
    validate_videos,
)
from aivad.video.listing import load_video_list_file, resolve_videos
from aivad.video.synthetic import make_scene_video, render_scene

WIDTH, HEIGHT = TINY_SIZE


def frame_indices(path: Path, **kwargs) -> list[int]:
    return [index for index, _ in read_frames(path, **kwargs)]


# --------------------------------------------------------------------------- listing


def test_resolve_folder_glob_and_relative_entries(tmp_path, tiny_video):
    b = tiny_video("cams/b.mp4")
    a = tiny_video("cams/a.avi")
    (tmp_path / "cams" / "notes.txt").write_text("not a video")
    (tmp_path / "cams" / "Thumbs.db").write_bytes(b"\0")
    day1 = tiny_video("days/day1/x.mkv")
    day2 = tiny_video("days/day2/y.mp4")
    single = tiny_video("single.mp4")

    resolved = resolve_videos(["cams", "days/*", "single.mp4", str(single), "cams/*.mp4"], base_dir=tmp_path)

    # Folder contents sorted, non-videos skipped, a glob matching folders expands them,
    # and duplicates (single twice, cams/b.mp4 twice) are listed once.
    assert resolved == [a, b, day1, day2, single]


def test_resolve_keeps_unmatched_entries_for_validation(tmp_path, tiny_video):
    good = tiny_video("good.mp4")
    (tmp_path / "empty_folder").mkdir()
    entries = ["good.mp4", "nope.mp4", "empty_folder", "nothing/*.mp4"]

    resolved = resolve_videos(entries, base_dir=tmp_path)

    assert resolved == [good, tmp_path / "nope.mp4", tmp_path / "empty_folder", tmp_path / "nothing/*.mp4"]
    with pytest.raises(UserError) as caught:
        validate_videos(resolved)
    message = str(caught.value)
    assert message.startswith("3 of 4 video file(s) cannot be used")
    assert f"{tmp_path / 'nope.mp4'}: missing" in message
    assert f"{tmp_path / 'empty_folder'}: is a folder with no video files" in message
    assert f"{tmp_path / 'nothing/*.mp4'}: missing (no file matches" in message


def test_resolve_literal_suffix_pattern_picks_unknown_extensions(tmp_path):
    (tmp_path / "cam.dav").write_bytes(b"x")
    (tmp_path / "cam.txt").write_bytes(b"x")
    assert resolve_videos(["*.dav"], base_dir=tmp_path) == [tmp_path / "cam.dav"]


def test_resolve_with_nothing_listed_says_what_to_do(tmp_path):
    with pytest.raises(UserError, match="video_files_list.py or pass them with --videos"):
        resolve_videos([], base_dir=tmp_path)


def test_load_video_list_file(tmp_path):
    list_file = tmp_path / "video_files_list.py"
    list_file.write_text('# 카메라 목록\nvideo_files = ["a.mp4", r"D:\\CCTV\\1번 카메라"]\n', encoding="utf-8")
    assert load_video_list_file(list_file) == ["a.mp4", "D:\\CCTV\\1번 카메라"]


@pytest.mark.parametrize(
    "source, expected",
    [
        (None, "does not exist"),
        ("videos = ['a.mp4']\n", "must define video_files as a list"),
        ("video_files = 'a.mp4'\n", "must define video_files as a list"),
        ("import not_a_module_xyz\n", "failed to run \\(ModuleNotFoundError"),
        ('video_files = ["C:\\Users\\me\\a.mp4"]\n', 'syntax error on line 1.*r"C:'),
        ('video_files = ["D:\\new\\a.mp4"]\n', "control character"),
    ],
)
def test_load_video_list_file_problems(tmp_path, source, expected):
    list_file = tmp_path / "video_files_list.py"
    if source is not None:
        list_file.write_text(source, encoding="utf-8")
    with pytest.raises(UserError, match=expected) as caught:
        load_video_list_file(list_file)
    assert str(list_file) in str(caught.value)


def test_repository_video_list_names_the_demo_clip():
    repo_root = Path(__file__).resolve().parent.parent
    assert load_video_list_file(repo_root / "video_files_list.py") == ["samples/demo_normal.mp4"]


# --------------------------------------------------------------------------- validation


def test_validate_reports_every_problem_at_once(tmp_path, tiny_video):
    good = tiny_video("good.mp4")
    missing = tmp_path / "missing.mp4"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is a text file, not a video\n")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(tiny_video("whole.mp4").read_bytes()[:2000])
    one_frame = tiny_video("one_frame.avi", n_frames=1)

    with pytest.raises(UserError) as caught:
        validate_videos([good, missing, empty, text, truncated, one_frame])

    lines = str(caught.value).splitlines()
    assert lines[0].startswith("5 of 6 video file(s) cannot be used")
    assert lines[1:] == [
        f"  {missing}: missing",
        f"  {empty}: empty file (0 bytes)",
        lines[3],
        lines[4],
        f"  {one_frame}: has only 1 frame(s); at least 2 are needed",
    ]
    assert lines[3].startswith(f"  {text}: cannot be decoded as video (is it really a video?")
    assert lines[4].startswith(f"  {truncated}: cannot be decoded as video")
    assert str(good) not in str(caught.value)


@pytest.mark.parametrize("extension", [".mp4", ".avi", ".mkv"])
def test_containers_decode_with_every_frame(tiny_video, extension):
    path = tiny_video(f"clip{extension}")

    (info,) = validate_videos([path])
    frames = list(read_frames(path))

    assert (info.n_frames, info.fps, info.width, info.height) == (TINY_FRAMES, 10.0, WIDTH, HEIGHT)
    assert [index for index, _ in frames] == list(range(TINY_FRAMES))
    for _, frame in frames:
        assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous


def test_decoded_frames_match_the_rendered_scene(tiny_video):
    rendered, _ = render_scene(TINY_FRAMES, TINY_SIZE)
    decoded = [frame for _, frame in read_frames(tiny_video("clip.avi"))]
    # BGR channel order and content survive encoding (lossy, so only approximately).
    errors = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(decoded, rendered)]
    assert max(errors) < 6


def test_korean_path_with_spaces(tmp_path, tiny_video):
    path = tiny_video("카메라 영상 1/복도 녹화.mp4")
    assert path == tmp_path / "카메라 영상 1" / "복도 녹화.mp4"

    assert probe_video(path).n_frames == TINY_FRAMES
    assert resolve_videos(["카메라 영상 1"], base_dir=tmp_path) == [path]
    assert frame_indices(path) == list(range(TINY_FRAMES))
    assert [index for index, _, _ in iter_frame_pairs(path, stride=5)] == [1, 6, 11]


def test_grayscale_video_comes_out_as_bgr(tiny_video):
    path = tiny_video("gray.mkv", grayscale=True)
    (info,) = validate_videos([path])
    index, frame = next(read_frames(path))
    assert info.n_frames == TINY_FRAMES
    assert frame.shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2])


def test_unopenable_file_raises_user_error_when_read(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(UserError, match="Cannot open .*notes.mp4 as a video"):
        next(read_frames(text))


# --------------------------------------------------------------------------- sampling


def test_read_frames_stride_start_and_max(tiny_video):
    path = tiny_video()
    assert frame_indices(path, stride=3) == [0, 3, 6, 9]
    assert frame_indices(path, stride=4, start=2) == [2, 6, 10]
    assert frame_indices(path, stride=2, max_frames=3) == [0, 2, 4]
    assert frame_indices(path, max_frames=0) == []


def test_frame_pairs_are_consecutive_frames(tiny_video):
    path = tiny_video()
    all_frames = dict(read_frames(path))

    pairs = list(iter_frame_pairs(path, stride=4))

    assert [index for index, _, _ in pairs] == [1, 5, 9]
    for index, previous, frame in pairs:
        assert np.array_equal(previous, all_frames[index - 1])
        assert np.array_equal(frame, all_frames[index])
    assert [index for index, _, _ in iter_frame_pairs(path, stride=1, max_pairs=3)] == [1, 2, 3]


def test_frame_pair_dataset_with_spawn_workers_yields_every_pair_once(tiny_video):
    paths = [tiny_video(f"v{i}.mp4", seed=i, n_frames=n) for i, n in enumerate([12, 9, 7])]
    dataset = FramePairDataset(paths, stride=2, max_pairs_per_video=5)
    loader = DataLoader(dataset, batch_size=None, num_workers=2, multiprocessing_context="spawn")

    seen = []
    for sample in loader:
        assert sample["previous"].shape == sample["frame"].shape == (HEIGHT, WIDTH, 3)
        seen.append((int(sample["video_index"]), int(sample["frame_index"])))

    expected = [(0, i) for i in (1, 3, 5, 7, 9)] + [(1, i) for i in (1, 3, 5, 7)] + [(2, i) for i in (1, 3, 5)]
    assert sorted(seen) == expected


# --------------------------------------------------------------------------- damaged files


def _movi_chunks(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each video chunk in an AVI file's movi list."""
    position = data.index(b"movi") + 4
    chunks = []
    while data[position : position + 4] == b"00dc":
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        chunks.append((position, size))
        position += 8 + size + (size & 1)
    return chunks


def test_corrupt_middle_frame_is_skipped_with_one_warning(tmp_path, tiny_video):
    path = tiny_video("damaged.avi", n_frames=20)
    data = bytearray(path.read_bytes())
    chunks = _movi_chunks(data)
    assert len(chunks) == 20
    for broken in (8, 13):  # wipe the JPEG data of two frames, keep the AVI structure
        offset, size = chunks[broken]
        data[offset + 8 : offset + 8 + size] = bytes(size)
    path.write_bytes(bytes(data))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        indices = frame_indices(path)
        pair_indices = [index for index, _, _ in iter_frame_pairs(path)]

    expected = [i for i in range(20) if i not in (8, 13)]
    assert indices == expected
    # A pair needs both frames: 8 and 9 lose theirs because frame 8 is gone, and so on.
    assert pair_indices == [i for i in range(1, 20) if i not in (8, 9, 13, 14)]
    damage_warnings = [w for w in caught if issubclass(w.category, CorruptFramesWarning)]
    assert len(damage_warnings) == 2  # one per read, not one per damaged frame
    assert "damaged data near frame 8" in str(damage_warnings[0].message)
    assert validate_videos([path])[0].n_frames == 20


# --------------------------------------------------------------------------- synthetic clips


def test_render_scene_is_deterministic_and_labels_the_anomaly():
    frames_a, labels_a = render_scene(30, TINY_SIZE, seed=3, anomaly="fast", anomaly_frames=(10, 20))
    frames_b, labels_b = render_scene(30, TINY_SIZE, seed=3, anomaly="fast", anomaly_frames=(10, 20))
    normal, normal_labels = render_scene(30, TINY_SIZE, seed=3)
    other_seed, _ = render_scene(30, TINY_SIZE, seed=4)

    assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b))
    assert np.array_equal(labels_a, labels_b)
    assert labels_a.tolist() == [0] * 10 + [1] * 10 + [0] * 10
    assert not normal_labels.any()
    # The anomaly changes only its own frames; another seed changes the people.
    same = [np.array_equal(a, n) for a, n in zip(frames_a, normal)]
    assert same == [True] * 10 + [False] * 10 + [True] * 10
    assert not np.array_equal(normal[0], other_seed[0])


def test_foreign_object_appears_only_during_the_anomaly():
    frames, labels = render_scene(20, (160, 120), seed=0, anomaly="foreign", anomaly_frames=(5, 15))
    normal, _ = render_scene(20, (160, 120), seed=0)
    changed = [np.abs(f.astype(int) - n.astype(int)).max(axis=2) > 40 for f, n in zip(frames, normal)]
    changed_pixels = [int(mask.sum()) for mask in changed]
    assert all(count > 300 for count in changed_pixels[5:15])
    assert changed_pixels[:5] == [0] * 5 and changed_pixels[15:] == [0] * 5
    assert labels.sum() == 10


def test_synthetic_files_are_deterministic(tmp_path):
    first = make_scene_video(tmp_path / "a.mp4", n_frames=8, size=TINY_SIZE, seed=5)
    second = make_scene_video(tmp_path / "b.mp4", n_frames=8, size=TINY_SIZE, seed=5)
    for (_, a), (_, b) in zip(read_frames(first), read_frames(second), strict=True):
        assert np.array_equal(a, b)


def test_make_scene_video_rejects_odd_sizes_and_unknown_extensions(tmp_path):
    with pytest.raises(ValueError, match="even"):
        make_scene_video(tmp_path / "a.mp4", size=(63, 48))
    with pytest.raises(ValueError, match="extension"):
        make_scene_video(tmp_path / "a.gif", size=TINY_SIZE)
