"""The alarm rule (hysteresis, minimum duration) and the false-alarm rate model (aivad.alarm)."""

import numpy as np
import pytest

from aivad.live.results import FrameResult
from aivad.model.alarm import AlarmRule, RateModel, ScoredFrame, score_events
from aivad.model.scoring import smooth_causal

FPS = 10.0


def normal_scores(n_frames: int, seed: int) -> np.ndarray:
    """Stationary, autocorrelated 'normal footage' scores (smoothed like the detector's)."""
    return smooth_causal(np.random.default_rng(seed).normal(0.0, 0.5, n_frames), 3.0)


def test_predicted_false_alarm_rate_holds_on_much_longer_unseen_footage():
    rule = AlarmRule(threshold=0.0)
    model = RateModel.fit([(normal_scores(6_000, seed), FPS) for seed in (1, 2)], rule)  # 20 minutes
    unseen = normal_scores(36_000 * 3, seed=3)  # 3 hours
    for target in (100.0, 20.0):  # 20 per hour: rarer than what 20 minutes show directly
        threshold = model.threshold_for(target)
        measured = len(score_events(unseen, FPS, rule, threshold)) / 3.0
        # never many more false alarms than promised; the exponential tail errs on the safe side
        # for light-tailed scores like these (measured here: 100 -> 93, 20 -> 23, 1 -> 0 per hour)
        assert target / 5 < measured < target * 1.5, (target, threshold, measured)
    assert model.threshold_for(20.0) > model.tail_base


def test_rate_model_is_monotone_and_threshold_for_inverts_it():
    model = RateModel.fit([(normal_scores(3_000, 4), FPS)], AlarmRule(threshold=0.0))
    levels = np.linspace(-0.5, 3.0, 50)
    rates = [model.expected_per_hour(x) for x in levels]
    assert all(a >= b - 1e-9 for a, b in zip(rates, rates[1:]))
    for target in (1000.0, 10.0, 1.0, 0.01):
        threshold = model.threshold_for(target)
        assert model.expected_per_hour(threshold) <= target * 1.0001
    assert model.threshold_for(0.1) > model.threshold_for(1.0) > model.threshold_for(10.0)
    with pytest.raises(ValueError):
        model.threshold_for(0.0)
    assert RateModel.from_dict(model.to_dict()) == model


def test_alarm_needs_the_minimum_duration_and_ends_below_the_release_level():
    rule = AlarmRule(threshold=1.0, release_ratio=0.5, min_duration_s=0.3)
    scores = np.array([0, 1.2, 1.2, 0, 1.2, 1.2, 1.2, 0.8, 0.6, 0.4, 0, 0], dtype=float)
    events = score_events(scores, FPS, rule, rule.threshold)
    assert len(events) == 1  # the 2-frame burst is too short; 0.8 and 0.6 stay above the release level 0.5
    assert (events[0].start_frame, events[0].end_frame) == (4, 8)


def test_scored_frames_and_frame_results_go_through_the_same_rule():
    rule = AlarmRule(threshold=1.0, min_duration_s=0.2)
    scores = [0.0, 1.5, 1.5, 1.5, 0.0]
    from aivad.model.alarm import alarm_events

    light = alarm_events([ScoredFrame(i, i / FPS, s) for i, s in enumerate(scores)], rule.tracker(FPS))
    full = alarm_events(
        [FrameResult(i, i / FPS, s, s, False, {"velocity": s}, []) for i, s in enumerate(scores)], rule.tracker(FPS)
    )
    assert [(e.start_frame, e.end_frame) for e in light] == [(e.start_frame, e.end_frame) for e in full] == [(1, 3)]


def test_a_rate_rarer_than_the_footage_can_count_comes_with_a_note_saying_what_to_do():
    model = RateModel.fit([(normal_scores(400, 5), FPS)], AlarmRule(threshold=0.0))  # 40 s of footage
    assert model.rarest_countable_per_hour == pytest.approx(90.0)
    note = model.extrapolation_note(1.0)
    assert note.startswith("40 s of held-out normal footage can count false alarms down to about 90 per hour")
    assert "train on at least 1 hour(s) of normal footage" in note
    assert model.extrapolation_note(100.0) is None  # countable: no note
    assert model.supported_rate(1.0) == pytest.approx(90.0)  # the default is set where the footage can count
    assert model.supported_rate(200.0) == 200.0
    hour = RateModel.fit([(normal_scores(36_000, 6), FPS)], AlarmRule(threshold=0.0))
    assert hour.extrapolation_note(1.0) is None
    assert hour.supported_rate(1.0) == 1.0  # an hour of footage counts one per hour


def alarm_states_and_events(scores, rule: AlarmRule) -> tuple[list[bool], list[tuple[int, int, int]]]:
    """Per frame, whether the alarm is on; per event, (start, end, frame at which it was reported finished)."""
    tracker = rule.tracker(FPS)
    states, events = [], []
    for i, score in enumerate(scores):
        alarm, finished = tracker.update(ScoredFrame(i, i / FPS, float(score)))
        states.append(alarm)
        if finished is not None:
            events.append((finished.start_frame, finished.end_frame, i))
    last = tracker.flush()
    if last is not None:
        events.append((last.start_frame, last.end_frame, len(scores)))
    return states, events


def test_an_alarm_that_starts_again_within_the_merge_gap_continues_its_event():
    burst, dip = [1.5] * 4, [0.0] * 5  # a 0.5 s dip: a runner's region missed for a few frames
    scores = [0.0] * 3 + burst + dip + burst + [0.0] * 30
    states, events = alarm_states_and_events(scores, AlarmRule(threshold=1.0, min_duration_s=0.2))
    assert [(start, end) for start, end, _ in events] == [(3, 6), (12, 15)]  # no merge gap: two events

    states, events = alarm_states_and_events(scores, AlarmRule(threshold=1.0, min_duration_s=0.2, merge_gap_s=1.0))
    assert [(start, end) for start, end, _ in events] == [(3, 15)]
    assert events[0][2] == 15 + 11  # reported once the gap after its last alarmed frame has passed
    # the alarm itself is off during the dip, and on again after the minimum duration (2 frames) above
    assert states[7:13] == [False] * 6 and all(states[13:16])

    # a dip longer than the gap: two events; a restart too short for the minimum duration does not continue it
    long_dip = [0.0] * 3 + burst + [0.0] * 12 + burst + [0.0] * 30
    _, events = alarm_states_and_events(long_dip, AlarmRule(threshold=1.0, min_duration_s=0.2, merge_gap_s=1.0))
    assert [(start, end) for start, end, _ in events] == [(3, 6), (19, 22)]
    blip = [0.0] * 3 + burst + [0.0] * 4 + [1.5] + [0.0] * 30
    _, events = alarm_states_and_events(blip, AlarmRule(threshold=1.0, min_duration_s=0.2, merge_gap_s=1.0))
    assert [(start, end) for start, end, _ in events] == [(3, 6)]


def test_rules_stored_before_the_merge_gap_merge_nothing_and_new_models_store_it():
    from aivad.model.alarm import MERGE_GAP_S

    stored_earlier = {"threshold": 1.0, "release_ratio": 0.8, "min_duration_s": 0.3}
    assert AlarmRule(**stored_earlier).merge_gap_s == 0.0
    assert MERGE_GAP_S > 0


def test_the_live_decider_applies_the_checkpoints_merge_gap():
    """The UI's and `score --events`' path (aivad.decision) uses the same rule as training and evaluate."""
    from types import SimpleNamespace

    from aivad.live.decision import Decider, DecisionSettings, decide_all

    rule = AlarmRule(threshold=1.0, min_duration_s=0.2, merge_gap_s=1.0)
    detector = SimpleNamespace(threshold=1.0, smoothing_sigma=0.0, alarm_rule=rule)
    scores = [0.0] * 3 + [1.5] * 4 + [0.0] * 5 + [1.5] * 4 + [0.0] * 30
    results = [FrameResult(i, i / FPS, s, s, False, {"velocity": s}, []) for i, s in enumerate(scores)]
    for settings, expected in (
        (DecisionSettings.of_detector(detector), [(3, 15)]),
        (DecisionSettings.of_detector(detector, merge_gap_s=0.0), [(3, 6), (12, 15)]),
    ):
        decider = Decider()
        decider.configure(settings, 1.0, "max", FPS)
        _, events = decide_all(results, decider, 64, 48)
        assert [(e.start_frame, e.end_frame) for e in events] == expected


def test_an_event_of_a_covered_lens_is_caused_by_the_lost_picture():
    """Mostly "no picture" frames: the event's cause is that, not the whole-frame stand-in's attribute."""
    from aivad.model.alarm import EventTracker

    def frames(cameras):
        return [
            FrameResult(i, i / 10, 2.0, 2.0, True, {"geometry": 2.0, "appearance": 1.0}, [], camera=camera)
            for i, camera in enumerate(cameras)
        ]

    for cameras, cause in (
        (["no picture"] * 8, "no picture"),
        ([""] * 4 + ["no picture"] * 4, "no picture"),  # half of the event
        ([""] * 5 + ["no picture"] * 3, "geometry"),
        (["shaking"] * 8, "geometry"),  # taken out of the scores: whatever alarms, alarms for its own reason
    ):
        tracker = EventTracker(1.0, 0.8, min_frames=1)
        for result in frames(cameras):
            tracker.update(result)
        assert tracker.flush().main_attribute == cause, cameras
