"""benchmarks/seed_spread.py: several training runs of the development splits, side by side."""

from __future__ import annotations

import json

import pytest
from helpers import load_benchmark


def report(centred: float, causal: float, car_auroc: float, car_found: bool, delay: float, events: int) -> dict:
    return {
        "vtest-dev-f": {
            "trained": {
                "centred": {"overall": centred, "car": car_auroc},
                "causal": {"overall": causal, "car": car_auroc - 0.01},
                "events": {
                    "segments": [{"name": "car", "detected": car_found, "delay_s": delay}],
                    "false_alarm_events": events,
                    "normal_frames_in_alarm": 3 + events,
                },
                "calibration": {"scene_baseline": {"shape": 0.54}},
                "normal_frames_attribute": {"shape": {"raw": {"median": 0.51, "p99": 1.0}}},
            }
        }
    }


def test_runs_of_one_split_are_summarised_with_their_spread_and_how_often_each_anomaly_alarms(tmp_path, capsys):
    paths = []
    for seed, values in ((42, (0.892, 0.872, 0.923, True, 2.4, 0)), (7, (0.894, 0.886, 0.907, False, 0.0, 1))):
        path = tmp_path / f"s{seed}_f.json"
        path.write_text(json.dumps(report(*values)), encoding="utf-8")
        paths.append(str(path))
    assert load_benchmark("seed_spread").main(paths) == 0
    out = capsys.readouterr().out
    assert "vtest-dev-f: 2 run(s)" in out
    assert "centred  0.893 (0.892-0.894)" in out and "causal   0.879 (0.872-0.886)" in out
    assert "car" in out and "AUROC 0.907-0.923; found at the default in 1 of 2, slowest after 2.4 s" in out
    assert "false-alarm events per run: 0 1; normal frames in alarm per run: 3 4" in out
    assert "shape 0.54/0.51 0.54/0.51" in out


def test_a_file_that_is_not_a_report_gets_one_sentence(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(SystemExit, match="not a report of dev_quality.py"):
        load_benchmark("seed_spread").main([str(path)])
