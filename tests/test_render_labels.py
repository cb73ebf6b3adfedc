"""Region labels (window, snapshots, clips): side-by-side people must not hide each other's scores."""

from __future__ import annotations

from aivad.live.render import boxes_overlap, place_labels


def contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def test_labels_of_boxes_side_by_side_do_not_overlap():
    bounds = (0, 0, 400, 300)
    # three people 20 px apart, labels 90 px wide: above each box they would overlap
    boxes = [(100 + 20 * k, 100, 118 + 20 * k, 160) for k in range(3)]
    pills = place_labels(boxes, [(90.0, 16.0)] * 3, bounds)
    assert pills[0] == (100, 84, 190, 100)  # the first (most important) keeps the place above its box
    for i in range(3):
        assert contains(bounds, pills[i])
        for j in range(i):
            assert not boxes_overlap(pills[i], pills[j]), (i, j, pills[i], pills[j])


def test_labels_stay_inside_the_picture():
    bounds = (10, 10, 210, 110)
    boxes = [(150, 10, 200, 110)]  # touches the top and the bottom, near the right edge
    (pill,) = place_labels(boxes, [(80.0, 16.0)], bounds)
    assert contains(bounds, pill)


def test_boxes_that_only_touch_do_not_overlap():
    assert not boxes_overlap((0, 0, 10, 10), (10, 0, 20, 10))
    assert boxes_overlap((0, 0, 10, 10), (9, 9, 20, 20))


def test_snapshots_label_like_the_window():
    """Event snapshots and clips (annotate) label only the regions worth a look, apart."""
    import numpy as np

    from aivad.live.render import annotate, score_rgb
    from aivad.live.results import RegionResult

    frame = np.zeros((240, 320, 3), np.uint8)
    boxes = [(60 + 40 * k, 120, 90 + 40 * k, 200) for k in range(4)]
    scores = [0.1, 0.2, 0.3, 1.2]  # threshold 2: only 1.2 is at half of it or more
    regions = [RegionResult(box, score, {"velocity": score}) for box, score in zip(boxes, scores)]
    out = annotate(frame, regions, threshold=2.0, alarm=False)
    r, g, b = score_rgb(1.2, 2.0)
    above = [tuple(int(v) for v in out[box[1] - 4, box[0]]) for box in boxes]  # the pill's edge, left of its text
    assert above[3] == (b, g, r)  # the labelled region's pill above its box
    assert above[:3] == [(0, 0, 0)] * 3  # no pill above the ordinary ones
    # two alarming neighbours 20 px apart: both labelled, at different heights
    close = [RegionResult((100 + 20 * k, 120, 118 + 20 * k, 200), 3.0, {"velocity": 3.0}) for k in range(2)]
    out = annotate(frame, close, threshold=2.0, alarm=True)
    r, g, b = score_rgb(3.0, 2.0)
    pill_rows = np.flatnonzero((out[:, 121] == (b, g, r)).all(axis=1))
    assert pill_rows.min() < 120 - 10 and pill_rows.max() > 200  # one pill above, the other moved below
