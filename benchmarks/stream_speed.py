"""``python -m aivad bench --streams N``: N live lite cameras at once through the scheduler the UI uses.

What a user with several cameras needs to know: do N cameras at 25 FPS keep up on this machine,
how stale is a decision (capture -> decision latency, p95), and what happens when another program
takes a core. Each camera is a real-time source decoding its own synthetic 768x576 video (so
decoding costs what it costs with a real camera) and keeping only its newest frame: frames the
model has no time for are dropped and counted, never queued. All cameras share one lite model
(random-initialised encoder, densities fitted on the first camera's frames: a speed benchmark, not
a quality one) and one :class:`aivad.live.scheduler.InferenceScheduler`, exactly as the window runs them.

The run is measured twice: with the machine as it is (idle, if nothing else runs), then with a
one-core background load, a plain Python busy loop in a separate process that this benchmark
starts and stops itself. Every figure is measured over ``--duration`` seconds after a warm-up.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

WARMUP_S = 1.5  # per run: sources open, first frames pay one-off costs; not measured
MODEL_PAIRS = 12  # frame pairs of the first camera the densities are fitted on
DISTINCT_VIDEOS = 4  # more cameras than this replay these videos (rendering them costs start-up time)
SPARE_S = 3.0  # video length beyond warm-up + duration, so no source runs out while measured


# --------------------------------------------------------------------------- background load


def _busy_loop(stop, ready, cpu_seconds) -> None:
    """A plain Python busy loop, the load the issue measured with: one core, until told to stop."""
    ready.set()
    count = 0
    while not stop.is_set():
        for _ in range(200_000):
            count += 1
    cpu_seconds.value = time.process_time()


@contextlib.contextmanager
def background_load(cores: int = 1):
    """``cores`` busy processes (spawned, so it works the same on Windows) while the block runs.

    Yields a dict that gets ``cores_used``: the CPU time the processes really got, per second of
    wall time (about 1.0 for one core when the operating system gave it a whole core).
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    report: dict[str, float] = {"cores_used": float("nan")}
    started = []
    for i in range(cores):
        ready, cpu_seconds = context.Event(), context.Value("d", 0.0)
        process = context.Process(
            target=_busy_loop, args=(stop, ready, cpu_seconds), name=f"aivad-busy-loop-{i}", daemon=True
        )
        process.start()
        started.append((process, ready, cpu_seconds))
    for process, ready, _ in started:
        # a spawned interpreter takes a moment to start: measure only once it spins
        if not ready.wait(60.0):
            stop.set()
            raise RuntimeError(f"the background load process did not start (exit code {process.exitcode})")
    begin = time.monotonic()
    try:
        yield report
    finally:
        stop.set()
        wall = time.monotonic() - begin
        for process, _, _ in started:
            process.join(10.0)
            if process.is_alive():
                process.terminate()
                process.join(2.0)
        report["cores_used"] = sum(cpu.value for _, _, cpu in started) / wall if wall > 0 else float("nan")


# --------------------------------------------------------------------------- model and videos


def lite_detector(
    video: Path, pairs: int = MODEL_PAIRS, bank_rows: int = 2048, device: str = "cpu", settings: dict | None = None
):
    """A lite Detector with a random-initialised encoder and densities fitted on the video's first pairs.

    Built as ``python -m aivad bench`` builds its lite pipeline (stage_speed.build_detector), so the
    cost per frame is a trained model's: same networks, same memory bank size.
    """
    from stage_speed import build_detector, fit_detector_densities, frozen_density_rows

    from aivad.video.files import read_frames

    detector = build_detector("lite", settings or {}, device)  # settings: bench --lite-variant
    backend, model = detector.backend, detector.model
    collected: dict[str, list[np.ndarray]] = defaultdict(list)
    previous = None
    for count, (_, frame) in enumerate(read_frames(video)):
        if previous is not None:
            regions = backend.extract([(previous, frame)])[0]
            for name, rows in frozen_density_rows(model, regions).items():
                collected[name].append(rows)
            collected["appearance"].append(model.encoder.embed(regions.crops, device=device))
        previous = frame
        if count >= pairs:
            break
    fit_detector_densities(detector, collected, bank_rows)
    return detector


def make_videos(folder: Path, count: int, size: tuple[int, int], seconds: float, fps: float) -> list[Path]:
    """One synthetic scene per camera (different walkers, as different cameras would see)."""
    from aivad.video.synthetic import make_scene_video

    n_frames = int(np.ceil(seconds * fps))
    return [
        make_scene_video(folder / f"camera{i + 1}.mp4", n_frames=n_frames, size=size, fps=fps, seed=i + 1, walkers=4)
        for i in range(count)
    ]


# --------------------------------------------------------------------------- one run


def run_streams(scheduler, detectors, videos, duration_s: float, batch: bool, warmup_s: float = WARMUP_S) -> dict:
    """Every camera from the start of its video in real time, through ``scheduler``, for warm-up + duration."""
    from aivad.live.streams import StreamJob
    from aivad.video.file_source import FileSource

    jobs = []
    window = int(duration_s * 100) + 100  # every measured frame's latency counts (cameras run below 100 FPS)
    for i, detector in enumerate(detectors):
        detector.reset()
        source = FileSource(videos[i % len(videos)])  # real time, newest frame only
        job = StreamJob(source, detector, latency_window=window)
        job.batch = batch  # cameras on one model are then stepped together by the scheduler
        jobs.append(job)
    for job in jobs:
        job.attach(scheduler)
    for job in jobs:
        job.source.start()
    try:
        time.sleep(warmup_s)
        for job in jobs:
            job.reset_stats()
        cpu_start, wall_start = time.process_time(), time.monotonic()
        time.sleep(duration_s)
        elapsed = time.monotonic() - wall_start
        cpu = time.process_time() - cpu_start
        stats = [job.stats() for job in jobs]
        latencies = [job.latencies_ms() for job in jobs]
    finally:
        for job in jobs:
            job.detach(scheduler)
        for job in jobs:
            job.source.stop()
    pooled = np.concatenate(latencies) if any(len(x) for x in latencies) else np.zeros(0)
    ended = [job.source.label for job in jobs if job.source.status.state in ("ended", "failed")]
    return {
        "seconds": elapsed,
        "aggregate_fps": sum(s.processed for s in stats) / elapsed,
        "p95_latency_ms": float(np.percentile(pooled, 95)) if len(pooled) else float("nan"),
        "process_cpu_cores": cpu / elapsed,  # this process's CPU time per wall second
        "sources_ended_early": ended,
        "streams": [
            {
                "fps": s.processed / elapsed,
                "processed": s.processed,
                "dropped": s.dropped,
                "p95_latency_ms": s.p95_latency_ms,
            }
            for s in stats
        ],
    }


# --------------------------------------------------------------------------- report


def _cell(value: float, digits: int = 1) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def format_streams_table(idle: dict, loaded: dict) -> str:
    header = (
        f"{'stream':<10}{'idle FPS':>10}{'dropped':>9}{'p95 ms':>9}   {'loaded FPS':>10}{'dropped':>9}{'p95 ms':>9}"
    )
    lines = [header, "-" * len(header)]
    for i, (a, b) in enumerate(zip(idle["streams"], loaded["streams"]), start=1):
        lines.append(
            f"{'camera ' + str(i):<10}{_cell(a['fps']):>10}{a['dropped']:>9}{_cell(a['p95_latency_ms']):>9}   "
            f"{_cell(b['fps']):>10}{b['dropped']:>9}{_cell(b['p95_latency_ms']):>9}"
        )
    lines.append("-" * len(header))
    idle_dropped = sum(s["dropped"] for s in idle["streams"])
    loaded_dropped = sum(s["dropped"] for s in loaded["streams"])
    lines.append(
        f"{'aggregate':<10}{_cell(idle['aggregate_fps']):>10}{idle_dropped:>9}{_cell(idle['p95_latency_ms']):>9}   "
        f"{_cell(loaded['aggregate_fps']):>10}{loaded_dropped:>9}{_cell(loaded['p95_latency_ms']):>9}"
    )
    return "\n".join(lines)


def main(args) -> int:
    """The ``--streams`` run of ``python -m aivad bench`` (its parser: stage_speed.get_args_parser)."""
    from aivad.live.scheduler import configure_threads

    configure_threads()  # before torch or OpenCV start their own pools
    import torch
    from stage_speed import device_name, parse_size

    from aivad.devices import choose_device
    from aivad.errors import UserError
    from aivad.live.scheduler import InferenceScheduler, available_cores
    from aivad.live.streams import batching_pays

    if args.streams < 1 or args.duration <= 0 or args.stream_fps <= 0:
        raise UserError("--streams must be at least 1, --duration and --stream-fps above 0.")
    size = parse_size(args.size)
    device = choose_device(args.device).device
    batch = batching_pays(device) if args.stream_batch == "auto" else args.stream_batch == "on"
    cores = available_cores()
    scheduler = InferenceScheduler(workers=args.workers or None)
    with tempfile.TemporaryDirectory(prefix="aivad-streams-") as scratch:
        seconds = WARMUP_S + args.duration + SPARE_S
        print(
            f"bench --streams: {args.streams} lite camera(s), {size[0]}x{size[1]} at {args.stream_fps:g} FPS, "
            f"device {device}: {device_name(device)}",
            flush=True,
        )
        print(f"  rendering {min(args.streams, DISTINCT_VIDEOS)} video(s) of {seconds:.1f} s ...", flush=True)
        videos = make_videos(Path(scratch), min(args.streams, DISTINCT_VIDEOS), size, seconds, args.stream_fps)
        print("  fitting the lite model's densities ...", flush=True)
        variant = json.loads(args.lite_variant) if args.lite_variant else None
        prototype = lite_detector(videos[0], bank_rows=args.bank_rows, device=device, settings=variant)
        detectors = [prototype.sibling() for _ in range(args.streams)]  # one model in memory, as ModelCache does
        scheduler.start()
        try:
            print(f"  idle: {args.duration:g} s ...", flush=True)
            idle = run_streams(scheduler, detectors, videos, args.duration, batch)
            print(f"  one-core background load: {args.duration:g} s ...", flush=True)
            with background_load(1) as load:
                loaded = run_streams(scheduler, detectors, videos, args.duration, batch)
        finally:
            scheduler.stop()
    report = {
        "size": list(size),
        "device": device,
        "device_name": device_name(device),
        "torch_version": torch.__version__,
        "streams_count": args.streams,
        "streams_source_fps": args.stream_fps,
        "streams_duration_s": args.duration,
        "streams_batched": batch,
        "cores": cores,
        "scheduler_workers": scheduler.workers,
        "streams_aggregate_fps": idle["aggregate_fps"],
        "streams_aggregate_fps_loaded": loaded["aggregate_fps"],
        "streams_p95_latency_ms": idle["p95_latency_ms"],
        "streams_p95_latency_ms_loaded": loaded["p95_latency_ms"],
        "background_load_cores": load["cores_used"],
        "streams_idle": idle,
        "streams_loaded": loaded,
    }
    print()
    print(
        f"{args.streams} stream(s) at {size[0]}x{size[1]}, {args.stream_fps:g} FPS each, "
        f"{args.duration:g} s measured per column; {cores} core(s), {scheduler.workers} scheduler worker(s), "
        f"{'cameras on one model batched' if batch else 'one step per camera'}"
    )
    print(format_streams_table(idle, loaded))
    wanted = args.streams * args.stream_fps
    print(
        f"aggregate: {idle['aggregate_fps']:.1f} FPS idle, {loaded['aggregate_fps']:.1f} FPS loaded "
        f"(sources deliver {wanted:g}); loaded/idle {loaded['aggregate_fps'] / max(idle['aggregate_fps'], 1e-9):.2f}"
    )
    print(
        f"this process used {idle['process_cpu_cores']:.2f} core(s) idle, {loaded['process_cpu_cores']:.2f} loaded; "
        f"the background loop got {load['cores_used']:.2f} core(s)"
    )
    for name, run in (("idle", idle), ("loaded", loaded)):
        if run["sources_ended_early"]:
            print(f"warning: {name}: {', '.join(run['sources_ended_early'])} ran out of video while measured")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0
