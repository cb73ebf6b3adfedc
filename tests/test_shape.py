"""The lite backend's shape attribute (aivad.features.shape): a HOG descriptor of each region, scored by a kNN."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from test_person import draw_person

from aivad.features.lite import LiteBackend, LiteSettings, lite_frozen_attributes, new_model_settings
from aivad.features.regions_common import REGION_SIDE
from aivad.features.shape import SHAPE_DIM, SHAPE_MODEL, ShapeDescriber, shape_crop
from aivad.model.aivad_model import shape_rows, shape_units_for
from aivad.model.config import ModelConfig
from aivad.model.density import KnnDensity


def person_scene(x: float, y: float, box: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A figure (optionally walking behind a large box held in front) on a pavement; the region around it."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(120, 170, 320)[None, :, None]  # light falling across the pavement, a little noise
    image = np.clip(ramp + rng.normal(0, 2, (240, 320, 3)), 0, 255).astype(np.uint8)
    draw_person(image, x, y, height=90 + rng.uniform(-6, 6))
    if box:
        cv2.rectangle(image, (int(x - 22), int(y + 18)), (int(x + 22), int(y + 58)), (200, 200, 200), -1)
        cv2.rectangle(image, (int(x - 22), int(y + 18)), (int(x + 22), int(y + 58)), (30, 30, 30), 2)
    return image, np.array([[x - 24, y, x + 24, y + 92]], np.float32)


def config_with(units: dict | None, min_side: float = 0.0) -> ModelConfig:
    return ModelConfig(
        backend="lite",
        backend_settings={"appearance_min_side": min_side},
        encoder="small_cnn",
        density={},
        shape_units=units,
    )


def test_descriptors_have_the_documented_size_and_tell_an_outline_from_a_blank_patch():
    image, box = person_scene(100, 40)
    blank = np.array([[220, 20, 268, 112]], np.float32)
    rows = ShapeDescriber().describe(image, np.concatenate([box, blank]))
    assert rows.shape == (2, SHAPE_DIM) and rows.dtype == np.float32 and SHAPE_DIM == 288
    assert np.isfinite(rows).all()
    assert np.linalg.norm(rows[0] - rows[1]) > 1.0  # gradients of a figure vs of noise


def test_the_crop_keeps_context_and_fits_the_window():
    image, box = person_scene(100, 40)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert shape_crop(grey, box[0]).shape == (64, 32)
    assert shape_crop(grey, np.array([-30, -30, 5, 5], np.float32)).shape == (64, 32)  # cut by the frame's edge


def test_rows_are_centred_unit_vectors_and_thin_regions_have_none():
    rng = np.random.default_rng(0)
    descriptors = rng.random((6, SHAPE_DIM)).astype(np.float32)
    frozen = {REGION_SIDE: np.array([[40], [40], [40], [40], [40], [5]], np.float32)}
    units = shape_units_for(descriptors, frozen, min_side=12)
    assert np.allclose(units["mean"], descriptors[:5].mean(axis=0), atol=1e-5)  # the thin region is not in the mean
    rows = shape_rows(descriptors, frozen, config_with(units, min_side=12))
    assert np.isnan(rows[5]).all() and np.isfinite(rows[:5]).all()
    assert np.allclose(np.linalg.norm(rows[:5], axis=1), 1.0, atol=1e-5)
    centred = descriptors[:5] - np.asarray(units["mean"], np.float32)
    assert np.allclose(rows[:5], centred / np.linalg.norm(centred, axis=1, keepdims=True), atol=1e-5)


def test_a_person_behind_a_box_is_further_from_normal_people_than_another_person():
    describer = ShapeDescriber()
    normal = []
    for i, (x, y) in enumerate([(60, 30), (100, 50), (150, 40), (200, 60), (240, 35), (120, 20), (180, 45)]):
        image, box = person_scene(x, y, seed=i)
        normal.append(describer.describe(image, box)[0])
    normal = np.array(normal)
    frozen = {REGION_SIDE: np.full((len(normal), 1), 40, np.float32)}
    config = config_with(shape_units_for(normal, frozen, 0))
    memory = KnnDensity(1)
    memory.fit_estimator(torch.from_numpy(shape_rows(normal, frozen, config)))
    one = {REGION_SIDE: np.full((1, 1), 40, np.float32)}

    def distance(image, box) -> float:
        rows = shape_rows(describer.describe(image, box), one, config)
        return float(memory.raw_scores(torch.from_numpy(rows))[0])

    seeds = range(20, 26)  # new people of other heights, each also seen behind a box
    person = np.median([distance(*person_scene(130, 45, seed=seed)) for seed in seeds])
    carrying = np.median([distance(*person_scene(130, 45, box=True, seed=seed)) for seed in seeds])
    assert carrying > 1.5 * person


def test_new_lite_models_have_the_shape_attribute_and_older_settings_do_not():
    settings = new_model_settings()
    assert settings.shape_model == SHAPE_MODEL
    assert lite_frozen_attributes(settings.person_model, settings.shape_model) == ("velocity", "geometry", "shape")
    assert LiteSettings().shape_model == ""  # what checkpoints written before it imply
    assert "shape" not in LiteBackend(LiteSettings()).frozen_attributes
    previous, frame = person_scene(100, 40, seed=1)[0], person_scene(104, 40, seed=2)[0]
    regions = LiteBackend(settings).extract_pair(previous, frame)
    assert regions.frozen["shape"].shape == (len(regions.boxes), SHAPE_DIM)
    # the backend hands the shape the grey frame it makes for its flow: at frame size (this one is shrunk
    # for the flow), the descriptors those of the colour frame
    large = [cv2.resize(image, (640, 480)) for image in (previous, frame)]
    regions = LiteBackend(settings).extract_pair(*large)
    assert len(regions.boxes) and not regions.whole_frame
    np.testing.assert_array_equal(regions.frozen["shape"], ShapeDescriber().describe(large[1], regions.boxes))


def test_a_trained_lite_model_scores_the_shape_attribute(lite_checkpoint):
    from aivad.live.detector import Detector

    detector = Detector.load(lite_checkpoint, device="cpu")
    config = detector.model.config
    assert "shape" in config.density and len(config.shape_units["mean"]) == SHAPE_DIM
    assert "shape" in detector.info["calibration"]["attribute_scale"]
