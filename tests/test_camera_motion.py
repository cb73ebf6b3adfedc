"""The camera's own change (aivad.features.camera_motion): a shake or an exposure step is no object."""

from __future__ import annotations

import cv2
import numpy as np
from test_person import draw_person

from aivad.features.camera_motion import (
    EXPOSURE,
    EXPOSURE_MIN,
    NO_PICTURE,
    SHAKING,
    SHIFT_MIN,
    camera_flow,
    camera_moved,
    camera_transform,
    exposure_ratio,
    matched_exposure,
    transformed,
)
from aivad.features.lite import LiteBackend, new_model_settings


def scene(width: int = 480, height: int = 360, figure_x: float | None = 200, seed: int = 0) -> np.ndarray:
    """A textured yard (paving noise, kerbs, a bench): every edge of it differs when the camera moves."""
    rng = np.random.default_rng(seed)
    ground = cv2.GaussianBlur(rng.normal(140, 30, (height, width)).astype(np.float32), (0, 0), 1.5)
    image = np.repeat(np.clip(ground, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    for y in range(40, height, 70):  # kerbs across the yard
        cv2.line(image, (0, y), (width, y + 20), (230, 230, 230), 3)
    cv2.rectangle(image, (330, 200), (440, 240), (60, 80, 90), -1)  # a bench
    if figure_x is not None:
        draw_person(image, figure_x, 120)
    return image


def moved(image: np.ndarray, dx: int, dy: int, degrees: float = 0.0) -> np.ndarray:
    """``image`` turned about its centre by ``degrees`` and moved by (dx, dy): the camera rolled and shook."""
    matrix = turn_and_shift(image.shape, dx, dy, degrees)
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)


def turn_and_shift(shape: tuple[int, ...], dx: float, dy: float, degrees: float, zoom: float = 1.0) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((shape[1] / 2, shape[0] / 2), degrees, zoom)
    matrix[:, 2] += (dx, dy)
    return matrix.astype(np.float32)


def test_a_still_cameras_frames_pass_unchanged():
    previous, current = scene(figure_x=200), scene(figure_x=206)
    grey_previous, grey_current = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in (previous, current))
    assert exposure_ratio(grey_previous, grey_current) == 1.0
    assert matched_exposure(grey_previous, grey_current) is grey_previous
    flow = np.zeros(grey_current.shape + (2,), np.float32)
    flow[100:200, 180:230] = (6.0, 0.0)  # the walker moves; the scene does not
    assert camera_transform(flow) is None


def test_an_exposure_step_is_measured_and_matched():
    grey = cv2.cvtColor(scene(), cv2.COLOR_BGR2GRAY)
    darker = cv2.convertScaleAbs(grey, alpha=0.75)
    assert abs(exposure_ratio(grey, darker) - 0.75) < 0.01
    matched = matched_exposure(grey, darker)
    assert np.abs(matched.astype(int) - darker.astype(int)).max() <= 1  # rounding only
    slightly = cv2.convertScaleAbs(grey, alpha=1 + EXPOSURE_MIN / 2)  # within flicker: left alone
    assert matched_exposure(grey, slightly) is grey


def test_a_shake_is_a_shift_and_the_previous_frame_follows_it():
    flow = np.full((120, 160, 2), (3.0, -2.0), np.float32)
    flow[20:60, 40:70] = (10.0, 0.0)  # an object moving across the shaken view
    transform = camera_transform(flow)
    assert np.allclose(transform, [[1, 0, 3.0], [0, 1, -2.0]], atol=1e-4)
    assert camera_transform(np.full((120, 160, 2), SHIFT_MIN / 2, np.float32)) is None
    grey = cv2.cvtColor(scene(), cv2.COLOR_BGR2GRAY)
    after = moved(grey, 3, -2)
    aligned = transformed(grey, after, np.float32([[1, 0, 3], [0, 1, -2]]))
    assert np.array_equal(aligned, after)  # the uncovered strip is the current frame's own


def test_a_turn_and_zoom_is_fitted_where_the_median_flow_says_nothing():
    """A camera rolling about the picture's centre: the flow points every way and its median is about 0."""
    true = turn_and_shift((288, 384), 0.0, 0.0, degrees=1.0, zoom=1.01)
    flow = camera_flow(true, (288, 384))
    assert np.hypot(*np.median(flow.reshape(-1, 2), axis=0)) < SHIFT_MIN  # what a median shift would see
    flow[100:200, 60:110] = (8.0, 1.0)  # a walker crossing the turning view
    fitted = camera_transform(flow)
    corners = np.float32([[0, 0, 1], [383, 0, 1], [0, 287, 1], [383, 287, 1]])
    assert np.abs(corners @ fitted.T - corners @ true.T).max() < 0.05  # processing pixels
    # the walker's own motion is what is left once the camera's is taken out
    relative = flow - camera_flow(fitted, flow.shape)
    assert np.abs(relative[:90]).max() < 0.05 and relative[150, 85, 0] > 5.0


def test_a_shift_counts_only_where_it_explains_the_frames_difference():
    """Flow bleeds from a moving figure into a background without texture: such a median explains nothing."""
    flat_before, flat_after = (np.full((120, 160), 128, np.uint8) for _ in range(2))
    draw_person(flat_before, 60, 10, height=80)
    draw_person(flat_after, 66, 10, height=80)
    bleeding = np.full((120, 160, 2), (0.6, 0.0), np.float32)
    assert camera_moved(flat_before, flat_after, bleeding) is None
    grey = cv2.cvtColor(scene(), cv2.COLOR_BGR2GRAY)
    after = moved(grey, 3, -2)
    found = camera_moved(grey, after, np.full(grey.shape + (2,), (3.0, -2.0), np.float32))
    assert found is not None and np.allclose(found[0], [[1, 0, 3], [0, 1, -2]], atol=1e-4)
    assert np.array_equal(found[1], after)
    turned = moved(grey, 2, 1, degrees=1.5)
    true = turn_and_shift(grey.shape, 2, 1, 1.5)
    found = camera_moved(grey, turned, camera_flow(true, grey.shape))
    assert found is not None
    inner = (slice(20, -20), slice(20, -20))  # away from the uncovered border
    assert np.abs(found[1][inner].astype(int) - turned[inner].astype(int)).mean() < 2.0


def test_a_shaken_or_darkened_frame_shows_the_walker_not_the_whole_scene():
    """Through the lite backend: the pair's regions are the walker's, its speed is its own 6 px a frame."""
    backend = LiteBackend(new_model_settings())
    previous = scene(figure_x=200)
    for name, current in (
        ("shake", moved(scene(figure_x=206), 5, 3)),
        ("turn", moved(scene(figure_x=206), 3, 2, degrees=1.0)),
        ("exposure", cv2.convertScaleAbs(scene(figure_x=206), alpha=0.75)),
    ):
        regions = backend.extract_pair(previous, current)
        assert not regions.whole_frame, name
        boxes = regions.boxes
        walker = (boxes[:, 0] < 260) & (boxes[:, 2] > 170) & (boxes[:, 1] < 200)
        assert walker.any(), name
        others = boxes[~walker]
        covered = ((others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])).sum() / (360 * 480)
        assert covered < 0.02, (name, boxes)  # no kerb, bench or paving counted as moving
        walker_speed = regions.frozen["velocity"][walker, 0].max()
        assert 3.0 < walker_speed < 10.0, (name, walker_speed)  # its own pace, not the shake's added


def test_each_pair_says_what_the_camera_did():
    """Still, shaken, darkened, covered: the state the window and watch report (scores do not read it)."""
    backend = LiteBackend(new_model_settings())
    previous = scene(figure_x=200)
    covered = np.clip(8 + np.random.default_rng(1).normal(0, 2, previous.shape), 0, 255).astype(np.uint8)
    for expected, current in (
        ("", scene(figure_x=206)),
        (SHAKING, moved(scene(figure_x=206), 5, 3)),
        (SHAKING, moved(scene(figure_x=206), 0, 0, degrees=1.0)),
        (EXPOSURE, cv2.convertScaleAbs(scene(figure_x=206), alpha=0.75)),
        (NO_PICTURE, covered),
    ):
        assert backend.extract_pair(previous, current).camera == expected
    # a dark scene is still a picture: the yard at a tenth of its brightness
    dark = cv2.convertScaleAbs(scene(figure_x=206), alpha=0.1)
    assert backend.extract_pair(cv2.convertScaleAbs(previous, alpha=0.1), dark).camera == ""
