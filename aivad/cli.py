"""``python -m aivad score | evaluate | info | teach | bench | watch | benchmark``: models from the command line."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from aivad.benchmark.command import add_benchmark_command
from aivad.devices import DEVICE_CHOICES, INFERENCE_PRECISIONS
from aivad.errors import UserError
from aivad.live import teach_command
from aivad.live.watch import add_watch_command
from aivad.video.frame_folders import add_fps_option
from aivad.video.frame_rate import rate_message
from aivad.video.frame_size import resize_message


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aivad", description="Score videos with a trained AI-VAD checkpoint."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub):
        sub.add_argument(
            "checkpoint", type=Path, help="checkpoint written by the training scripts (or anomalib's AiVad)"
        )
        sub.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
        sub.add_argument(
            "--weights-dir",
            type=Path,
            default=None,
            help="folder with the pretrained weight files (full backend, offline)",
        )
        sub.add_argument(
            "--weights",
            choices=("pretrained", "random"),
            default=None,
            help="frozen networks' weights (default: as the checkpoint was trained)",
        )
        sub.add_argument(
            "--inference-precision",
            choices=INFERENCE_PRECISIONS,
            default=None,
            help=(
                "full backend: networks' precision (default: as trained; bf16 ~2x faster on AVX512-BF16/AMX "
                "CPUs, scores change slightly)"
            ),
        )
        sub.add_argument("--threshold", type=float, default=None, help="override the checkpoint's calibrated threshold")
        sub.add_argument(
            "--smoothing-sigma", type=float, default=None, help="override the temporal smoothing (frames; 0 = off)"
        )
        sub.add_argument(
            "--causal", action="store_true", help="smooth with past frames only, as live use does (default: centred)"
        )
        add_fps_option(sub)
        sub.add_argument("--debug", action="store_true", help="show full tracebacks")

    score = commands.add_parser(
        "score",
        help="one CSV row per frame, optional annotated video",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    common(score)
    score.add_argument("video", type=Path, help="video file, or frame folder (a folder of numbered images)")
    score.add_argument("--csv", type=Path, required=True, help="per-frame scores to write")
    score.add_argument(
        "--annotated", type=Path, default=None, help="also write a video with region boxes and the frame score"
    )
    score.add_argument(
        "--zones",
        type=Path,
        default=None,
        help='JSON {"zones": [[[x, y], ...]], "roi": false} in 0..1 coordinates, as the UI keeps them: regions in '
        "the zones are ignored (roi true: only they count); the scores are then causal, as in the live view",
    )
    score.add_argument(
        "--events",
        type=Path,
        default=None,
        help=(
            "also write the alarm events the live view would raise "
            "(checkpoint's hysteresis, minimum duration and merge gap)"
        ),
    )
    score.add_argument(
        "--events-db",
        type=Path,
        default=None,
        help="also add those events to an event history database, e.g. the window's events.sqlite3 in its event "
        "folder (camera = the video's file name)",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="frame-level AUROC, AP and best F1 against labels",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    common(evaluate)
    evaluate.add_argument("video", type=Path, help="video file, or frame folder (a folder of numbered images)")
    evaluate.add_argument(
        "--labels", type=Path, required=True, help=".npy with one 0/1 per frame, or CSV with frame_index,label"
    )
    evaluate.add_argument("--csv", type=Path, default=None, help="also write the per-frame scores")
    evaluate.add_argument(
        "--segments",
        type=Path,
        default=None,
        help="CSV name,first_frame,last_frame of the anomalies (default: runs of anomalous labels)",
    )
    evaluate.add_argument(
        "--boxes",
        type=Path,
        default=None,
        help="CSV frame_index,name,x0,y0,x1,y1 of the anomalous objects: is the alarm's top region on them?",
    )
    evaluate.add_argument("--json", type=Path, default=None, help="also write every figure as JSON")

    info = commands.add_parser("info", help="what a checkpoint is and what it was trained on")
    info.add_argument("checkpoint", type=Path)
    info.add_argument("--debug", action="store_true")

    teach_command.add_parser(commands)
    bench = commands.add_parser("bench", help="time every stage per backend (benchmarks/stage_speed.py)")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    add_watch_command(commands)  # cameras without a window: aivad/live/watch.py
    add_benchmark_command(commands)  # the public datasets by the authors' protocol: aivad/benchmark/
    return parser


def bench_main(argv: list[str]) -> int:
    """The stage timer lives with the other benchmarks, in the checkout's benchmarks/ folder."""
    folder = Path(__file__).resolve().parents[1] / "benchmarks"
    if not (folder / "stage_speed.py").is_file():
        raise UserError(
            "python -m aivad bench runs from a checkout of this project (benchmarks/stage_speed.py is missing)."
        )
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    from stage_speed import main

    return main(argv)


def load_detector(args):
    from aivad.live.detector import Detector

    detector = Detector.load(
        args.checkpoint,
        device=args.device,
        weights_dir=args.weights_dir,
        weights=args.weights,
        inference_precision=args.inference_precision,
    )
    if args.threshold is not None:
        detector.threshold = args.threshold
    if args.smoothing_sigma is not None:
        if args.smoothing_sigma < 0:
            raise UserError("--smoothing-sigma cannot be negative.")
        detector.smoothing_sigma = args.smoothing_sigma
    return detector


def check_paths(args):
    """Every path the command reads or writes, before the model loads; returns the video's VideoInfo."""
    from aivad.errors import check_output_paths
    from aivad.video.files import inspect_video

    inputs = {"checkpoint": args.checkpoint, "VIDEO": args.video}
    if args.command == "score":
        outputs = {"--csv": args.csv, "--annotated": args.annotated, "--events": args.events}
        outputs["--events-db"] = args.events_db
        inputs["--zones"] = args.zones
    else:
        outputs = {"--csv": args.csv, "--json": args.json}
        inputs.update({"--labels": args.labels, "--segments": args.segments, "--boxes": args.boxes})
    check_output_paths(outputs, inputs=inputs)
    for flag, path in inputs.items():
        if flag == "VIDEO" or path is None:
            continue
        if not path.exists():
            raise UserError(f"{flag} {path} does not exist; check the path and run again.")
        if path.is_dir():
            raise UserError(f"{flag} {path} is a folder; give the path of a file in it.")
    info = inspect_video(args.video, args.fps)
    if isinstance(info, str):  # the command line named it: say so, not the training scripts' video list
        raise UserError(
            f"the video {args.video} given to python -m aivad {args.command} cannot be used ({info}); check the "
            "path and that the file plays in a video player, then run again."
        )
    return info


def score_with_progress(detector, video: Path, info, centred: bool):
    show = sys.stderr.isatty() or info.n_frames > 200

    def progress(done: int) -> None:
        if show and (done % 25 == 0 or done == info.n_frames):
            print(f"\r  scored {done}/{info.n_frames} frames", end="", file=sys.stderr, flush=True)

    results = detector.score_video(video, centred=centred, progress=progress, fps=info.fps)
    if show:
        print(file=sys.stderr)
    return results, info


def load_labels(path: Path, n_frames: int) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"labels file {path} does not exist.")
    if path.suffix.lower() == ".npy":
        labels = np.load(path, allow_pickle=False).astype(int).ravel()
    else:
        labels = np.zeros(n_frames, int)
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"frame_index", "label"} <= set(reader.fieldnames):
                raise UserError(f"labels CSV {path} needs the columns frame_index,label.")
            for row in reader:
                index = int(row["frame_index"])
                if 0 <= index < n_frames:
                    labels[index] = int(row["label"])
    if len(labels) != n_frames:
        raise UserError(
            f"labels file {path} has {len(labels)} labels but the video has {n_frames} frames; they must "
            "match one to one."
        )
    if labels.min() == labels.max():
        raise UserError(
            f"labels file {path} holds only one class; AUROC needs both normal (0) and anomalous (1) frames."
        )
    return labels


def frame_metrics(labels: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
        "best_f1": float(f1[best]),
        "best_f1_threshold": float(thresholds[best]) if len(thresholds) else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # argparse's REMAINDER refuses options right after the sub-command: pass them on whole
        return bench_main(argv[1:])
    args = get_args_parser().parse_args(argv)
    if args.command == "info":
        from aivad.live.info_command import print_info

        return print_info(args.checkpoint)
    if args.command == "watch":
        from aivad.live.watch import run_watch

        return run_watch(args)
    if args.command == "teach":
        return teach_command.main(args)
    if args.command == "benchmark":
        return args.run(args)
    video_info = check_paths(args)  # a wrong path fails now, not after the whole video is scored
    detector = load_detector(args)
    print(
        f"device: {detector.device} ({detector.info.get('device_reason', '')}); backend "
        f"{detector.backend_name}; threshold {detector.threshold:.4f}",
        file=sys.stderr,
    )
    if "precision_warning" in detector.info:
        print(f"warning: {detector.info['precision_warning']}", file=sys.stderr)
    results, info = score_with_progress(detector, args.video, video_info, centred=not args.causal)
    rate = detector.frame_rate
    for note in (
        resize_message(detector.resized_from, detector.training_size),
        rate_message(rate.stream_fps, rate.training_fps, rate.step),
    ):
        if note:
            print(note, file=sys.stderr)
    if args.command == "score":
        from aivad.live.render import write_annotated
        from aivad.live.results import write_csv

        if args.zones is not None or args.events is not None or args.events_db is not None:
            results = decide(args, detector, results, info)
        write_csv(args.csv, results)
        if args.annotated is not None:
            write_annotated(args.annotated, args.video, results, detector.threshold, info.fps)
        n_alarm = sum(r.is_anomaly for r in results)
        print(f"wrote {args.csv}: {len(results)} frames, {n_alarm} above threshold {detector.threshold:.4f}")
        return 0
    return evaluate(args, detector, results, info)


def decide(args, detector, results, info):
    """The live view's decisions (aivad.live.decision) over the whole video; writes --events."""
    from aivad.live.decision import Decider, DecisionSettings, decide_all, event_csv_row, load_zones, write_events_csv

    zones, roi = load_zones(args.zones) if args.zones is not None else ([], False)
    decider = Decider()
    fps = info.fps or 10.0
    decider.configure(
        DecisionSettings.of_detector(detector, zones=zones, zones_are_roi=roi),
        detector.threshold,
        detector.combine,
        fps,
    )
    decided, events = decide_all(results, decider, info.width, info.height)
    if args.events is not None:
        write_events_csv(
            args.events,
            [event_csv_row(i, str(args.video), e, camera=Path(args.video).name) for i, e in enumerate(events, start=1)],
        )
        print(f"wrote {args.events}: {len(events)} event(s)")
    if args.events_db is not None:
        keep_in_history(args.events_db, args.video, events, decided)
    return decided if zones else results


def keep_in_history(path: Path, video: Path, events, decided) -> None:
    """--events-db: the same history the window keeps (aivad.live.event_store), one committed row per event."""
    from aivad.live.event_store import EventStore, StoredEvent, peak_region

    by_index = {r.frame_index: r for r in decided}
    with EventStore(path) as store:
        for event in events:
            peak = by_index.get(event.peak_frame)
            region = peak_region(peak.regions) if peak is not None else None
            store.add(StoredEvent.of(event, video.name, region=region, source=str(video)))
    print(f"wrote {path}: {len(events)} event(s) added to the event history")


def evaluate(args, detector, results, info) -> int:
    """Frame metrics in the smoothing asked for; events always from causal scores, as live use sees them."""
    import json

    from aivad.live.evaluation import event_report, format_report, load_boxes, load_segments
    from aivad.live.results import write_csv
    from aivad.model.scoring import resmoothed

    labels = load_labels(args.labels, len(results))
    segments = load_segments(args.segments) if args.segments is not None else None
    boxes = load_boxes(args.boxes) if args.boxes is not None else None
    metrics = frame_metrics(labels, np.array([r.score for r in results]))
    if args.csv is not None:
        write_csv(args.csv, results)
    if not args.causal:  # the results were smoothed centred: smooth their raw scores causally for the events
        results = resmoothed(results, detector.smoothing_sigma, detector.combine, centred=False)
    fps = info.fps or 10.0
    events = event_report(
        results, labels, fps, detector.event_tracker(fps), segments, boxes, detector.expected_false_alarms_per_hour()
    )
    smoothing = "causal" if args.causal else "centred"
    print(f"frames: {len(results)} ({int(labels.sum())} anomalous)")
    print(f"AUROC (frame-level, micro): {metrics['auroc']:.4f} ({smoothing} smoothing)")
    print(f"average precision:          {metrics['average_precision']:.4f}")
    print(f"best F1:                    {metrics['best_f1']:.4f} at threshold {metrics['best_f1_threshold']:.4f}")
    for line in format_report(events):
        print(line)
    if args.json is not None:
        from aivad.model.checkpoint import atomic_write_bytes

        payload = json.dumps(
            {"frames": len(results), "smoothing": smoothing, **metrics, "threshold": detector.threshold, **events},
            indent=2,
        ).encode("utf-8")
        atomic_write_bytes(args.json, lambda handle: handle.write(payload))
    return 0
