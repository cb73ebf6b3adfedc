"""The lite backend's person attribute (aivad.person): OpenCV's pretrained HOG people detector per region."""

from __future__ import annotations

import cv2
import numpy as np

from aivad.features.lite import LiteBackend, LiteSettings, new_model_settings
from aivad.features.person import CROP_HEIGHT, MARGIN_FLOOR, MIN_CROP_WIDTH, PersonScorer, person_crop


def grey_canvas(height: int = 240, width: int = 320) -> np.ndarray:
    noise = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    return np.clip(150 + noise, 0, 255).astype(np.uint8)


def draw_person(image: np.ndarray, x: float, y: float, height: float = 90) -> None:
    """A dark standing figure, head at (x, y): head, torso, arms, legs."""
    colour, u = (40, 40, 40), height / 9
    cv2.circle(image, (int(x), int(y + u)), int(u * 0.8), colour, -1)
    cv2.rectangle(image, (int(x - 1.2 * u), int(y + 2 * u)), (int(x + 1.2 * u), int(y + 5.2 * u)), colour, -1)
    for side in (-1, 1):
        cv2.line(image, (int(x + side * 0.6 * u), int(y + 5 * u)), (int(x + side * 1.2 * u), int(y + 9 * u)), colour, 7)
        cv2.line(
            image, (int(x + side * 1.2 * u), int(y + 2.2 * u)), (int(x + side * 1.8 * u), int(y + 5 * u)), colour, 5
        )


def test_the_pretrained_detector_prefers_a_persons_shape_to_a_box_or_the_background():
    image = grey_canvas()
    draw_person(image, 80, 60)
    cv2.rectangle(image, (180, 90), (280, 150), (40, 40, 40), -1)  # a dark box, as wide as two people
    boxes = np.array([[58, 60, 102, 150], [180, 90, 280, 150], [190, 10, 230, 50]], np.float32)
    margins = PersonScorer().score(image, boxes)[:, 0]
    assert margins[0] > margins[1] + 1.0 and margins[0] > margins[2] + 1.0
    assert (margins >= MARGIN_FLOOR).all()  # a continuous score, floored where no window reaches the floor


def test_crops_are_a_persons_height_with_context_never_stretched():
    image = grey_canvas()
    narrow = person_crop(image, np.array([100, 50, 120, 150]))  # 20 x 100: padded to the detector's width
    assert narrow.shape[0] == CROP_HEIGHT and narrow.shape[1] == MIN_CROP_WIDTH
    wide = person_crop(image, np.array([0, 100, 320, 110]))  # a flat sliver: its middle, at most 4x as wide
    assert wide.shape[0] == CROP_HEIGHT and wide.shape[1] <= CROP_HEIGHT * 4 * 1.7 + 1


def test_lite_models_trained_with_the_person_attribute_score_it_and_others_do_not():
    from aivad.video.synthetic import render_scene

    frames, _ = render_scene(3, (320, 240), seed=1, walkers=3)
    new = LiteBackend(new_model_settings(person=True)).extract_pair(frames[0], frames[1])
    assert new.frozen["person"].shape == (len(new.boxes), 1)
    assert np.isfinite(new.frozen["person"]).all()
    still = LiteBackend(new_model_settings(person=True)).extract_pair(
        frames[0], frames[0]
    )  # no motion: the whole frame
    assert still.whole_frame and np.isfinite(still.frozen["person"]).all()  # stands in, with every attribute
    for settings, attributes in (
        (LiteSettings(), ("velocity", "geometry")),  # older checkpoints
        (new_model_settings(), ("velocity", "geometry", "shape")),  # the default of this version
    ):
        plain = LiteBackend(settings).extract_pair(frames[0], frames[1])
        assert "person" not in plain.frozen and LiteBackend(settings).frozen_attributes == attributes


def test_the_training_flag_adds_the_person_attribute_to_a_lite_model():
    from aivad.training.arguments import build_config, get_args_parser
    from train_aivad_from_scratch import PRESET

    parser = get_args_parser(PRESET)
    plain = build_config(parser.parse_args(["--backend", "lite"]), None)
    with_person = build_config(parser.parse_args(["--backend", "lite", "--person-attribute"]), None)
    assert "person" not in plain.density and plain.backend_settings["person_model"] == ""
    assert list(with_person.density) == ["velocity", "geometry", "person", "shape", "appearance"]
    assert with_person.density["person"]["kind"] == "knn" and with_person.backend_settings["person_model"]
