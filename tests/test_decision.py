"""aivad.decision without a window: zones drop regions before the frame score is decided."""

import pytest

from aivad.live.results import FrameResult, RegionResult


def test_ignore_zone_drops_regions_before_deciding():
    from aivad.live.decision import filter_regions

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


def test_the_named_cause_is_what_the_smoothed_score_comes_from_not_the_current_frames_top():
    """A burst of velocity, then a slightly odd place: while the smoothed score still holds the burst,
    the cause shown is velocity; once the burst has faded from it, geometry."""
    from aivad.live.decision import Decider, DecisionSettings

    decider = Decider()
    decider.configure(DecisionSettings(threshold=10.0, smoothing_sigma=3.0), 10.0, "max", 10.0)
    frames = [{"velocity": 3.0, "geometry": 0.1}] * 3 + [{"velocity": 0.0, "geometry": 0.4}] * 12
    causes = []
    for i, attributes in enumerate(frames):
        raw = max(attributes.values())
        decision = decider.decide(FrameResult(i, i / 10, raw, raw, False, dict(attributes)), 100, 100)
        causes.append(decision.result.top_attribute)
        assert decision.result.attribute_scores == attributes  # the frame's own scores are kept
    assert causes[3:6] == ["velocity"] * 3  # the current frame's top is geometry already
    assert causes[-1] == "geometry"
