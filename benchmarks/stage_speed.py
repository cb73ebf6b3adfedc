"""``python -m aivad bench``: time every stage of stock anomalib AI-VAD, our full backend and the lite backend.

All pipelines score the same frames (a synthetic scene, or ``--video``) in one run on one machine, so
their ratios are meaningful even on a busy computer. Networks use random weights (the same
architectures and arithmetic as the pretrained ones; nothing is downloaded). Our pipelines are timed
through the real :class:`aivad.live.detector.Detector`, i.e. what the UI and the command line run; each
stage is timed by wrapping the method that does it, and end to end is decode + ``Detector.process``.

The full backend is timed three times: with its defaults (anomalib's settings: RAFT-large at 520x960
with 12 iterations, detectors at 800 px, float32), with bfloat16 inference at those settings, and with
the documented fast settings (:data:`FAST_FULL_SETTINGS`); the last two change the scores.
Densities are fitted on the warm-up frames' features, repeated with a little
noise up to ``--bank-rows`` rows, so scoring pays for a realistically sized memory bank.

The JSON keys stay the same from run to run, so regressions show up in a diff; ``--baseline OLD.json``
prints the headline figures next to an earlier report's (``benchmarks/results/`` holds one from the
development machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

if __name__ == "__main__":  # run as a script: the package is one folder up
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aivad.devices import DEVICE_CHOICES, bf16_warning  # noqa: E402

STAGES = ("decode", "flow", "regions", "velocity", "pose", "person", "shape", "appearance", "density", "other")
# Result-changing speed settings, offered as training options (aivad.training.pipeline). bfloat16 alone is
# also timed at the default sizes, so its share of the speed-up is visible.
BF16_FULL_SETTINGS = {"inference_precision": "bf16"}
FAST_FULL_SETTINGS = {
    "flow_model": "raft_small",
    "flow_size": (272, 480),
    "flow_iterations": 6,
    "detector_size": 512,
    "inference_precision": "bf16",
}
FAST_FULL_FLAGS = (
    "--flow-model raft_small --flow-size 272 480 --flow-iterations 6 --detector-size 512 --inference-precision bf16"
)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aivad bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--compare-anomalib",
        action="store_true",
        help="also time stock anomalib AiVadModel (~15 s per frame on a 2-core CPU)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--video", type=Path, default=None, help="time on this video instead of a synthetic scene")
    parser.add_argument(
        "--frames", type=int, default=2, help="timed frames for anomalib and the full backend (after the warm-up)"
    )
    parser.add_argument("--lite-frames", type=int, default=200, help="timed frames for the lite backend")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed frame pairs first (also the features the densities are fitted on)",
    )
    parser.add_argument("--size", default="768x576", help="synthetic scene size WxH (ignored with --video)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument(
        "--bank-rows", type=int, default=2048, help="rows of the fitted kNN memory banks (and GMM training set)"
    )
    parser.add_argument(
        "--knn-rows",
        type=int,
        default=2048,
        help="kNN scaling check: memory bank rows and training regions (then 10x as many); 0 = skip",
    )
    parser.add_argument(
        "--full-flow-size",
        type=int,
        nargs=2,
        default=None,
        metavar=("H", "W"),
        help="override the default configuration's RAFT working size (quick smoke runs only)",
    )
    parser.add_argument(
        "--full-detector-size",
        type=int,
        default=None,
        help="override the default configuration's detector size (quick smoke runs only)",
    )
    parser.add_argument("--skip-full", action="store_true", help="time only the lite backend (and anomalib if asked)")
    parser.add_argument(
        "--lite-variant",
        metavar="JSON",
        default=None,
        help="also time a lite pipeline with these settings changed, alternating frame by frame with the default "
        'one, e.g. \'{"shape_model": ""}\' for the cost of the shape attribute',
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="an earlier --json report: print this run's headline figures beside it",
    )
    streams = parser.add_argument_group("several cameras (benchmarks/stream_speed.py; replaces the stage timing)")
    streams.add_argument(
        "--streams",
        type=int,
        default=0,
        help="N > 0: N live lite cameras at --size through the UI's scheduler, idle and with a one-core load "
        "(default 0: time the stages instead)",
    )
    streams.add_argument("--duration", type=float, default=10.0, help="seconds measured per run (default 10)")
    streams.add_argument("--stream-fps", type=float, default=25.0, help="each camera's frame rate (default 25)")
    streams.add_argument(
        "--workers", type=int, default=0, help="scheduler threads (default 0: one per core, as the UI)"
    )
    streams.add_argument(
        "--stream-batch",
        choices=("auto", "on", "off"),
        default="auto",
        help="cameras on one model through the model together (default auto: on a GPU only)",
    )
    return parser


# Headline figures compared with --baseline. Speed-ups and the kNN ratio are ratios measured side by
# side within one run, so they compare fairly across runs; FPS are absolute and move with machine load.
HEADLINE_KEYS = (
    ("speedup_full_vs_anomalib", "ratio"),
    ("speedup_full_bf16_vs_anomalib", "ratio"),
    ("speedup_full_fast_vs_anomalib", "ratio"),
    ("knn_score_ratio_x10", "ratio"),
    ("full_fps", "absolute"),
    ("full_bf16_fps", "absolute"),
    ("full_fast_fps", "absolute"),
    ("lite_fps", "absolute"),
)


def load_baseline(path: Path) -> dict:
    from aivad.errors import UserError

    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"--baseline {path} does not exist; give a JSON file written by an earlier 'python -m aivad bench --json'."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(
            f"--baseline {path} is not a JSON report; give a file written by 'python -m aivad bench --json'."
        ) from None
    if not isinstance(report, dict) or "lite_fps" not in report:
        raise UserError(
            f"--baseline {path} is not a bench report (no lite_fps); give a file written by 'python -m aivad "
            "bench --json'."
        )
    return report


def compare_reports(old: dict, new: dict) -> list[str]:
    """Lines comparing the headline figures of two reports: old, new, new/old, and what kind of figure it is."""
    lines = []
    for field in ("device_name", "size", "video", "fast_full_flags"):
        if old.get(field) != new.get(field):
            lines.append(
                f"note: {field} differs (baseline {old.get(field)!r}, now {new.get(field)!r}); absolute "
                "figures are not comparable"
            )
    lines.append(f"{'figure':32}{'baseline':>11}{'now':>11}{'now/base':>10}  kind")
    for key, kind in HEADLINE_KEYS:
        before, after = old.get(key), new.get(key)
        if before is None and after is None:
            continue
        change = f"{after / before:.2f}x" if before and after is not None else "-"
        lines.append(f"{key:32}{_figure(before):>11}{_figure(after):>11}{change:>10}  {kind}")
    return lines


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------- timing


def next_timed_frame(timer, frames, record: bool):
    """Start one frame's clock and decode it; (None, start) once the video is exhausted."""
    timer.recording = record
    timer.sync()
    start = time.perf_counter()
    frame = next(frames, None)
    if frame is None:
        timer.current.clear()
    return frame, start


class StageTimer:
    """Seconds per stage for the frame being timed; wraps the methods that do each stage."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.current: dict[str, float] = defaultdict(float)
        self.frames: list[dict[str, float]] = []
        self.recording = False

    def sync(self) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()

    def wrap(self, owner, method: str, stage: str) -> None:
        original = getattr(owner, method)

        def timed(*args, **kwargs):
            self.sync()
            start = time.perf_counter()
            result = original(*args, **kwargs)
            self.sync()
            self.current[stage] += time.perf_counter() - start
            return result

        setattr(owner, method, timed)  # instance attribute: only this object is affected

    def add(self, stage: str, seconds: float) -> None:
        self.current[stage] += seconds

    def finish_frame(self, end_to_end: float) -> None:
        stages = dict(self.current)
        stages["other"] = max(0.0, end_to_end - sum(stages.values()))
        stages["end_to_end"] = end_to_end
        if self.recording:
            self.frames.append(stages)
        self.current = defaultdict(float)

    def summary(self) -> dict:
        """Mean seconds per frame for every stage and end to end, plus FPS."""
        n = len(self.frames)
        keys = [*STAGES, "end_to_end"]
        means = {k: (sum(f.get(k, 0.0) for f in self.frames) / n if n else float("nan")) for k in keys}
        return {
            "frames": n,
            "seconds_per_frame": means,
            "fps": 1.0 / means["end_to_end"] if n and means["end_to_end"] > 0 else float("nan"),
        }


class _TimedFlow:
    """Stands in for an OpenCV optical-flow object (whose methods cannot be replaced) and times calc."""

    def __init__(self, flow, timer: StageTimer) -> None:
        self._flow, self._timer = flow, timer

    def calc(self, *args):
        start = time.perf_counter()
        result = self._flow.calc(*args)
        self._timer.add("flow", time.perf_counter() - start)
        return result


def decoded_frames(video: Path, timer: StageTimer):
    """Frames of the video, each one's decode time charged to the frame that is being scored."""
    from aivad.video.files import read_frames

    frames = read_frames(video)
    while True:
        start = time.perf_counter()
        item = next(frames, None)
        if item is None:
            return
        timer.add("decode", time.perf_counter() - start)
        yield item[1]


# --------------------------------------------------------------------------- stock anomalib


@contextlib.contextmanager
def random_anomalib_builders():
    """While active, anomalib's AI-VAD builds its networks randomly initialised instead of downloading weights.

    The builders are swapped for this project's seeded random ones (aivad.features.weights), so stock anomalib
    and our full backend run the very same networks: same architectures and arithmetic as the
    pretrained ones, and the same detections, hence the same number of regions to embed. (With
    independently random detectors the region counts, and so the pose and CLIP costs, would differ
    by chance.)
    """
    import anomalib.models.video.ai_vad.features as features_module
    import anomalib.models.video.ai_vad.flow as flow_module
    import anomalib.models.video.ai_vad.regions as regions_module
    from anomalib.models.video.ai_vad.clip.model import CLIP

    from aivad.features.weights import WeightsSource, build_clip_visual, build_keypointrcnn, build_maskrcnn, build_raft

    def clip_with_random_visual(name, **kwargs):
        model = CLIP(512, 224, 12, 768, 16, 77, 49408, 512, 8, 12)  # ViT-B/16's shapes
        model.visual = build_clip_visual(WeightsSource("random"))
        return model, None

    patches = {
        (flow_module, "raft_large"): lambda weights=None, **kw: build_raft(WeightsSource("random")),
        (regions_module, "maskrcnn_resnet50_fpn_v2"): lambda weights=None, box_score_thresh=0.05, **kw: build_maskrcnn(
            WeightsSource("random"), box_score_thresh
        ),
        (features_module, "keypointrcnn_resnet50_fpn"): lambda weights=None, **kw: build_keypointrcnn(
            WeightsSource("random")
        ),
        (features_module.clip, "load"): clip_with_random_visual,
    }
    originals = {key: getattr(*key) for key in patches}
    try:
        for (module, name), replacement in patches.items():
            setattr(module, name, replacement)
        yield
    finally:
        for (module, name), original in originals.items():
            setattr(module, name, original)


def stock_anomalib_model(**kwargs):
    """anomalib's own ``AiVadModel`` (torch model) with random-init networks.

    ``box_score_thresh`` defaults to 0.7, the value of anomalib's ``AiVad`` (what users train) and of
    our full backend; the bare torch model's own default is 0.8.
    """
    from anomalib.models.video.ai_vad.torch_model import AiVadModel

    kwargs.setdefault("box_score_thresh", 0.7)
    with random_anomalib_builders():
        return AiVadModel(**kwargs).eval()


def fit_anomalib_densities(model, rows: int, seed: int = 0) -> None:
    """Fill anomalib's estimators through its own update/fit with ``rows`` features of the right shapes, two videos."""
    from anomalib.models.video.ai_vad.features import FeatureType

    generator = torch.Generator().manual_seed(seed)
    n_bins = model.feature_extractor.velocity_extractor.n_bins
    half = max(8, rows // 2)
    for video in ("a", "b"):
        features = {
            FeatureType.VELOCITY: torch.rand(half, n_bins, generator=generator),
            FeatureType.POSE: torch.rand(half, 34, generator=generator),
            FeatureType.DEEP: torch.randn(half, 512, generator=generator),
        }
        model.density_estimator.update(features, video)
    model.density_estimator.fit()


class AnomalibPipeline:
    """Stock anomalib AiVadModel fed frame pairs as its datamodule would (float RGB in [0, 1])."""

    def __init__(self, video: Path, args, device: str) -> None:
        build_start = time.perf_counter()
        self.model = model = stock_anomalib_model().to(device)
        fit_anomalib_densities(model, args.bank_rows)
        self.build_s = time.perf_counter() - build_start
        self.device, self.warmup = device, args.warmup
        self.timer = timer = StageTimer(device)
        features = model.feature_extractor
        timer.wrap(model.flow_extractor, "forward", "flow")
        timer.wrap(model.region_extractor, "forward", "regions")
        timer.wrap(features.velocity_extractor, "forward", "velocity")
        timer.wrap(features.pose_extractor, "forward", "pose")
        timer.wrap(features.deep_extractor, "forward", "appearance")
        timer.wrap(model.density_estimator, "forward", "density")
        self.n_regions: list[int] = []
        extract_regions = model.region_extractor.forward

        def counted_regions(*args, **kwargs):
            regions = extract_regions(*args, **kwargs)
            if timer.recording:
                self.n_regions.append(sum(len(r["boxes"]) for r in regions))
            return regions

        model.region_extractor.forward = counted_regions
        self.frames = decoded_frames(video, timer)
        self.previous = None

    def _frame(self, record: bool) -> bool:
        timer = self.timer
        frame, start = next_timed_frame(timer, self.frames, record)
        if frame is None:
            return False
        # anomalib's input: (N, L, C, H, W) float RGB in [0, 1]
        current = (
            torch.from_numpy(np.ascontiguousarray(frame[..., ::-1]))
            .to(self.device)
            .permute(2, 0, 1)
            .float()
            .div_(255.0)
        )
        paired = self.previous is not None
        if paired:
            with torch.no_grad():
                self.model(torch.stack([self.previous, current])[None])
        self.previous = current
        timer.sync()
        if paired:
            timer.finish_frame(time.perf_counter() - start)
        else:
            timer.current.clear()
        return True

    def prepare(self) -> None:
        for _ in range(self.warmup + 1):
            self._frame(record=False)

    def step(self) -> bool:
        return self._frame(record=True)

    def summary(self) -> dict:
        result = self.timer.summary()
        result.update(build_s=self.build_s, regions_per_frame=float(np.mean(self.n_regions)) if self.n_regions else 0.0)
        return result


# --------------------------------------------------------------------------- our detector


def build_detector(backend_name: str, settings: dict, device: str):
    """A Detector as a checkpoint would load it (random frozen weights), densities not yet fitted."""
    from aivad.features.backends import build_backend
    from aivad.features.encoders import build_encoder
    from aivad.features.weights import WeightsSource
    from aivad.live.detector import Detector
    from aivad.model.aivad_model import AiVadModel, default_density_config
    from aivad.model.config import ModelConfig

    weights = WeightsSource("random")
    if backend_name == "lite":
        from aivad.features.lite import lite_frozen_attributes, new_model_settings

        settings = {**new_model_settings().to_dict(), **settings}  # what a model trained by this version runs
        attributes = [*lite_frozen_attributes(settings["person_model"], settings["shape_model"]), "appearance"]
        encoder_name = "small_cnn"
    else:
        from aivad.features.full import FullSettings, frozen_attributes

        settings = FullSettings(**settings).to_dict()
        attributes = [*frozen_attributes(settings["use_pose"]), "appearance"]
        encoder_name = "clip_vit_b16"
    config = ModelConfig(
        backend=backend_name,
        backend_settings=settings,
        encoder=encoder_name,
        density=default_density_config(attributes),
        weights="random",
        smoothing_sigma=0.0,
    )
    model = AiVadModel(config, build_encoder(encoder_name, weights)).eval()
    backend = build_backend(config, weights, device)
    model.encoder.to(device)
    return Detector(model, {"backend": backend_name, "device_reason": "bench"}, backend, device)


def frozen_density_rows(model, regions) -> dict[str, np.ndarray]:
    """The rows each frozen attribute's density scores for these regions (the person margin beside the box's size)."""
    from aivad.model.aivad_model import attribute_rows

    return {
        name: attribute_rows(name, regions.frozen, regions.boxes, model.config)
        for name in model.densities
        if name != "appearance"
    }


def fit_detector_densities(detector, region_features: dict[str, list[np.ndarray]], rows: int, seed: int = 0) -> None:
    """Fit every density on the collected features, repeated with small noise up to ``rows`` rows."""
    from aivad.model.aivad_model import attribute_present

    rng = np.random.default_rng(seed)
    for name, density in detector.model.densities.items():
        collected = np.concatenate(region_features[name]).astype(np.float32)
        features = collected[attribute_present(collected)]  # regions without the attribute (pose of non-persons)
        if len(features) == 0:  # no warm-up region had it: any row will do for timing
            features = np.zeros((1, collected.shape[1]), dtype=np.float32)
        repeats = max(1, -(-rows // len(features)))
        tiled = np.tile(features, (repeats, 1))[: max(rows, len(features))]
        tiled = tiled + rng.normal(0, 0.01, tiled.shape).astype(np.float32) * (tiled.std(0, keepdims=True) + 1e-3)
        groups = torch.arange(len(tiled)) * 4 // len(tiled)  # four chunks, like consecutive-frame groups
        density.fit(torch.from_numpy(tiled), groups, seed=seed)
    detector.model.threshold = torch.tensor(1.0)


class DetectorPipeline:
    """One of our backends through aivad.live.detector.Detector, as the UI and the command line run it."""

    def __init__(self, video: Path, backend_name: str, settings: dict, args, device: str) -> None:
        build_start = time.perf_counter()
        self.detector = detector = build_detector(backend_name, settings, device)
        self.build_s = time.perf_counter() - build_start
        self.device, self.warmup, self.bank_rows = device, args.warmup, args.bank_rows
        self.timer = timer = StageTimer(device)
        backend, model = detector.backend, detector.model
        if backend_name == "full":
            timer.wrap(backend.flow, "forward", "flow")
            timer.wrap(backend.regions, "forward", "regions")
            if backend.pose is not None:
                timer.wrap(backend.pose, "forward", "pose")
        else:
            backend._flow = _TimedFlow(backend._flow, timer)
            timer.wrap(backend, "foreground_boxes", "regions")
            if backend._person is not None:
                timer.wrap(backend._person, "score", "person")
            if backend._shape is not None:
                timer.wrap(backend._shape, "describe", "shape")
        timer.wrap(backend, "velocity", "velocity")
        timer.wrap(model.encoder, "embed", "appearance")
        timer.wrap(model, "region_scores", "density")
        self.frames = decoded_frames(video, timer)
        self.n_regions: list[int] = []
        self.fit_s = 0.0

    def prepare(self) -> None:
        """Warm-up pairs, whose features fit the densities (scoring needs fitted ones); not timed."""
        detector, timer = self.detector, self.timer
        backend, model = detector.backend, detector.model
        collected: dict[str, list[np.ndarray]] = defaultdict(list)
        normalise = model.config.appearance_features == "normalised"
        start = time.perf_counter()
        previous = next(self.frames)
        for _ in range(self.warmup):
            frame = next(self.frames, None)
            if frame is None:
                break
            regions = backend.extract([(previous, frame)])[0]
            for name, rows in frozen_density_rows(model, regions).items():
                collected[name].append(rows)
            collected["appearance"].append(
                model.encoder.embed(
                    regions.crops, device=self.device, normalise=normalise, precision=detector._precision
                )
            )
            previous = frame
        fit_detector_densities(detector, collected, self.bank_rows)
        detector.reset()
        detector.process(previous)  # the stream starts at the last warm-up frame: the next frame forms a pair
        self.fit_s = time.perf_counter() - start
        timer.current.clear()

    def step(self) -> bool:
        timer = self.timer
        frame, start = next_timed_frame(timer, self.frames, record=True)
        if frame is None:
            return False
        result = self.detector.process(frame)
        timer.sync()
        timer.finish_frame(time.perf_counter() - start)
        self.n_regions.append(len(result.regions))
        return True

    def summary(self) -> dict:
        result = self.timer.summary()
        result.update(
            build_s=self.build_s,
            warmup_and_fit_s=self.fit_s,
            regions_per_frame=float(np.mean(self.n_regions)) if self.n_regions else 0.0,
            settings=self.detector.model.config.backend_settings,
        )
        return result


# --------------------------------------------------------------------------- kNN scaling


def knn_scaling(
    rows: int, dim: int = 128, max_bank: int | None = None, queries: int = 16, repeats: int = 200, seed: int = 0
) -> dict:
    """Scoring time of the kNN density fitted on ``rows`` and on ``10 * rows`` training regions.

    The memory bank is capped at ``max_bank`` rows (default ``rows``: the smaller footage just fills
    it), so the larger footage must not cost more to score. The two are timed alternately and the
    median is kept, so load from other processes hits both alike.
    """
    from aivad.model.density import KnnDensity

    max_bank = rows if max_bank is None else max_bank
    generator = torch.Generator().manual_seed(seed)
    query = torch.randn(queries, dim, generator=generator)
    out = {"dim": dim, "max_bank": max_bank, "queries_per_call": queries}
    densities = {}
    for label, n in (("base", rows), ("x10", 10 * rows)):
        features = torch.randn(n, dim, generator=generator)
        density = KnnDensity(n_neighbors=1, max_bank=max_bank)
        start = time.perf_counter()
        density.fit(features, torch.arange(n) * 8 // n)
        out[label] = {"training_rows": n, "bank_rows": int(density.bank.shape[0]), "fit_s": time.perf_counter() - start}
        densities[label] = density
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        for label, density in densities.items():
            start = time.perf_counter()
            density.score(query)
            times[label].append(time.perf_counter() - start)
    for label in densities:
        out[label]["score_s"] = float(np.median(times[label]))
    out["score_ratio_x10"] = out["x10"]["score_s"] / out["base"]["score_s"]
    return out


# --------------------------------------------------------------------------- report


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({torch.get_num_threads()} torch threads)"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def format_table(results: dict) -> str:
    header = (
        f"{'pipeline':<12}{'frames':>7}{'regions':>8}"
        + "".join(f"{s:>11}" for s in STAGES)
        + f"{'end2end':>10}{'FPS':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, result in results.items():
        seconds = result["seconds_per_frame"]
        lines.append(
            f"{name:<12}{result['frames']:>7}{result.get('regions_per_frame', 0.0):>8.1f}"
            + "".join(f"{seconds[s]:>11.4f}" for s in STAGES)
            + f"{seconds['end_to_end']:>10.4f}{result['fps']:>8.2f}"
        )
    return "\n".join(lines)


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size must look like 768x576, not {text!r}") from None
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise SystemExit("--size: width and height must be even and at least 64")
    return width, height


def main(argv: list[str] | None = None) -> int:
    from aivad.devices import choose_device

    args = get_args_parser().parse_args(argv)
    if args.streams:
        from stream_speed import main as streams_main

        return streams_main(args)
    baseline = load_baseline(args.baseline) if args.baseline is not None else None  # fail before minutes of timing
    device = choose_device(args.device).device
    with tempfile.TemporaryDirectory(prefix="aivad-bench-") as scratch:
        if args.video is not None:
            video = args.video
            from aivad.video.files import probe_video

            info = probe_video(video)
            size = (info.width, info.height)
        else:
            from aivad.video.synthetic import make_scene_video

            size = parse_size(args.size)
            n_frames = args.warmup + 1 + max(args.frames, args.lite_frames)
            video = make_scene_video(
                Path(scratch) / "scene.mp4", n_frames=n_frames, size=size, fps=25, seed=1, walkers=4
            )
        print(
            f"bench: {video} {size[0]}x{size[1]}, device {device}: {device_name(device)}, torch {torch.__version__}",
            flush=True,
        )
        pipelines: dict[str, AnomalibPipeline | DetectorPipeline] = {}
        skipped: dict[str, str] = {}  # pipeline -> why it was not timed
        if args.compare_anomalib:
            print("  building stock anomalib AiVadModel ...", flush=True)
            pipelines["anomalib"] = AnomalibPipeline(video, args, device)
        if not args.skip_full:
            print("  building the full backend: defaults, bf16, fast ...", flush=True)
            overrides = {}
            if args.full_flow_size is not None:
                overrides["flow_size"] = tuple(args.full_flow_size)
            if args.full_detector_size is not None:
                overrides["detector_size"] = args.full_detector_size
            pipelines["full"] = DetectorPipeline(video, "full", overrides, args, device)
            emulated = bf16_warning("bf16", device)
            if emulated is None:
                pipelines["full_bf16"] = DetectorPipeline(
                    video, "full", {**overrides, **BF16_FULL_SETTINGS}, args, device
                )
                pipelines["full_fast"] = DetectorPipeline(video, "full", FAST_FULL_SETTINGS, args, device)
            else:
                # Why not time them anyway: emulated bfloat16 is tens of times slower than float32 (a
                # random-weight Keypoint R-CNN at 128 px: 12.6 s in float32, over 5 minutes in bf16 on a
                # Zen 3 core), so the run would take hours to say what the warning already says.
                skipped = {name: emulated for name in ("full_bf16", "full_fast")}
                print(f"  not timed: full_bf16, full_fast ({emulated})", flush=True)
        pipelines["lite"] = DetectorPipeline(video, "lite", {}, args, device)
        if args.lite_variant is not None:  # A/B: the same frames, alternating frame by frame with "lite"
            pipelines["lite_variant"] = DetectorPipeline(video, "lite", json.loads(args.lite_variant), args, device)
        for name, pipeline in pipelines.items():
            print(f"  warm-up and density fit: {name} ...", flush=True)
            pipeline.prepare()
        # Round robin, one frame of each heavy pipeline then a share of the lite frames, so that
        # load from other processes falls on all pipelines alike.
        heavy = [p for name, p in pipelines.items() if name not in ("lite", "lite_variant")]
        rounds = max(1, args.frames) if heavy else 1
        lite_per_round = -(-args.lite_frames // rounds)
        lite_left = args.lite_frames
        for round_index in range(rounds):
            print(f"  timing round {round_index + 1}/{rounds} ...", flush=True)
            for pipeline in heavy:
                pipeline.step()
            for _ in range(min(lite_per_round, lite_left)):
                pipelines["lite"].step()
                if "lite_variant" in pipelines:
                    pipelines["lite_variant"].step()
            lite_left -= lite_per_round
        results = {name: pipeline.summary() for name, pipeline in pipelines.items()}
        knn = None
        if args.knn_rows > 0:
            print("  kNN scoring cost, training footage x10 ...", flush=True)
            knn = knn_scaling(args.knn_rows)

    def end_to_end(name: str) -> float | None:
        return results[name]["seconds_per_frame"]["end_to_end"] if name in results else None

    def ratio(slow: str, fast: str) -> float | None:
        return (
            end_to_end(slow) / end_to_end(fast)
            if end_to_end(slow) is not None and end_to_end(fast) is not None
            else None
        )

    report = {
        "size": list(size),
        "video": str(args.video) if args.video is not None else "synthetic",
        "device": device,
        "device_name": device_name(device),
        "torch_version": torch.__version__,
        "fast_full_flags": FAST_FULL_FLAGS,
        "speedup_full_vs_anomalib": ratio("anomalib", "full"),
        "speedup_full_fast_vs_anomalib": ratio("anomalib", "full_fast"),
        "speedup_full_bf16_vs_anomalib": ratio("anomalib", "full_bf16"),
        "full_fps": results["full"]["fps"] if "full" in results else None,
        "full_bf16_fps": results["full_bf16"]["fps"] if "full_bf16" in results else None,
        "full_fast_fps": results["full_fast"]["fps"] if "full_fast" in results else None,
        "lite_fps": results["lite"]["fps"],
        "knn_score_ratio_x10": knn["score_ratio_x10"] if knn else None,
        "knn_scaling": knn,
        "pipelines": results,
        "skipped": skipped,
    }
    print()
    print(
        f"seconds per frame at {size[0]}x{size[1]} on {report['device_name']} (torch {torch.__version__}); "
        "other = conversions, crops, result building"
    )
    print(format_table(results))
    if report["speedup_full_vs_anomalib"] is not None:
        others = (
            f", {report['speedup_full_bf16_vs_anomalib']:.2f}x (--inference-precision bf16), "
            f"{report['speedup_full_fast_vs_anomalib']:.2f}x (fast: {FAST_FULL_FLAGS})"
            if "full_bf16" in results
            else ""
        )
        print(
            f"full vs stock anomalib, end to end: {report['speedup_full_vs_anomalib']:.2f}x (defaults, same scores)"
            + others
        )
    print(f"lite: {report['lite_fps']:.1f} FPS end to end (decode + score)")
    if knn:
        print(
            f"kNN scoring, {knn['x10']['training_rows']} vs {knn['base']['training_rows']} training regions "
            f"(bank {knn['x10']['bank_rows']} vs {knn['base']['bank_rows']} rows): "
            f"{knn['score_ratio_x10']:.2f}x the time"
        )
    if baseline is not None:
        print(
            f"\ncompared with {args.baseline} ({baseline.get('device_name')}, torch {baseline.get('torch_version')}):"
        )
        print("\n".join(compare_reports(baseline, report)))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
