"""The one inference engine behind the UI, the command line and the tests.

A :class:`Detector` loads a checkpoint (either backend, or anomalib's AiVad), takes frames one at
a time and returns plain :class:`~aivad.live.results.FrameResult` objects: smoothed and raw score, the
threshold decision, and every region with its per-attribute scores, so an alarm says *why*.
Live use is causal; :meth:`Detector.score_video` may smooth centred, since it sees the whole video.
:class:`EventTracker` turns frame decisions into events with hysteresis, a minimum duration and a merge gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from aivad.errors import UserError
from aivad.features.camera_view import ViewMonitor, decode_view
from aivad.features.regions_common import FrameRegions
from aivad.live.camera_notes import CameraNote
from aivad.live.frame_pairs import FramePairs
from aivad.live.results import FrameResult, RegionResult
from aivad.model.alarm import MIN_DURATION_S, RELEASE_RATIO, AlarmRule, Event, EventTracker, RateModel  # noqa: F401  (Event, EventTracker: public here)
from aivad.model.checkpoint import load_raw, require_known
from aivad.model.config import ModelConfig
from aivad.model.drift import SceneBaseline
from aivad.model.scoring import (
    FrameSmoother,
    combine_attributes,
    frame_attribute_scores,
    resmoothed,
)
from aivad.video.frame_rate import FrameRate


def load_model(path: Path):
    """(model, info) from our checkpoint or anomalib's AiVad checkpoint."""
    from aivad.model.aivad_model import AiVadModel

    path = Path(path)
    data = load_raw(path)
    kind = require_known(path, data)
    if kind == "anomalib":
        from aivad.model.anomalib import anomalib_model

        model, description = anomalib_model(path, data)
        info = {"backend": "full", "source": description, "videos": [], "settings": {}, "versions": {}, "created": None}
    else:
        model = AiVadModel.empty(ModelConfig.from_dict(data["hyper_parameters"]))
        try:
            model.load_state_dict(data["state_dict"])
        except (RuntimeError, KeyError) as error:
            raise UserError(
                f"checkpoint {path} does not match this project's model ({str(error).splitlines()[0][:120]}); "
                "retrain it with this version."
            ) from None
        info = dict(data["aivad"])
        info["source"] = "aivad checkpoint"
    info["threshold"] = float(model.threshold)
    info["path"] = str(path)
    info["config"] = model.config
    return model.eval(), info


class Detector:
    def __init__(self, model, info: dict, backend, device: str) -> None:
        self.model = model
        self.info = info
        self.backend = backend
        self.device = device
        self.threshold = float(model.threshold)
        self._normalise_appearance = model.config.appearance_features == "normalised"
        self._precision = model.config.inference_precision
        self.combine = model.config.combine
        self._smoother = FrameSmoother(float(model.config.smoothing_sigma), self.combine)
        self._baseline = SceneBaseline(model.config.scene_baseline)  # this stream's own normal level
        # Checkpoints from before the rate-calibrated alarm get the default rule at their threshold.
        self.alarm_rule = (
            AlarmRule(**model.config.alarm)
            if model.config.alarm
            else AlarmRule(self.threshold, RELEASE_RATIO, MIN_DURATION_S)
        )
        rate = model.config.false_alarm_model
        self.rate_model = RateModel.from_dict(rate) if rate else None
        self._camera = CameraNote()  # what the camera itself does, as reported (aivad.live.camera_notes)
        self._view = ViewMonitor(decode_view(info.get("camera_view")))  # None for older checkpoints: no check
        # pairs at the training footage's size and time step (aivad.live.frame_pairs); boxes back at the camera's
        self._pairs = FramePairs(info)
        self._last_result: FrameResult | None = None  # repeated between the scored frames of a fast stream

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str = "auto",
        weights_dir: str | Path | None = None,
        weights: str | None = None,
        inference_precision: str | None = None,
    ) -> "Detector":
        """``weights`` and ``inference_precision`` override the checkpoint's (default: as trained)."""
        from aivad.devices import INFERENCE_PRECISIONS, bf16_warning, choose_device
        from aivad.features.backends import build_backend
        from aivad.features.weights import WeightsSource

        model, info = load_model(Path(path))
        choice = choose_device(device)
        if inference_precision is not None and model.config.backend == "full":
            if inference_precision not in INFERENCE_PRECISIONS:
                raise UserError(
                    f"--inference-precision must be one of {', '.join(INFERENCE_PRECISIONS)}, not "
                    f"'{inference_precision}'."
                )
            model.config.backend_settings = {
                **model.config.backend_settings,
                "inference_precision": inference_precision,
            }
        warning = (
            bf16_warning(model.config.inference_precision, choice.device) if model.config.backend == "full" else None
        )
        if warning:
            info["precision_warning"] = warning
        source = WeightsSource(weights or model.config.weights, Path(weights_dir) if weights_dir else None)
        backend = build_backend(model.config, source, choice.device)
        model.encoder.to(choice.device)
        info["device_reason"] = choice.reason
        return cls(model, info, backend, choice.device)

    def expected_false_alarms_per_hour(self, threshold: float | None = None) -> float | None:
        """Calibrated estimate for normal footage like the training videos; None for old checkpoints."""
        if self.rate_model is None:
            return None
        return self.rate_model.expected_per_hour(self.threshold if threshold is None else threshold)

    def event_tracker(self, fps: float, threshold: float | None = None) -> EventTracker:
        """The alarm rule (hysteresis, minimum duration, merge gap) at this detector's threshold."""
        return self.alarm_rule.tracker(fps, self.threshold if threshold is None else threshold)

    @property
    def frame_rate(self) -> FrameRate:
        """The stream's rate against the training footage's, and the step it is scored at (read only)."""
        return self._pairs.rate

    @property
    def training_size(self) -> tuple[int, int] | None:
        """(width, height) of the training footage where all of it had one size, else None."""
        return self._pairs.sizer.training_size

    @property
    def resized_from(self) -> tuple[int, int] | None:
        """(width, height) of the stream's frames where they are scaled to the training footage's size, else None."""
        return self._pairs.sizer.resized_from

    @property
    def backend_name(self) -> str:
        return self.model.config.backend

    @property
    def smoothing_sigma(self) -> float:
        return self._smoother.sigma

    @smoothing_sigma.setter
    def smoothing_sigma(self, sigma: float) -> None:
        self._smoother.sigma = max(0.0, float(sigma))

    def reset(self) -> None:
        """Start a new stream: forget the previous frame and the smoothing history."""
        self._pairs.reset()
        self._smoother.reset()
        self._baseline.reset()
        self._camera.reset()
        self._view.reset()
        self._last_result = None

    def restart_motion(self) -> None:
        """The footage jumped (a cut, the next file of a playlist, a camera back after an outage): the next
        frame starts a new motion pair instead of pairing with the frame before the jump, and is not scored,
        like a stream's first frame. What the stream learnt as it ran (smoothing, scene baseline) is kept."""
        self._pairs.restart()
        self._last_result = None

    def sibling(self) -> "Detector":
        """Another stream on the same loaded model: the weights are shared (loaded once), the stream
        state (previous frame, smoothing, frame counter) is its own.

        The lite backend is rebuilt: it is cheap, and its OpenCV flow object must not be used by two
        threads at once. The full backend's networks are shared: in eval mode they hold no state.
        """
        from aivad.features.lite import LiteBackend

        backend = LiteBackend(self.backend.settings) if isinstance(self.backend, LiteBackend) else self.backend
        twin = Detector(self.model, self.info, backend, self.device)
        twin.threshold = self.threshold
        twin.smoothing_sigma = self.smoothing_sigma
        return twin

    def _score_pairs(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[FrameRegions, dict]]:
        """Regions and per-region attribute scores of frame pairs, extracted and embedded as one batch.

        The densities score frame by frame, so other cameras in a batch reach a camera's scores only
        through the encoder's float rounding: a convolution at another batch size sums in another
        order (features ~1e-7 apart, as already between frames with different numbers of regions).
        """
        if not pairs:
            return []
        all_regions = self.backend.extract(pairs)
        appearance: list[np.ndarray | None] = [None] * len(all_regions)
        if "appearance" in self.model.densities:
            crops = (
                all_regions[0].crops
                if len(all_regions) == 1
                else np.concatenate([regions.crops for regions in all_regions])
            )
            embedded = self.model.encoder.embed(
                crops, device=self.device, normalise=self._normalise_appearance, precision=self._precision
            )
            ends = np.cumsum([len(regions.crops) for regions in all_regions])[:-1]
            appearance = np.split(embedded, ends)
        return [
            (regions, self.model.region_scores(regions, features)) for regions, features in zip(all_regions, appearance)
        ]

    def _frame_scores(
        self, regions: FrameRegions, region_scores: dict[str, np.ndarray]
    ) -> tuple[float, dict[str, float], list[RegionResult]]:
        attribute_scores = frame_attribute_scores(region_scores)
        shifts = self._baseline.shifts(attribute_scores)  # this stream's drift above the calibrated level
        if any(shifts.values()):
            region_scores = {name: scores - shifts.get(name, 0.0) for name, scores in region_scores.items()}
            attribute_scores = {name: value - shifts.get(name, 0.0) for name, value in attribute_scores.items()}
        results = []
        scale = self._pairs.box_scale
        boxes = regions.boxes if scale is None else regions.boxes * scale
        for i, box in enumerate(boxes):
            attributes = {name: float(scores[i]) for name, scores in region_scores.items() if not np.isnan(scores[i])}
            results.append(
                RegionResult(
                    box=tuple(int(round(v)) for v in box),
                    score=combine_attributes(attributes, self.combine),
                    attributes=attributes,
                    whole_frame=regions.whole_frame,
                )
            )
        return combine_attributes(attribute_scores, self.combine), attribute_scores, results

    def _advance(
        self, frame: np.ndarray, frame_index: int | None, previous: np.ndarray | None, time_s: float | None = None
    ) -> tuple[int, tuple[np.ndarray, np.ndarray] | None]:
        """Move the stream on by one frame: its index and the pair to score (None for a first frame, and for
        the frames between two scored ones where the stream is faster than the training footage)."""
        frame, index, pair = self._pairs.next(frame, frame_index, previous, time_s)
        self._view.add(frame)
        return index, pair

    def _result(self, index: int, time_s: float | None, scored: tuple | None) -> FrameResult:
        time_s = 0.0 if time_s is None else time_s
        if scored is None:
            if self._pairs.between and self._last_result is not None:  # what the last scored frame found
                return replace(self._last_result, frame_index=index, time_s=time_s)
            return FrameResult(index, time_s, 0.0, 0.0, False, {}, [])
        raw, attribute_scores, regions = self._frame_scores(*scored)
        score, smoothed = self._smoother.update(raw, attribute_scores)
        camera = self._camera.update(scored[0].camera, self._view.changed)
        self._last_result = FrameResult(
            index, time_s, score, raw, score >= self.threshold, attribute_scores, regions, smoothed, camera
        )
        return self._last_result

    def process(
        self,
        frame: np.ndarray,
        time_s: float | None = None,
        frame_index: int | None = None,
        previous: np.ndarray | None = None,
    ) -> FrameResult:
        """Score one frame of a live stream (causal: only this and earlier frames are used).

        ``previous`` is the frame that really came just before this one, when the caller has it:
        a live viewer that skips frames while the model is busy passes it, so that motion is
        measured between consecutive frames (as in training) and not across the gap.
        """
        index, pair = self._advance(frame, frame_index, previous, time_s)
        return self._result(index, time_s, self._score_pairs([pair])[0] if pair is not None else None)

    def score_frames(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        fps: float,
        centred: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> list[FrameResult]:
        """Score a whole sequence of (frame_index, frame); centred smoothing uses past and future alike."""
        self.reset()
        results = []
        for count, (index, frame) in enumerate(frames, start=1):
            results.append(self.process(frame, time_s=index / fps if fps else 0.0, frame_index=index))
            if progress is not None:
                progress(count)
        if centred and results:
            # over the scored frames' time, as trained: a stream scored one frame in k repeats each result k times
            sigma = self.smoothing_sigma * self._pairs.rate.step
            results = resmoothed(results, sigma, self.combine, centred=True)
            for result in results:
                result.is_anomaly = result.score >= self.threshold
        return results

    def score_video(
        self,
        path: str | Path,
        centred: bool = True,
        progress: Callable[[int], None] | None = None,
        fps: float | None = None,
    ) -> list[FrameResult]:
        """Score a video file or a frame folder (``fps``: its rate; a video file keeps its own)."""
        from aivad.video.files import probe_video, read_frames

        info = probe_video(Path(path), fps)
        return self.score_frames(read_frames(Path(path)), info.fps, centred=centred, progress=progress)


def process_batch(
    items: Sequence[tuple[Detector, np.ndarray, float | None, int | None, np.ndarray | None]],
) -> list[FrameResult]:
    """The next frame of several streams that share one loaded model, through it in one pass.

    ``items`` are (detector, frame, time_s, frame_index, previous), one per stream, as
    :meth:`Detector.process` takes them. The frame pairs go through one backend extraction and one
    encoder call (on a GPU several cameras then fill one batch); each stream keeps its own state,
    and the results equal what each detector's ``process`` returns, to float rounding in the
    encoder (tests/test_streams.py).
    """
    if not items:
        return []
    first = items[0][0]
    if any(item[0].model is not first.model for item in items):
        raise ValueError("process_batch: every detector must share one loaded model (Detector.sibling)")
    if len({id(item[0]) for item in items}) != len(items):
        raise ValueError("process_batch: a stream's frames are sequential; give each detector once")
    advanced = [detector._advance(frame, index, previous, time_s) for detector, frame, time_s, index, previous in items]
    # One backend does the extraction: siblings share the model and backend settings, and while a
    # batch runs no other thread uses any of these detectors.
    scored = iter(first._score_pairs([pair for _, pair in advanced if pair is not None]))
    return [
        detector._result(index, time_s, next(scored) if pair is not None else None)
        for (detector, _, time_s, _, _), (index, pair) in zip(items, advanced)
    ]
