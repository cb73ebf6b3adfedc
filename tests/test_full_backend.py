"""The full AI-VAD backend with random weights (the same architectures as the pretrained ones).

Sizes are tiny (RAFT and the R-CNNs at 128 px) so the networks run in seconds on a CPU.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import train, train_as_user, velocity_pose_config

from aivad.errors import UserError
from aivad.live.detector import Detector, load_model
from aivad.video.synthetic import make_scene_video

FULL_FAST = [
    "--weights",
    "random",
    "--device",
    "cpu",
    "--num-workers",
    "0",
    "--flow-model",
    "raft_small",
    "--flow-iterations",
    "3",
    "--flow-size",
    "128",
    "128",
    "--detector-size",
    "128",
    "--batch-size",
    "2",
]


@pytest.fixture(scope="module")
def full_video(tmp_path_factory) -> Path:
    return make_scene_video(tmp_path_factory.mktemp("full") / "walkers.mp4", n_frames=4, size=(128, 96), seed=3)


def test_full_backend_trains_and_scores_with_random_weights(tmp_path, full_video):
    output = tmp_path / "full.ckpt"
    assert (
        train("from_scratch", ["--videos", str(full_video), "--output", str(output), "--epochs", "1", *FULL_FAST]) == 0
    )
    summary = json.loads(Path(str(output) + ".json").read_text())
    assert summary["backend"] == "full" and summary["settings"]["weights"] == "random"
    model, _ = load_model(output)
    assert set(model.densities) == {"velocity", "pose", "appearance"}
    detector = Detector.load(output, device="cpu")
    results = detector.score_video(full_video)
    assert len(results) == 4
    scored = [r for r in results[1:]]
    assert all(r.regions and set(r.regions[0].attributes) == {"velocity", "pose", "appearance"} for r in scored)
    # the frame score is made of the per-attribute maxima
    for r in scored:
        assert r.raw_score == pytest.approx(max(r.attribute_scores.values()))
        for name, value in r.attribute_scores.items():
            assert value == pytest.approx(max(region.attributes[name] for region in r.regions))
    assert (
        summary["settings"]["inference_precision"] == "auto"
        and model.config.backend_settings["inference_precision"] == "auto"
    )

    # bfloat16 inference, chosen at load time, runs the same model end to end
    from aivad.devices import Bfloat16Inference

    fast = Detector.load(output, device="cpu", inference_precision="bf16")
    assert isinstance(fast.backend.flow.raft.feature_encoder, Bfloat16Inference)
    bf16_results = fast.score_video(full_video)
    assert len(bf16_results) == 4 and all(np.isfinite(r.raw_score) for r in bf16_results)
    with pytest.raises(UserError, match="--inference-precision"):
        Detector.load(output, device="cpu", inference_precision="fp16")


def test_bf16_wraps_the_trunks_and_keeps_box_decoding_in_float32():
    """bfloat16's 8-bit mantissa moves a corner at x=500 by up to 2 px: heads that decode boxes stay float32."""
    from aivad.devices import Bfloat16Inference
    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource

    settings = FullSettings(
        flow_model="raft_small", flow_iterations=2, flow_size=(128, 128), detector_size=128, inference_precision="bf16"
    )
    backend = FullBackend(settings, WeightsSource("random"))
    maskrcnn, keypointrcnn = backend.regions.backbone, backend.pose
    for trunk in (
        backend.flow.raft.feature_encoder,
        backend.flow.raft.update_block,
        maskrcnn.backbone,
        maskrcnn.rpn.head,
        maskrcnn.roi_heads.box_head,
        keypointrcnn.backbone,
        keypointrcnn.roi_heads.keypoint_head,
    ):
        assert isinstance(trunk, Bfloat16Inference)
    for decoder in (
        backend.flow.raft.corr_block,
        maskrcnn.roi_heads.box_predictor,
        keypointrcnn.roi_heads.keypoint_predictor,
    ):
        assert not isinstance(decoder, Bfloat16Inference)
    frames = [np.full((96, 128, 3), 90, np.uint8), np.full((96, 128, 3), 90, np.uint8)]
    frames[1][30:60, 40:70] = 200  # a moving blob: one foreground region
    regions = backend.extract([(frames[0], frames[1])])[0]
    assert (
        regions.boxes.dtype == np.float32
        and regions.frozen["velocity"].dtype == np.float32
        and regions.frozen["pose"].dtype == np.float32
    )
    assert np.isfinite(regions.frozen["velocity"]).all() and np.isfinite(regions.frozen["pose"]).all()


def test_bf16_wrapper_returns_float32_close_to_float32_results():
    from aivad.devices import Bfloat16Inference

    torch.manual_seed(0)

    class Heads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(64, 32)

        def forward(self, x):
            y = self.linear(x)
            return {"a": y, "b": [y * 2, torch.arange(3)]}

    heads, x = Heads(), torch.randn(8, 64)
    exact, approx = heads(x), Bfloat16Inference(heads, "cpu")(x)
    assert (
        approx["a"].dtype == torch.float32
        and approx["b"][0].dtype == torch.float32
        and approx["b"][1].dtype == torch.int64
    )
    assert torch.allclose(approx["a"], exact["a"], atol=0.05, rtol=0.02) and not torch.equal(approx["a"], exact["a"])


def test_embed_precision_bf16_is_close_to_float32():
    from aivad.features.encoders import build_encoder

    encoder = build_encoder("small_cnn")
    crops = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    exact = encoder.embed(crops, precision="fp32")
    approx = encoder.embed(crops, precision="bf16")
    assert approx.dtype == np.float32
    assert (exact * approx).sum(1).min() > 0.99  # cosine of L2-normalised features
    with pytest.raises(UserError, match="--inference-precision"):
        encoder.embed(crops, precision="half")


def test_empty_scene_uses_the_whole_frame_as_a_region():
    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource

    backend = FullBackend(
        FullSettings(
            flow_model="raft_small", flow_iterations=3, flow_size=(128, 128), detector_size=128, use_pose=True
        ),
        WeightsSource("random"),
    )
    still = np.full((96, 128, 3), 90, np.uint8)
    regions = backend.extract([(still, still.copy())])[0]
    assert regions.whole_frame and regions.boxes.tolist() == [[0, 0, 128, 96]]
    assert regions.crops.shape == (1, 224, 224, 3) and regions.frozen["pose"].shape == (1, 34)
    assert regions.camera == "no picture"  # a uniform frame shows nothing (aivad.features.camera_motion)
    textured = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    assert backend.extract([(textured, textured.copy())])[0].camera == ""


def test_the_cameras_turn_and_exposure_are_taken_out_of_the_flow_and_the_previous_frame():
    """What the lite backend does to a shaken camera, the full backend does to RAFT's flow (given here, so
    that random weights do not decide it): the foreground difference and the velocities are the walker's."""
    from test_camera_motion import moved, scene, turn_and_shift

    from aivad.features.camera_motion import SHAKING, camera_flow
    from aivad.features.full import FullBackend, FullSettings, frames_to_tensor
    from aivad.features.weights import WeightsSource

    backend = FullBackend(
        FullSettings(flow_model="raft_small", flow_iterations=3, flow_size=(128, 128), detector_size=128),
        WeightsSource("random"),
    )
    before, after = scene(figure_x=200), moved(scene(figure_x=206), 4, 2, degrees=1.0)
    true = turn_and_shift(after.shape, 4, 2, 1.0)
    flow = camera_flow(true, after.shape[:2])
    flow[130:250, 195:235] += (6.0, 0.0)  # the walker's own pace on top of the camera's motion
    flows = torch.from_numpy(flow).permute(2, 0, 1)[None].contiguous()
    previous = frames_to_tensor([before], "cpu")
    assert backend._without_camera_change(0, (before, after), previous, flows) == SHAKING
    relative = flows[0].permute(1, 2, 0).numpy()
    assert np.abs(relative[:100]).max() < 0.1 and relative[190, 215, 0] > 5.0
    inner = (slice(None), slice(30, -30), slice(30, -30))  # away from the uncovered border
    difference = (previous[0] - frames_to_tensor([after], "cpu")[0])[inner].abs()
    assert difference.mean() < 0.02  # was the whole yard's edges before

    # a still camera's pair is left exactly as it was
    still_flow = torch.zeros(1, 2, *after.shape[:2])
    still_flow[0, 0, 130:250, 195:235] = 6.0
    kept_flow, still_previous = still_flow.clone(), frames_to_tensor([before], "cpu")
    kept_previous = still_previous.clone()
    still = scene(figure_x=206)
    assert backend._without_camera_change(0, (before, still), still_previous, still_flow) == ""
    assert torch.equal(still_flow, kept_flow) and torch.equal(still_previous, kept_previous)


def test_velocity_histograms_match_anomalib():
    from anomalib.models.video.ai_vad.features import VelocityExtractor

    from aivad.features.velocity import velocity_histograms

    torch.manual_seed(0)
    flows = torch.randn(2, 2, 40, 60) * 3
    boxes = torch.tensor([[0, 1.0, 2.0, 30.0, 20.0], [1, 5.0, 5.0, 59.0, 39.0], [0, 10.0, 0.0, 12.0, 3.0]])
    ours = velocity_histograms(flows, boxes, n_bins=8)
    theirs = VelocityExtractor(n_bins=8)(flows, boxes)
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_epochs_zero_appearance_is_clip_as_anomalib_computes_it():
    """With a frozen encoder our appearance features are anomalib's DeepExtractor features (L2-normalised)."""
    from anomalib.models.video.ai_vad.features import DeepExtractor
    from torchvision.ops import roi_align

    from aivad.features.encoders import build_encoder
    from aivad.features.weights import WeightsSource

    ours = build_encoder("clip_vit_b16", WeightsSource("random")).eval()
    theirs = DeepExtractor.__new__(DeepExtractor)
    torch.nn.Module.__init__(theirs)
    from torchvision.transforms import Normalize

    theirs.encoder = type("Clip", (torch.nn.Module,), {"encode_image": lambda self, x: self.visual(x)})()
    theirs.encoder.visual = ours.visual
    theirs.transform = Normalize(mean=(0.48145466, 0.4578275, 0.40821073), std=(0.26862954, 0.26130258, 0.27577711))
    theirs.output_dim = 512
    frame = torch.rand(1, 3, 96, 128)
    boxes = torch.tensor([[0, 10.0, 10.0, 60.0, 90.0], [0, 70.0, 20.0, 120.0, 80.0]])
    reference = torch.nn.functional.normalize(theirs(frame, boxes, 1), dim=1)
    crops = (
        (roi_align(frame, boxes, output_size=[224, 224]).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    )
    features = torch.from_numpy(ours.embed(crops))
    # identical network and preprocessing; only the 8-bit storage of the crops differs
    assert torch.nn.functional.cosine_similarity(features, reference).min() > 0.999


@pytest.fixture(scope="module")
def anomalib_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint written by anomalib's own AiVad (random networks: nothing can be downloaded here).

    anomalib's constructors download pretrained weights; the builders are swapped for random-init
    ones only while the anomalib model is constructed. Its density estimators are filled through
    anomalib's own update/fit with features of the shapes AiVad produces.
    """
    import anomalib.models.video.ai_vad.features as features_module
    import anomalib.models.video.ai_vad.flow as flow_module
    import anomalib.models.video.ai_vad.regions as regions_module
    from anomalib.models.video import AiVad
    from anomalib.models.video.ai_vad.clip.model import CLIP
    from torchvision.models.detection import keypointrcnn_resnet50_fpn, maskrcnn_resnet50_fpn_v2
    from torchvision.models.optical_flow import raft_large

    patches = {
        (flow_module, "raft_large"): lambda weights=None, **kw: raft_large(weights=None),
        (regions_module, "maskrcnn_resnet50_fpn_v2"): lambda weights=None, **kw: maskrcnn_resnet50_fpn_v2(
            weights=None, weights_backbone=None, **kw
        ),
        (features_module, "keypointrcnn_resnet50_fpn"): lambda weights=None, **kw: keypointrcnn_resnet50_fpn(
            weights=None, weights_backbone=None
        ),
        (features_module.clip, "load"): lambda name, **kw: (CLIP(512, 224, 12, 768, 16, 77, 49408, 512, 8, 12), None),
    }
    originals = {key: getattr(*key) for key in patches}
    try:
        for (module, name), replacement in patches.items():
            setattr(module, name, replacement)
        model = AiVad()
    finally:
        for (module, name), original in originals.items():
            setattr(module, name, original)
    generator = torch.Generator().manual_seed(0)
    for video in ("a.mp4", "b.mp4"):
        features = {
            features_module.FeatureType.VELOCITY: torch.rand(30, 1, generator=generator),
            features_module.FeatureType.POSE: torch.rand(30, 34, generator=generator),
            features_module.FeatureType.DEEP: torch.randn(30, 512, generator=generator),
        }
        model.model.density_estimator.update(features, video)
        model.total_detections += 30
    model.fit()
    import lightning

    path = tmp_path_factory.mktemp("anomalib") / "aivad_proper_checkpoint.ckpt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "pytorch-lightning_version": lightning.__version__,
            "epoch": 0,
        },
        path,
    )
    return path


def test_anomalib_checkpoint_loads_in_the_detector(anomalib_checkpoint, full_video):
    detector = Detector.load(anomalib_checkpoint, device="cpu", weights="random")
    assert detector.backend_name == "full" and detector.info["source"] == "anomalib AiVad checkpoint"
    # anomalib's settings come from its hyper-parameters: one velocity bin by default
    assert detector.model.config.backend_settings["velocity_bins"] == 1
    detector.backend.flow.size = (128, 128)  # keep the CPU test quick; scores stay finite either way
    results = detector.score_video(full_video)
    assert len(results) == 4 and all(np.isfinite(r.score) for r in results)


def test_anomalib_checkpoint_fine_tunes(tmp_path, anomalib_checkpoint, full_video):
    import hashlib

    before = hashlib.sha256(anomalib_checkpoint.read_bytes()).hexdigest()
    output = tmp_path / "aivad_finetuned.ckpt"
    args = [
        "--videos",
        str(full_video),
        "--init-checkpoint",
        str(anomalib_checkpoint),
        "--output",
        str(output),
        *FULL_FAST,
    ]
    assert train("finetune", [*args, "--epochs", "1"]) == 0
    assert hashlib.sha256(anomalib_checkpoint.read_bytes()).hexdigest() == before
    summary = json.loads(Path(str(output) + ".json").read_text())
    assert summary["backend"] == "full" and summary["base_checkpoint"].endswith("aivad_proper_checkpoint.ckpt")
    base_visual = torch.load(anomalib_checkpoint, weights_only=True)["state_dict"]
    tuned, _ = load_model(output)
    key = "conv1.weight"
    start = base_visual["model.feature_extractor.deep_extractor.encoder.visual." + key]
    # the encoder started from the anomalib checkpoint's CLIP and moved from there
    assert not torch.equal(tuned.encoder.visual.state_dict()[key], start)
    assert float((tuned.encoder.visual.state_dict()[key] - start).abs().max()) < 1e-2
    assert Detector.load(output, device="cpu").score_video(full_video)[-1].regions


def test_missing_pretrained_weights_are_named_in_one_message(tmp_path):
    from aivad.errors import UserError
    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource

    with pytest.raises(UserError) as error:
        FullBackend(FullSettings(), WeightsSource("pretrained", tmp_path))
    message = str(error.value)
    for name in (
        "raft_large_C_T_SKHT_V2-ff5fadd5.pth",
        "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth",
        "keypointrcnn_resnet50_fpn_coco-fc266e95.pth",
        "ViT-B-16.pt",
    ):
        assert name in message
    assert str(tmp_path) in message and "\n" not in message


def test_bf16_warns_where_it_would_be_emulated(monkeypatch):
    from aivad import devices

    monkeypatch.setattr(devices.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert "emulated" in devices.bf16_warning("bf16", "cpu")
    assert devices.bf16_warning("auto", "cpu") is None and devices.bf16_warning("fp32", "cpu") is None
    monkeypatch.setattr(devices.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert devices.bf16_warning("bf16", "cpu") is None

    def unknown():  # a torch build without the private oneDNN query
        raise AttributeError("_is_mkldnn_bf16_supported")

    monkeypatch.setattr(devices.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", unknown)
    assert "emulated" in devices.bf16_warning("bf16", "cpu")


def _fixed_detections(backend, boxes_and_labels):
    """Replace Mask R-CNN's output by fixed boxes and labels (random weights detect nothing meaningful)."""

    def regions(previous, current):
        return [
            {
                "boxes": torch.tensor(b, dtype=torch.float32).reshape(-1, 4),
                "labels": torch.tensor(labels, dtype=torch.float32),
                "scores": torch.ones(len(labels)),
            }
            for b, labels in boxes_and_labels
        ]

    backend.regions = regions


def test_pose_on_persons_only_skips_other_regions_and_keeps_person_poses():
    from aivad.features.full import FullBackend, FullSettings
    from aivad.features.weights import WeightsSource

    sizes = dict(flow_model="raft_small", flow_iterations=2, flow_size=(128, 128), detector_size=128)
    every, persons = (
        FullBackend(FullSettings(**sizes, pose_boxes=which), WeightsSource("random")) for which in ("all", "persons")
    )
    frames = [np.random.default_rng(i).integers(0, 256, (96, 128, 3), dtype=np.uint8) for i in range(2)]
    # a person (label 1), a foreground blob (label 0) and a car (label 3)
    layout = [([[10, 10, 50, 80], [60, 20, 90, 60], [95, 5, 125, 40]], [1, 0, 3])]
    for backend in (every, persons):
        _fixed_detections(backend, layout)
    all_pose = every.extract([(frames[0], frames[1])])[0].frozen["pose"]
    person_pose = persons.extract([(frames[0], frames[1])])[0].frozen["pose"]
    assert np.isfinite(all_pose).all() and person_pose.shape == all_pose.shape == (3, 34)
    assert np.isfinite(person_pose[0]).all() and np.isnan(person_pose[1:]).all()
    # same seeded random network, and the keypoint head works box by box: the person's pose is unchanged
    np.testing.assert_allclose(person_pose[0], all_pose[0], atol=1e-4)

    # a batch without any person never runs Keypoint R-CNN
    def no_pose_network(*args):
        raise AssertionError("Keypoint R-CNN ran on a batch without persons")

    _fixed_detections(persons, [([[60, 20, 90, 60]], [0])])
    persons.pose = no_pose_network
    assert np.isnan(persons.extract([(frames[0], frames[1])])[0].frozen["pose"]).all()
    with pytest.raises(UserError, match="--pose-boxes"):
        FullBackend(FullSettings(**sizes, pose_boxes="people"), WeightsSource("random"))


def test_regions_without_an_attribute_are_skipped_in_fitting_and_scoring():
    from aivad.features.regions_common import FrameRegions
    from aivad.model.scoring import frame_attribute_scores
    from aivad.training.fitting import fit_model
    from aivad.training.footage import Footage

    rng = np.random.default_rng(0)
    n = 60
    pose = rng.normal(size=(n, 34)).astype(np.float32)
    pose[::3] = np.nan  # every third region is not a person
    footage = Footage(
        video_index=np.zeros(20, dtype=np.int64),
        frame_index=np.arange(20),
        region_pair=np.repeat(np.arange(20), 3),
        boxes=np.zeros((n, 4), np.float32),
        whole_frame=np.zeros(20, dtype=bool),
        frozen={"velocity": rng.normal(size=(n, 8)).astype(np.float32), "pose": pose},
    )
    crops = np.zeros((n, 8, 8, 3), np.uint8)
    config = velocity_pose_config(smoothing_sigma=0.0)
    model, calibration = fit_model(config, None, footage, None, None, encoder_changed=True)
    assert calibration["memory_rows"]["pose"] == 40 and np.isfinite(calibration["threshold"])
    assert torch.isfinite(model.densities["pose"].bank).all()

    frame = FrameRegions(
        boxes=np.zeros((3, 4), np.float32),
        whole_frame=False,
        frozen={"velocity": footage.frozen["velocity"][:3], "pose": pose[:3]},
        crops=crops[:3],
    )
    scores = model.region_scores(frame, None)
    assert np.isnan(scores["pose"][0]) and np.isfinite(scores["pose"][1:]).all()
    assert frame_attribute_scores(scores)["pose"] == pytest.approx(float(np.max(scores["pose"][1:])))
    no_person = FrameRegions(
        boxes=np.zeros((1, 4), np.float32),
        whole_frame=False,
        frozen={"velocity": footage.frozen["velocity"][:1], "pose": pose[:1]},
        crops=crops[:1],
    )
    assert frame_attribute_scores(model.region_scores(no_person, None))["pose"] == 0.0

    # fine-tuning: the base's pose memory joins the person rows only (groups must follow the same rows)
    class Base:  # aivad.training.base.BaseCheckpoint's interface to fitting
        def memory(self, name, config, n_samples):
            return torch.from_numpy(rng.normal(size=(7, 34)).astype(np.float32)) if name == "pose" else None

        def taught_speeds(self, config):
            return None  # never taught

    _, tuned = fit_model(config, None, footage, None, Base(), encoder_changed=True)
    assert tuned["kept_from_base"] == ["pose"] and tuned["memory_rows"]["pose"] == 47

    footage.frozen["pose"] = np.full((n, 34), np.nan, np.float32)  # nobody in the training footage
    with pytest.raises(UserError, match="--pose-boxes all or --no-pose"):
        fit_model(config, None, footage, None, None, encoder_changed=True)


def test_pose_boxes_persons_trains_records_and_scores(tmp_path, monkeypatch, capsys):
    from aivad.features.regions import ObjectRegions

    full_video = make_scene_video(
        tmp_path / "crowd.mp4", n_frames=4, size=(160, 120), seed=5, walkers=5
    )  # 2-5 regions per pair

    # random-weight Mask R-CNN finds no person: the run stops before training the encoder
    output = tmp_path / "persons.ckpt"
    code = train_as_user(
        "from_scratch",
        ["--videos", str(full_video), "--output", str(output), "--epochs", "1", "--pose-boxes", "persons", *FULL_FAST],
    )
    captured = capsys.readouterr()
    assert (
        code == 2
        and "--pose-boxes all or --no-pose" in captured.err
        and "encoder:" not in captured.out
        and not output.exists()
    )

    # label each frame's first region a person, as a pretrained detector would label a pedestrian
    original = ObjectRegions.forward

    def first_is_person(self, previous, current):
        detections = original(self, previous, current)
        for item in detections:
            if len(item["labels"]):
                item["labels"] = item["labels"].clone()
                item["labels"][0] = 1
        return detections

    monkeypatch.setattr(ObjectRegions, "forward", first_is_person)
    output = tmp_path / "persons labelled.ckpt"  # a new run folder: the first run's region cache has no person
    assert (
        train(
            "from_scratch",
            [
                "--videos",
                str(full_video),
                "--output",
                str(output),
                "--epochs",
                "1",
                "--pose-boxes",
                "persons",
                *FULL_FAST,
            ],
        )
        == 0
    )
    assert "regions are persons (--pose-boxes persons)" in capsys.readouterr().out
    detector = Detector.load(output, device="cpu")
    assert (
        detector.backend.settings.pose_boxes == "persons"
        and detector.model.config.backend_settings["pose_boxes"] == "persons"
    )
    results = detector.score_video(full_video)[1:]
    assert any(len(r.regions) >= 2 for r in results)  # a person and another region in one frame
    for result in results:
        if result.regions[0].whole_frame:
            assert "pose" not in result.regions[0].attributes and result.attribute_scores["pose"] == 0.0
            continue
        assert "pose" in result.regions[0].attributes and all("pose" not in r.attributes for r in result.regions[1:])
        assert result.attribute_scores["pose"] == pytest.approx(result.regions[0].attributes["pose"])
        assert result.raw_score == pytest.approx(max(result.attribute_scores.values()))


def test_pose_memory_is_kept_from_a_base_only_for_the_same_pose_boxes():
    from aivad.model.config import ModelConfig
    from aivad.training.base import _same_extractor

    def config(**settings):
        return ModelConfig.from_dict(
            {"backend": "full", "backend_settings": settings, "encoder": "clip_vit_b16", "density": {}}
        )

    older = config(detector_size=800)  # written before --pose-boxes existed
    every = config(detector_size=800, pose_boxes="all")
    persons = config(detector_size=800, pose_boxes="persons")
    assert _same_extractor("pose", older, every) and not _same_extractor("pose", older, persons)
    assert _same_extractor("velocity", older, persons)  # velocity does not depend on it
