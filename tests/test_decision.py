"""aivad.decision without a window: zones drop regions before the frame score is decided."""

import pytest

from aivad.results import FrameResult, RegionResult


def test_ignore_zone_drops_regions_before_deciding():
    from aivad.decision import filter_regions

    regions = [
        RegionResult(box=(0, 0, 20, 20), score=9.0, attributes={"velocity": 8.0, "appearance": 1.0}),
        RegionResult(box=(100, 80, 140, 110), score=1.5, attributes={"velocity": 1.0, "appearance": 0.5}),
    ]
    result = FrameResult(0, 0.0, 9.0, 9.0, True, {"velocity": 8.0, "appearance": 1.0}, regions)
    top_left = [[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]]

    filtered, kept, ignored = filter_regions(result, top_left, False, 160, 120, "sum")
    assert ignored == [regions[0]] and kept == [regions[1]]
    assert filtered.raw_score == pytest.approx(1.5)

    filtered, kept, ignored = filter_regions(result, top_left, True, 160, 120, "sum")
    assert kept == [regions[0]] and filtered.raw_score == pytest.approx(9.0)
