"""Event-level evaluation (aivad.evaluation): detection delay, false alarms per hour, localisation."""

import numpy as np
import pytest

from aivad.live.evaluation import Segment, event_report, segments_from_labels
from aivad.live.results import FrameResult, RegionResult
from aivad.model.alarm import AlarmRule

FPS = 10.0


def frame(index: int, score: float, box=(0, 0, 10, 10)) -> FrameResult:
    region = RegionResult(box=box, score=score, attributes={"velocity": score})
    return FrameResult(index, index / FPS, score, score, False, {"velocity": score}, [region])


def test_event_report_counts_detections_delays_false_alarms_and_localisation():
    labels = np.zeros(100, int)
    labels[20:40] = 1
    labels[60:70] = 1
    scores = np.zeros(100)
    scores[25:45] = 2.0  # detected 5 frames late, lasts past the segment
    scores[80:90] = 2.0  # a false alarm
    boxes_at = {i: (50, 50, 60, 60) if i < 30 else (0, 0, 10, 10) for i in range(100)}
    results = [frame(i, s, boxes_at[i]) for i, s in enumerate(scores)]
    truth = {i: [("object", (0, 0, 12, 12))] for i in range(20, 40)}
    rule = AlarmRule(threshold=1.0, release_ratio=0.8, min_duration_s=0.1)
    report = event_report(results, labels, FPS, rule.tracker(FPS), None, truth, expected_per_hour=1.5)
    first, second = report["segments"]
    assert first["detected"] and first["delay_frames"] == 5 and first["delay_s"] == pytest.approx(0.5)
    assert not second["detected"] and second["delay_frames"] is None
    assert report["false_alarm_events"] == 1
    assert report["false_alarms_per_hour"] == pytest.approx(1 / (70 / FPS / 3600))
    assert report["false_alarms_per_hour_expected"] == 1.5
    # alarmed anomalous frames 25..39: the top region is on the object from frame 30 on
    assert report["localisation"]["object"] == {
        "alarmed_frames": 15,
        "top_region_hits": 10,
        "share": pytest.approx(10 / 15),
    }


def test_segments_from_labels_are_the_runs_of_anomalous_frames():
    labels = np.array([0, 1, 1, 0, 0, 1, 0, 1])
    assert segments_from_labels(labels) == [
        Segment("segment_1", 1, 2),
        Segment("segment_2", 5, 5),
        Segment("segment_3", 7, 7),
    ]
