"""Teaching a trained model what is normal: a stretch of video added to every attribute's normal memory, in a new file.

A false alarm that comes back every day is answered here, not by raising the threshold for every
event: the regions of the stretch the user says is normal are extracted as the model sees them (the
checkpoint's own backend and appearance encoder), and added to each attribute's memory. A kNN bank
gets them as rows (then capped by the same coreset rule as training); the velocity GMM gets a narrow
kernel at each taught row it still finds unusual, beside its own components, holding near the box it was
taught on (aivad.model.density.place_distances), so that velocity is lowered near what was taught, where
it was taught, and nowhere else. The result is a new checkpoint that records what it was
taught; the original file is never written. The window (aivad.ui) and ``python -m aivad teach``
(aivad.live.teach_command) both call :func:`teach`; it lives in the model stage so the window may.

Calibration stays honest by construction: after teaching, no region's attribute score can be higher
than it was before (see aivad.model.lessons.add_to_knn and add_to_gmm for why), so the stored threshold
and rate model stay valid, and the expected false-alarm rate the checkpoint states stays an upper
bound on footage like the held-out footage it was counted on. One thing can still raise a frame's
final score: the scene baseline (aivad.model.drift) takes off how far a stream's recent level sits
above the held-out level, and where teaching lowers that level, less is taken off (measured on a
development split: a cart missed before teaching alarmed after it; docs/alarms.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from aivad.errors import UserError
from aivad.model.lessons import add_to_gmm, add_to_knn

TAUGHT_SUFFIX = "_taught"
PAIRS_PER_BATCH = 16  # frame pairs through the backend and the encoder at once
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Stretch:
    """Frames FIRST..LAST (inclusive) of one video that the user says are normal."""

    video: Path
    first: int
    last: int


def parse_frames(text: str) -> tuple[int, int]:
    """``FIRST:LAST`` (inclusive frame indices) -> (first, last)."""
    parts = str(text).split(":")
    try:
        first, last = (int(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        first = last = None
    if first is None or first < 0 or last < first:
        raise UserError(
            f"--frames {text} is not a frame range; give FIRST:LAST with 0 <= FIRST <= LAST, e.g. --frames 120:180."
        )
    return first, last


def default_output(checkpoint: Path) -> Path:
    """``<stem>_taught.ckpt`` beside the checkpoint; ``_taught2``, ``_taught3`` ... when that exists."""
    checkpoint = Path(checkpoint)
    stem = checkpoint.stem
    base = stem[: stem.rindex(TAUGHT_SUFFIX)] if TAUGHT_SUFFIX in stem else stem
    number = 1
    while True:
        name = f"{base}{TAUGHT_SUFFIX}{'' if number == 1 else number}{checkpoint.suffix}"
        candidate = checkpoint.with_name(name)
        if candidate != checkpoint and not candidate.exists():
            return candidate
        number += 1


def video_identity(path: Path) -> str:
    """The file's content hash: the same recording under another name or folder is the same video."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def taught_frames(records: list[dict], identity: str) -> set[int]:
    """Frames of the video ``identity`` that earlier lessons already taught."""
    out: set[int] = set()
    for record in records:
        for stretch in record.get("stretches", []):
            if stretch.get("video_id") == identity:
                out.update(range(int(stretch["first"]), int(stretch["last"]) + 1))
    return out


def runs(frames: list[int]) -> list[tuple[int, int]]:
    """Sorted frame indices as (first, last) runs of consecutive frames."""
    out: list[tuple[int, int]] = []
    for frame in frames:
        if out and frame == out[-1][1] + 1:
            out[-1] = (out[-1][0], frame)
        else:
            out.append((frame, frame))
    return out


def check_request(checkpoint: Path, output: Path) -> None:
    from aivad.errors import check_output_paths

    if not Path(checkpoint).is_file():
        raise UserError(f"checkpoint {checkpoint} does not exist; check the path.")
    if Path(output).resolve() == Path(checkpoint).resolve():
        raise UserError(
            f"--output {output} is the checkpoint being taught; teaching never overwrites it, give another name "
            f"(or leave --output out for {default_output(checkpoint).name})."
        )
    check_output_paths({"--output": Path(output)}, inputs={"checkpoint": Path(checkpoint)})


def extract_stretch(model, backend, path: Path, first: int, last: int, device: str, training_size=None, step: int = 1):
    """Per attribute, the feature rows of the regions of frames first..last, as the model scores them,
    and their places (aivad.model.density.box_places), row for row. As the detector pairs a live stream's
    frames (aivad.live.frame_pairs): ``training_size`` is the (width, height) of the model's training
    footage, to which frames of another size with its aspect are scaled first; with ``step`` k > 1 (a video
    faster than the training footage) every k-th frame is paired with the frame k before it."""
    from aivad.model.aivad_model import appearance_rows, attribute_present, attribute_rows
    from aivad.model.density import PLACE_COLUMNS, box_places
    from aivad.video.files import iter_frame_pairs
    from aivad.video.frame_size import FrameSizer

    config = model.config
    rows: dict[str, list[np.ndarray]] = {name: [] for name in model.densities}
    places: dict[str, list[np.ndarray]] = {name: [] for name in model.densities}
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    normalise = config.appearance_features == "normalised"
    sizer = FrameSizer(training_size)

    def flush() -> None:
        for regions in backend.extract(pending) if pending else []:
            appearance = None
            if "appearance" in model.densities and len(regions.crops):
                appearance = model.encoder.embed(
                    regions.crops, device=device, normalise=normalise, precision=config.inference_precision
                )
            region_places = box_places(regions.boxes)
            for name in model.densities:
                found = (
                    appearance_rows(appearance, regions.frozen, config)
                    if name == "appearance"
                    else attribute_rows(name, regions.frozen, regions.boxes, config)
                )
                if found is None:
                    continue
                found = np.asarray(found, dtype=np.float32)
                present = attribute_present(found)
                rows[name].append(found[present])
                places[name].append(region_places[present])
        pending.clear()

    # A frame's regions come from it and the frame before (motion), as the detector scores it: frame 0 has none.
    if step == 1:
        pairs = iter_frame_pairs(path, start=max(first, 1))
    else:
        pairs = frames_step_apart(path, first, step)
    for index, previous, frame in pairs:
        if index > last:
            break
        pending.append((sizer.fit(previous).copy(), sizer.fit(frame).copy()))  # the reader reuses its arrays
        if len(pending) >= PAIRS_PER_BATCH:
            flush()
    flush()
    return (
        {name: np.concatenate(parts) if parts else np.zeros((0, 0), np.float32) for name, parts in rows.items()},
        {name: np.concatenate(parts) if parts else np.zeros((0, PLACE_COLUMNS)) for name, parts in places.items()},
    )


def frames_step_apart(path: Path, first: int, step: int):
    """(index, frame index - step, frame) for the frames from ``first`` on whose index is a multiple of ``step``
    away from it and that have a frame ``step`` before them."""
    from collections import deque

    from aivad.video.files import read_frames

    recent: deque = deque(maxlen=step + 1)
    for index, frame in read_frames(path, start=max(first - step, 0)):
        recent.append(frame)
        if index >= first and (index - first) % step == 0 and len(recent) == step + 1:
            yield index, recent[0], frame


def teach(checkpoint: Path, stretches: list[Stretch], output: Path, device: str = "auto", log=print) -> dict:
    """Write ``output``: ``checkpoint`` with the regions of ``stretches`` in every attribute's normal memory.

    Frames an earlier lesson of this checkpoint already taught (same video content, same frames) are
    left out, so teaching the same stretch twice adds nothing the second time. Returns the lesson's record.
    """
    from aivad.devices import choose_device
    from aivad.features.backends import build_backend
    from aivad.features.weights import WeightsSource
    from aivad.model.aivad_model import AiVadModel
    from aivad.model.checkpoint import load_raw, require_known, save_checkpoint, save_json, summary_path
    from aivad.model.config import ModelConfig
    from aivad.video.files import inspect_video
    from aivad.video.frame_rate import frame_step, training_frame_rate
    from aivad.video.frame_size import training_frame_size

    checkpoint, output = Path(checkpoint), Path(output)
    check_request(checkpoint, output)
    data = load_raw(checkpoint)
    if require_known(checkpoint, data) != "aivad":
        raise UserError(
            f"{checkpoint} was written by anomalib's AiVad; fine-tune a model of this project from it first "
            "(train_aivad_finetune.py --init-checkpoint), then teach that one."
        )
    config = ModelConfig.from_dict(data["hyper_parameters"])
    model = AiVadModel.empty(config)
    model.load_state_dict(data["state_dict"])
    model.eval()
    summary = dict(data["aivad"])
    lessons = [dict(r) for r in summary.get("taught", [])]
    choice = choose_device(device)
    backend = build_backend(config, WeightsSource(config.weights), choice.device)
    model.encoder.to(choice.device)
    found: dict[str, list[np.ndarray]] = {name: [] for name in model.densities}
    where: dict[str, list[np.ndarray]] = {name: [] for name in model.densities}  # their places, row for row
    done, skipped = [], []
    for stretch in stretches:
        info = inspect_video(stretch.video)
        if isinstance(info, str):
            raise UserError(f"the video {stretch.video} cannot be used ({info}); check the path and that it plays.")
        step = frame_step(info.fps, training_frame_rate(summary))  # as the detector scores this video
        if stretch.first >= info.n_frames:
            raise UserError(
                f"--frames {stretch.first}:{stretch.last}: {stretch.video} has {info.n_frames} frames "
                f"(0 to {info.n_frames - 1}); give a range inside it."
            )
        last = min(stretch.last, info.n_frames - 1)
        identity = video_identity(stretch.video)
        seen = taught_frames(lessons, identity) | taught_frames([{"stretches": done}], identity)
        fresh = [f for f in range(stretch.first, last + 1) if f not in seen]
        if len(fresh) < last - stretch.first + 1:
            old = [f for f in range(stretch.first, last + 1) if f in seen]
            skipped += [f"{stretch.video.name} {first}:{end}" for first, end in runs(old)]
        for first, end in runs(fresh):
            log(f"teach: extracting the regions of {stretch.video} frames {first}:{end} ...")
            rows_found, places_found = extract_stretch(
                model, backend, stretch.video, first, end, choice.device, training_frame_size(summary), step
            )
            for name, rows in rows_found.items():
                found[name].append(rows)
                where[name].append(places_found[name])
            done.append({"video": str(stretch.video), "video_id": identity, "first": first, "last": end})
    if skipped:
        log(f"teach: already taught, not added again: {', '.join(skipped)}")
    regions, memory = {}, {}
    for name, density in model.densities.items():
        parts = [p for p in found[name] if len(p)]
        rows = torch.from_numpy(np.concatenate(parts)) if parts else torch.zeros(0)
        regions[name] = int(len(rows))
        if not len(rows):
            continue
        if hasattr(density, "bank"):
            memory[name] = add_to_knn(density, rows)
        else:
            places = torch.from_numpy(np.concatenate([p for p in where[name] if len(p)]))
            memory[name] = add_to_gmm(density, rows, places)
    record = {
        "at": datetime.now().isoformat(timespec="seconds"),
        "from": str(checkpoint),
        "stretches": done,
        "regions": regions,
        "memory": memory,
    }
    if done:
        lessons.append(record)
    summary.update(taught=lessons, taught_from=summary.get("taught_from") or str(checkpoint))
    payload = {**data, "state_dict": model.state_dict(), "aivad": summary}
    save_checkpoint(output, payload)
    save_json(summary_path(output), summary)
    added = ", ".join(f"{name} {count}" for name, count in regions.items())
    log(f"teach: wrote {output} ({'regions added: ' + added if done else 'nothing new to teach'})")
    for name, change in memory.items():
        lowered = lowered_everywhere(model.densities[name], change.get("scale_shift", 0.0))
        if lowered >= NOTICEABLE_LOWERING:
            # Why say so: a kNN bank over its cap drops old rows, and keeping "no score rises" then moves the
            # scale's ends, which lowers this attribute for every region, real events included. The user
            # should check that the events that matter still alarm. (The velocity GMM never shifts its scale.)
            log(
                f"teach: note: {name} scores are now up to {lowered:.2f} lower for every region, not only near "
                "the taught stretch; score a video with a real event to check that it still alarms, or undo."
            )
    return record


NOTICEABLE_LOWERING = 0.1  # of the calibrated scale (1 = the alarm level of normal footage)


def lowered_everywhere(density, shift: float) -> float:
    """How much a scale shift of ``shift`` (raw units) lowers every calibrated score of this density."""
    spread = float(density.high) - float(density.low)
    return shift / spread if spread > 0 else 0.0


def taught_lines(info: dict) -> list[str]:
    """What ``python -m aivad info`` says about what a checkpoint was taught."""
    lines = []
    for lesson in info.get("taught", []):
        regions = ", ".join(f"{name} {count}" for name, count in lesson.get("regions", {}).items())
        for stretch in lesson.get("stretches", []):
            lines.append(f"taught:     {stretch['video']} frames {stretch['first']}:{stretch['last']} ({lesson['at']})")
        lines.append(f"            regions added: {regions}")
    return lines
