"""``python -m aivad bench`` on a tiny input, and the speed-ups that must leave results identical."""

import json

import numpy as np
import torch

from aivad.cli import main as cli_main

REPORT_KEYS = {
    "speedup_full_vs_anomalib",
    "speedup_full_fast_vs_anomalib",
    "speedup_full_bf16_vs_anomalib",
    "full_bf16_fps",
    "lite_fps",
    "full_fps",
    "full_fast_fps",
    "knn_score_ratio_x10",
    "device",
    "device_name",
    "torch_version",
    "pipelines",
}
STAGE_KEYS = {
    "decode",
    "flow",
    "regions",
    "velocity",
    "pose",
    "person",
    "shape",
    "appearance",
    "density",
    "other",
    "end_to_end",
}


def test_bench_writes_the_report_keys(tmp_path):
    out = tmp_path / "bench.json"
    args = [
        "bench",
        "--size",
        "128x96",
        "--frames",
        "1",
        "--lite-frames",
        "5",
        "--knn-rows",
        "64",
        "--bank-rows",
        "64",
        "--device",
        "cpu",
        "--full-flow-size",
        "128",
        "128",
        "--full-detector-size",
        "128",
        "--json",
        str(out),
    ]
    assert cli_main(args) == 0
    report = json.loads(out.read_text())
    assert REPORT_KEYS <= set(report)
    from aivad.devices import bf16_warning

    emulated = bf16_warning("bf16", "cpu")
    if emulated is None:  # this CPU computes bfloat16 itself: both bf16 pipelines are timed
        assert set(report["pipelines"]) == {"full", "full_bf16", "full_fast", "lite"}
        assert report["pipelines"]["full_bf16"]["settings"]["inference_precision"] == "bf16"
    else:  # emulated bfloat16 would take hours: the report says why they were not timed
        assert set(report["pipelines"]) == {"full", "lite"}
        assert report["skipped"] == {"full_bf16": emulated, "full_fast": emulated}
        assert report["full_bf16_fps"] is None and report["speedup_full_bf16_vs_anomalib"] is None
    for result in report["pipelines"].values():
        assert set(result["seconds_per_frame"]) == STAGE_KEYS and result["frames"] >= 1
        assert result["seconds_per_frame"]["end_to_end"] > 0
    assert report["speedup_full_vs_anomalib"] is None  # anomalib was not asked for
    assert report["lite_fps"] > 0 and report["knn_score_ratio_x10"] > 0


def test_baseline_comparison_lines_up_old_and_new_figures():
    from stage_speed import compare_reports

    old = {
        "device_name": "cpu A",
        "size": [768, 576],
        "speedup_full_fast_vs_anomalib": 6.0,
        "lite_fps": 100.0,
        "full_fps": None,
    }
    new = {
        "device_name": "cpu A",
        "size": [768, 576],
        "speedup_full_fast_vs_anomalib": 3.0,
        "lite_fps": 150.0,
        "full_fps": 0.1,
    }
    lines = compare_reports(old, new)
    assert not any(line.startswith("note:") for line in lines)
    fast = next(line for line in lines if line.startswith("speedup_full_fast_vs_anomalib"))
    assert fast.split()[1:5] == ["6.00", "3.00", "0.50x", "ratio"]
    lite = next(line for line in lines if line.startswith("lite_fps"))
    assert lite.split()[1:5] == ["100.00", "150.00", "1.50x", "absolute"]
    full = next(line for line in lines if line.startswith("full_fps "))
    assert full.split()[1:4] == ["-", "0.10", "-"]
    assert not any(line.startswith("speedup_full_vs_anomalib") for line in lines)  # in neither report
    other_machine = compare_reports({**old, "device_name": "cpu B"}, new)
    assert other_machine[0].startswith("note: device_name differs")


def test_bad_baseline_fails_before_any_timing(tmp_path, capsys):
    from aivad.console import run_main

    not_json = tmp_path / "베이스 라인.json"
    not_json.write_text("hello", encoding="utf-8")
    for path, expected in ((tmp_path / "missing.json", "does not exist"), (not_json, "is not a JSON report")):
        assert run_main(cli_main, ["bench", "--baseline", str(path), "--device", "cpu"]) == 2
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


def test_regions_match_stock_anomalib_without_masks():
    """The mask-free region extractor gives anomalib's boxes, labels and scores exactly."""
    from stage_speed import stock_anomalib_model

    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource
    from aivad.video.synthetic import render_scene

    settings = FullSettings(
        flow_model="raft_small", flow_size=(128, 128), flow_iterations=1, detector_size=256, use_pose=False
    )
    ours = FullBackend(settings, WeightsSource("random")).regions
    theirs = stock_anomalib_model().region_extractor
    theirs.backbone.transform.min_size, theirs.backbone.transform.max_size = (
        ours.backbone.transform.min_size,
        ours.backbone.transform.max_size,
    )
    frames, _ = render_scene(n_frames=3, size=(256, 192), seed=2, walkers=4)
    to_tensor = lambda f: torch.from_numpy(np.ascontiguousarray(f[..., ::-1])).permute(2, 0, 1).float().div(255)  # noqa: E731
    previous = torch.stack([to_tensor(frames[0]), to_tensor(frames[1])])
    current = torch.stack([to_tensor(frames[1]), to_tensor(frames[2])])
    with torch.no_grad():
        expected, got = theirs(previous, current), ours(previous, current)
    assert sum(len(r["boxes"]) for r in expected) > 0
    for a, b in zip(expected, got):
        assert "masks" not in b
        for key in ("boxes", "labels", "scores"):
            assert torch.equal(a[key], b[key]), key
