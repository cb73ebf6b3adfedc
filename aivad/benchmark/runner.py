"""One benchmark run: train on the dataset's training videos, score every test video, report the protocol's figures.

What lands in ``--out`` (every file written atomically):

- ``model.ckpt`` (and its ``.json`` summary), trained by the training pipeline with the from-scratch preset
  and the dataset preset's flags; ``training/`` holds its shard cache and resumable state, and
  ``training_settings.json`` what it was trained with. A stopped run resumes: finished extraction shards
  are reused, the encoder continues from its last epoch, and a finished checkpoint is not trained again;
- ``frames/<video>.csv``: per test video, one row per frame (frame, score, smoothed_score, label and each
  attribute's frame maximum), written as soon as the video is scored; ``regions/<video>.csv`` its regions
  (frame, box, score). A rerun scores only the videos without a finished CSV;
- ``benchmark.json``: every figure, the preset applied, backend, epochs and frames counted.

The first frame of a video has no previous frame. The authors pad their first frame pair with the frame
itself (zero flow, regions from that frame alone) and score it; anomalib never scores it. We do as the
authors: the first frame is scored as the pair (frame 0, frame 0), so every frame counts, as in their figures.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import numpy as np

from aivad.console import log
from aivad.errors import UserError

PAPER_MICRO_AUROC = {"ped2": 0.991, "avenue": 0.937, "shanghaitech": 0.859}  # arXiv 2212.00789, latest version
FRAME_COLUMNS = ["frame", "score", "smoothed_score", "label"]
RESUME_HINT = "run the same benchmark command again to continue where it stopped"


def run_benchmark(args) -> int:
    from aivad.benchmark.datasets import read_benchmark
    from aivad.benchmark.presets import PRESETS, preset_notes

    started = time.time()
    benchmark = read_benchmark(args.dataset, args.root)  # every label checked before any model loads
    preset = PRESETS[args.dataset]
    out = args.out or Path(f"benchmark_{args.dataset}_{args.backend}")
    out.mkdir(parents=True, exist_ok=True)
    n_test = sum(video.n_frames for video in benchmark.test)
    log(
        f"benchmark {args.dataset}: {len(benchmark.train)} training videos, {len(benchmark.test)} test videos "
        f"({n_test} frames) in {benchmark.root}; results in {out}"
    )
    if benchmark.label_source is not None:
        log(f"benchmark {args.dataset}: labels from {benchmark.label_source}")
    timings = {}
    try:
        stage = time.time()
        checkpoint, epochs = train_model(args, benchmark, preset, out)
        if checkpoint is None:
            log(f"benchmark: training did not finish; {RESUME_HINT}")
            return 130
        timings["training_s"] = round(time.time() - stage, 1)
        stage = time.time()
        scored = score_test_videos(args, benchmark, preset, checkpoint, out)
        timings["scoring_s"] = round(time.time() - stage, 1)
    except KeyboardInterrupt:  # Ctrl+C: what is finished stays; say how to go on
        log(f"benchmark: stopped; {RESUME_HINT}")
        return 130
    report = make_report(args, benchmark, preset, scored, epochs, checkpoint)
    report["preset_notes"] = preset_notes(args.dataset, args.backend)
    report["timings"] = {**timings, "total_s": round(time.time() - started, 1)}
    write_text(out / "benchmark.json", json.dumps(report, indent=2) + "\n")
    print(format_report(report))
    print(f"wrote {out / 'benchmark.json'} and {len(benchmark.test)} per-frame CSVs in {out / 'frames'}")
    return 0


# --------------------------------------------------------------------------- training


def from_scratch_preset() -> dict:
    """The from-scratch training preset, read from the checkout's train_aivad_from_scratch.py (its one home)."""
    import runpy

    script = Path(__file__).resolve().parents[2] / "train_aivad_from_scratch.py"
    if not script.is_file():
        raise UserError(
            "python -m aivad benchmark runs from a checkout of this project (train_aivad_from_scratch.py is missing)."
        )
    return dict(runpy.run_path(str(script))["PRESET"])


def training_argv(args, benchmark, preset, out: Path, epochs: int) -> list[str]:
    from aivad.benchmark.presets import training_flags

    argv = ["--videos", *[str(p) for p in benchmark.train], "--backend", args.backend, "--epochs", str(epochs)]
    argv += ["--output", str(out / "model.ckpt"), "--run-dir", str(out / "training"), "--device", args.device]
    argv += ["--weights", args.weights, *training_flags(preset)]
    if args.num_workers is not None:
        argv += ["--num-workers", str(args.num_workers)]
    if preset.frame_fps is not None:  # the rate of frame folders, which their images cannot say
        argv += ["--fps", f"{preset.frame_fps:g}"]
    if args.weights_dir is not None:
        argv += ["--weights-dir", str(args.weights_dir)]
    if args.max_frames_per_video is not None:
        argv += ["--max-frames-per-video", str(args.max_frames_per_video)]
    return argv


def train_model(args, benchmark, preset, out: Path) -> tuple[Path | None, int]:
    """The trained checkpoint (trained now, resumed, or reused) and the epochs it was trained for."""
    from aivad.benchmark.presets import training_flags
    from aivad.training.pipeline import main as train

    training = from_scratch_preset()
    epochs = training["epochs"] if args.epochs is None else args.epochs
    if not preset.appearance and epochs:
        log(f"training: {args.dataset} scores no appearance (the authors' setting), so the encoder is not trained")
        epochs = 0
    argv = training_argv(args, benchmark, preset, out, epochs)
    checkpoint, settings_file = out / "model.ckpt", out / "training_settings.json"
    settings = {"dataset": args.dataset, "root": str(benchmark.root), "training_argv": argv}
    if settings_file.is_file():
        previous = json.loads(settings_file.read_text(encoding="utf-8"))
        if previous != settings:
            raise UserError(
                f"{out} holds a benchmark run with other settings ({settings_file}); give another --out, or delete "
                "that folder to start over."
            )
    write_text(settings_file, json.dumps(settings, indent=2) + "\n")
    if checkpoint.is_file():
        log(f"training: {checkpoint} is already trained with these settings; reusing it")
        return checkpoint, epochs
    log(f"training: {args.backend} backend, {epochs} encoder epoch(s), preset {' '.join(training_flags(preset))}")
    code = train([*argv, "--resume"], training)
    if code != 0 or not checkpoint.is_file():
        return None, epochs
    return checkpoint, epochs


# --------------------------------------------------------------------------- scoring


def score_test_videos(args, benchmark, preset, checkpoint: Path, out: Path) -> list[dict]:
    """Per test video: labels, smoothed scores and region detections, from its CSVs where they are finished."""
    from aivad.live.detector import Detector

    frames_dir, regions_dir = out / "frames", out / "regions"
    frames_dir.mkdir(exist_ok=True)
    regions_dir.mkdir(exist_ok=True)
    stamp = checkpoint_stamp(checkpoint)
    stamp_file = frames_dir / "model.txt"
    if not stamp_file.is_file() or stamp_file.read_text(encoding="utf-8").strip() != stamp:
        for stale in [*frames_dir.glob("*.csv"), *regions_dir.glob("*.csv")]:  # scored by another model
            stale.unlink()
        write_text(stamp_file, stamp + "\n")
    detector = None
    scored = []
    for number, video in enumerate(benchmark.test, start=1):
        frames_csv, regions_csv = frames_dir / f"{video.name}.csv", regions_dir / f"{video.name}.csv"
        finished = read_frame_csv(frames_csv, video.n_frames)
        if finished is None:
            if detector is None:
                detector = Detector.load(checkpoint, device=args.device, weights_dir=args.weights_dir)
                log(f"scoring: device {detector.device}; backend {detector.backend_name}")
            started = time.time()
            attributes, detections, size = score_video(detector, video.path, preset.frame_fps)
            if len(next(iter(attributes.values()))) != video.n_frames:
                raise UserError(f"{video.path}: decoded a different number of frames than its labels cover.")
            write_regions_csv(regions_csv, detections)
            write_frame_csv(frames_csv, video.labels, attributes, detector.combine, preset.smoothing_sigma)
            finished = read_frame_csv(frames_csv, video.n_frames)
            log(
                f"scoring: {number}/{len(benchmark.test)} {video.name}: {video.n_frames} frames in "
                f"{time.time() - started:.1f} s"
            )
        scored.append({"video": video, "smoothed": finished, "regions_csv": regions_csv})
    return scored


def checkpoint_stamp(checkpoint: Path) -> str:
    status = checkpoint.stat()
    return f"{status.st_size}-{status.st_mtime_ns}"


def score_video(detector, path: Path, fps: float | None):
    """(attribute frame maxima {name: (T,)}, per frame (boxes, scores) of its regions, (width, height))."""
    from aivad.video.files import probe_video, read_frames

    info = probe_video(path, fps)
    detector.reset()
    attributes: dict[str, list[float]] = {}
    detections = []
    for index, frame in read_frames(path):
        # the first frame pairs with itself, as the authors do (module docstring)
        result = detector.process(frame, index / info.fps, frame_index=index, previous=frame if index == 0 else None)
        for name, value in result.attribute_scores.items():
            attributes.setdefault(name, []).append(value)
        kept = [r for r in result.regions if not r.whole_frame]
        detections.append(
            (np.array([r.box for r in kept], dtype=np.float64).reshape(-1, 4), np.array([r.score for r in kept]))
        )
    return {name: np.array(values) for name, values in attributes.items()}, detections, (info.width, info.height)


def write_frame_csv(path: Path, labels: np.ndarray, attributes: dict, combine: str, sigma: float) -> None:
    from aivad.benchmark.protocol import smoothed_frame_scores
    from aivad.model.scoring import combine_attributes

    names = list(attributes)
    raw = [combine_attributes({n: float(attributes[n][t]) for n in names}, combine) for t in range(len(labels))]
    smoothed = smoothed_frame_scores(attributes, combine, sigma)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([*FRAME_COLUMNS, *names])
    for t in range(len(labels)):
        values = [f"{attributes[n][t]:.9g}" for n in names]
        writer.writerow([t, f"{raw[t]:.9g}", f"{smoothed[t]:.17g}", int(labels[t]), *values])
    write_text(path, text.getvalue())


def read_frame_csv(path: Path, n_frames: int) -> np.ndarray | None:
    """The smoothed scores of a finished per-frame CSV; None when it is missing or incomplete."""
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != n_frames:
        return None
    return np.array([float(row["smoothed_score"]) for row in rows])


def write_regions_csv(path: Path, detections) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["frame", "x0", "y0", "x1", "y1", "score"])
    for t, (boxes, scores) in enumerate(detections):
        for box, score in zip(boxes, scores):
            writer.writerow([t, *[f"{v:g}" for v in box], f"{score:.9g}"])
    write_text(path, text.getvalue())


def read_regions_csv(path: Path, n_frames: int) -> list[tuple[np.ndarray, np.ndarray]]:
    per_frame: list[list] = [[] for _ in range(n_frames)]
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            per_frame[int(row["frame"])].append([float(row[k]) for k in ("x0", "y0", "x1", "y1", "score")])
    out = []
    for rows in per_frame:
        array = np.array(rows, dtype=np.float64).reshape(-1, 5)
        out.append((array[:, :4], array[:, 4]))
    return out


def write_text(path: Path, text: str) -> None:
    from aivad.model.checkpoint import atomic_write_bytes

    data = text.encode("utf-8")
    atomic_write_bytes(path, lambda handle: handle.write(data))


# --------------------------------------------------------------------------- report


def make_report(args, benchmark, preset, scored: list[dict], epochs: int, checkpoint: Path) -> dict:
    from aivad.benchmark.protocol import frame_metrics

    metrics = frame_metrics([s["video"].labels for s in scored], [s["smoothed"] for s in scored])
    for entry, item in zip(metrics["per_video"], scored):
        entry["video"] = item["video"].name
    report = {
        "dataset": args.dataset,
        "root": str(benchmark.root),
        "backend": args.backend,
        "epochs": epochs,
        "checkpoint": str(checkpoint),
        "preset": preset.to_dict(),
        "paper_micro_auroc": PAPER_MICRO_AUROC[args.dataset],
        "first_frame": "scored as the pair (frame 0, frame 0), as the authors do",
        "test_videos": len(scored),
        **metrics,
    }
    report.update(region_figures(benchmark, scored, args))
    return report


def region_figures(benchmark, scored: list[dict], args) -> dict:
    """RBDC and TBDC over the test videos that have pixel masks (None where none has)."""
    from aivad.benchmark.region_metrics import RegionTally
    from aivad.video.files import probe_video

    tally = RegionTally()
    for item in scored:
        video = item["video"]
        if video.masks is None:
            continue
        masks = video.masks()
        info = probe_video(video.path, None)
        scale = (info.width / masks.shape[2], info.height / masks.shape[1])
        tally.add_video(masks, read_regions_csv(item["regions_csv"], video.n_frames), scale)
    if tally.videos == 0:
        return {"rbdc": None, "tbdc": None, "region_metrics": None}
    criteria = tally.criteria()
    return {
        "rbdc": criteria.pop("rbdc"),
        "tbdc": criteria.pop("tbdc"),
        "region_metrics": {**criteria, "videos": tally.videos},
    }


def format_report(report: dict) -> str:
    def figure(value) -> str:
        return "-" if value is None else f"{value:.4f}"

    preset = report["preset"]
    lines = [
        f"benchmark {report['dataset']}: {report['backend']} backend, {report['epochs']} encoder epoch(s); preset: "
        f"sigma {preset['smoothing_sigma']:g}, velocity GMM {preset['velocity_components']} components, "
        f"{preset['velocity_bins']} direction bin(s), velocity in {preset['velocity_units']}, appearance "
        f"{'on' if preset['appearance'] else 'off'}",
        f"frames: {report['frames']} in {report['test_videos']} test videos ({report['anomalous_frames']} anomalous)",
        f"{'':<26}{'yours':>8}{'paper':>8}",
        f"{'micro AUROC (frames)':<26}{figure(report['micro_auroc']):>8}{figure(report['paper_micro_auroc']):>8}",
        f"{'macro AUROC (videos)':<26}{figure(report['macro_auroc']):>8}{'-':>8}",
        f"{'average precision':<26}{figure(report['average_precision']):>8}{'-':>8}",
        f"{'RBDC':<26}{figure(report['rbdc']):>8}{'-':>8}",
        f"{'TBDC':<26}{figure(report['tbdc']):>8}{'-':>8}",
    ]
    if report.get("preset_notes"):
        lines.append(f"note: {report['preset_notes']}")
    per_video = ", ".join(f"{v['video']} {figure(v['auroc'])}" for v in report["per_video"])
    lines.append(f"per-video AUROC (- = one class only): {per_video}")
    return "\n".join(lines)
