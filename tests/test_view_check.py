"""benchmarks/view_check.py: the view check on a development split, as it is and with the camera moved."""

from __future__ import annotations

from helpers import load_benchmark
from test_camera_motion import scene
from test_camera_view import write_video


def test_the_same_view_never_changes_and_a_turned_one_does(tmp_path):
    split = tmp_path / "작은 분할"
    (split / "train").mkdir(parents=True)
    (split / "test").mkdir()
    write_video(split / "train" / "normal.mp4", [scene(figure_x=60 + 6 * i) for i in range(40)])
    write_video(split / "test" / "dev_test.mp4", [scene(figure_x=420 - 3 * i) for i in range(120)])
    report = load_benchmark("view_check").evaluate(split, images=None)
    for same in ("as is", "dark", "blur", "inverted"):
        assert report[same]["changed_share"] == 0.0 and report[same]["first_changed_s"] is None, same
    # this flat yard at 5% of its light shows almost nothing: never sampled, so never "changed" either
    assert report["night"]["first_changed_s"] is None
    assert report["shift 70"]["changed_share"] == 1.0
    assert report["shift 70"]["first_changed_s"] == 4.0  # five samples, one every 10 frames at 10 FPS
    assert report["turned at half time"]["first_changed_s"] is not None
    assert report["shift 70"]["similarity"][1] < report["as is"]["similarity"][0]
