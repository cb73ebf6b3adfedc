"""Region labels (window, snapshots, clips): side-by-side people must not hide each other's scores."""

from __future__ import annotations

from aivad.render import boxes_overlap, place_labels


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
