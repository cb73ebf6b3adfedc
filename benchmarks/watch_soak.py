"""Soak test of ``python -m aivad watch``: looping cameras for a set time, memory and open handles over time.

    python benchmarks/watch_soak.py CHECKPOINT VIDEO [--cameras 4] [--minutes 30] [--every 30] [--warm-up 5]

Starts ``python -m aivad watch --loop`` as a user would (a process of its own, every camera playing
VIDEO over and over, events, snapshots, clips and the SQLite history written to a temporary folder
unless --output is given), and every --every seconds reads the process's resident memory (VmRSS) and
its open file descriptors (/proc/PID/fd; on other systems psutil's, when installed). It prints the
time series, then the growth per hour after the first --warm-up minutes (a least-squares line through
the readings, and last minus first), the frames the cameras processed and their rate (from watch's
health lines), and stops watch with SIGTERM as systemd would: watch must exit 0.

Resident memory swings by hundreds of MB from one reading to the next (frames held by clips still
encoding, the allocator keeping freed blocks), so a line through single readings says little about a
leak. What a leak raises is the floor: the summary also fits a line through the lowest reading of each
--floor-window minutes. ``--summarise JSON`` prints the summary of a finished run's readings again.

Why a process and not the detector in a loop: a leak can sit anywhere watch holds things per frame or
per event (the sources, the scheduler, the decider, the clip writers, the history, the log), and only
the whole command has them all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEALTH = re.compile(r"health (?P<name>.+?): .*?(?P<fps>[\d.]+) fps.*?frames (?P<frames>\d+), events (?P<events>\d+)")


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a trained checkpoint (lite or full)")
    parser.add_argument("video", type=Path, help="the clip every camera plays in a loop")
    parser.add_argument("--cameras", type=int, default=4, help="looping cameras (default 4)")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long watch runs (default 30)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between readings (default 30)")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=5.0,
        help="minutes left out of the growth (default 5: models load, buffers fill up)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="every camera's threshold (default: the checkpoint's); a high one keeps fewer clips in flight at once, "
        "so the memory's floor is read more often",
    )
    parser.add_argument("--output", type=Path, default=None, help="watch's events folder (default: a temporary one)")
    parser.add_argument(
        "--floor-window", type=float, default=5.0, help="minutes per lowest reading in the floor's line (default 5)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the readings and the summary here")
    parser.add_argument(
        "--summarise", type=Path, default=None, metavar="JSON", help="only print the summary of a run's --json again"
    )
    return parser


def memory_and_handles(pid: int) -> tuple[float, int]:
    """(resident memory in MB, open file descriptors or handles) of a running process."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        rss_kb = next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS"))
        return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))
    import psutil  # not Linux

    process = psutil.Process(pid)
    handles = process.num_handles() if hasattr(process, "num_handles") else process.num_fds()
    return process.memory_info().rss / 2**20, handles


def line_fit(times_s: list[float], values: list[float]) -> tuple[float, float]:
    """(slope, its standard error) of the least-squares line through the readings, both per hour."""
    n = len(times_s)
    if n < 2:
        return float("nan"), float("nan")
    hours = [t / 3600.0 for t in times_s]
    mean_t, mean_v = sum(hours) / n, sum(values) / n
    spread = sum((t - mean_t) ** 2 for t in hours)
    if not spread:
        return 0.0, float("nan")
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(hours, values)) / spread
    if n < 3:
        return slope, float("nan")
    residual = sum((v - mean_v - slope * (t - mean_t)) ** 2 for t, v in zip(hours, values))
    return slope, (residual / (n - 2) / spread) ** 0.5


def watch_command(args, output: Path) -> list[str]:
    command = [sys.executable, "-m", "aivad", "watch", "--loop", "--output", str(output), "--health-every", "60"]
    for number in range(1, args.cameras + 1):
        threshold = f";threshold={args.threshold}" if args.threshold is not None else ""
        command += ["--camera", f"name=soak {number};source={args.video};checkpoint={args.checkpoint}{threshold}"]
    return command


def main(args) -> int:
    if args.summarise is not None:
        saved = json.loads(args.summarise.read_text(encoding="utf-8"))
        health = {name: (fps, 0, 0) for name, fps in saved["summary"]["fps_per_camera_last_health"].items()}
        summary = summarise(saved["readings"], args.warm_up * 60, health, saved["summary"]["watch_exit_status"], args)
        kept = ("frames_processed", "fps_all_cameras", "events", "command", "cameras", "minutes")
        summary["summary"].update({k: saved["summary"][k] for k in kept})
        print(json.dumps(summary["summary"], indent=2))
        return 0
    if args.cameras < 1 or args.minutes <= 0 or args.every <= 0:
        raise SystemExit("--cameras, --minutes and --every must be positive.")
    with tempfile.TemporaryDirectory(prefix="aivad-soak-") as scratch:
        output = args.output or Path(scratch) / "events"
        command = watch_command(args, output)
        print("running:", " ".join(command), flush=True)
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
            start_new_session=True,
        )  # fmt: skip
        health: dict[str, tuple[float, int, int]] = {}  # camera -> (fps, frames, events) of its last health line
        log: list[str] = []

        def read_log() -> None:
            for line in process.stdout:
                log.append(line.rstrip())
                if match := HEALTH.search(line):
                    health[match["name"]] = (float(match["fps"]), int(match["frames"]), int(match["events"]))

        reader = threading.Thread(target=read_log, daemon=True)
        reader.start()
        started = time.monotonic()
        readings: list[dict] = []
        try:
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                if process.poll() is not None:
                    print("\n".join(log[-20:]))
                    raise SystemExit(f"watch exited early with status {process.returncode}")
                rss, handles = memory_and_handles(process.pid)
                frames = sum(f for _, f, _ in health.values())
                readings.append({"s": round(elapsed, 1), "rss_mb": round(rss, 1), "handles": handles, "frames": frames})
                print(f"{elapsed:8.0f} s  RSS {rss:8.1f} MB  open handles {handles:4d}  frames {frames}", flush=True)
                time.sleep(max(0.0, args.every - (time.monotonic() - started - elapsed)))
            final_health = dict(health)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                code = process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
            reader.join(5)
        summary = summarise(readings, args.warm_up * 60, final_health, code, args)
        print(json.dumps(summary["summary"], indent=2))
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        return 0 if code == 0 else 1


def summarise(readings: list[dict], warm_up_s: float, health: dict, code: int, args) -> dict:
    after = [r for r in readings if r["s"] >= warm_up_s] or readings
    times = [r["s"] for r in after]
    window_s = args.floor_window * 60
    windows: dict[int, list[dict]] = {}  # window number -> its readings
    for reading in after:
        windows.setdefault(int((reading["s"] - after[0]["s"]) // window_s), []).append(reading)
    floor = [min(group, key=lambda r: r["rss_mb"]) for group in windows.values()]
    floor_growth, floor_error = line_fit([r["s"] for r in floor], [r["rss_mb"] for r in floor])
    growth, error = line_fit(times, [r["rss_mb"] for r in after])
    frames = sum(f for _, f, _ in health.values())
    return {
        "readings": readings,
        "summary": {
            "command": f"python benchmarks/watch_soak.py {args.checkpoint} {args.video} --cameras {args.cameras} "
            f"--minutes {args.minutes:g} --every {args.every:g} --warm-up {args.warm_up:g} "
            f"--floor-window {args.floor_window:g}" + (f" --threshold {args.threshold:g}" if args.threshold else ""),
            "cameras": args.cameras,
            "minutes": args.minutes,
            "readings_after_warm_up": len(after),
            "rss_mb_at_warm_up": after[0]["rss_mb"],
            "rss_mb_last": after[-1]["rss_mb"],
            "rss_mb_peak": max(r["rss_mb"] for r in readings),
            "rss_growth_mb_per_hour_fit": round(growth, 2),
            "rss_growth_mb_per_hour_fit_standard_error": round(error, 2),
            "rss_growth_mb_last_minus_first": round(after[-1]["rss_mb"] - after[0]["rss_mb"], 1),
            "rss_floor_mb_per_window": [r["rss_mb"] for r in floor],
            "rss_floor_growth_mb_per_hour_fit": round(floor_growth, 2),
            "rss_floor_growth_mb_per_hour_fit_standard_error": round(floor_error, 2),
            "handles_max_per_window": [max(r["handles"] for r in group) for group in windows.values()],
            "handles_at_warm_up": after[0]["handles"],
            "handles_last": after[-1]["handles"],
            "handles_max": max(r["handles"] for r in after),
            "frames_processed": frames,
            "fps_all_cameras": round(frames / readings[-1]["s"], 2) if readings and readings[-1]["s"] else 0.0,
            "fps_per_camera_last_health": {name: fps for name, (fps, _, _) in health.items()},
            "events": sum(e for _, _, e in health.values()),
            "watch_exit_status": code,
        },
    }


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
