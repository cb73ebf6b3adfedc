"""``python -m aivad watch``: cameras watched without a window, for a camera PC that nobody looks at.

Why: the window needs someone at a screen; a server-room PC needs a command that starts at boot and
keeps the same evidence. Every camera runs as the window's do: a :class:`aivad.live.streams.StreamJob` on the one
:class:`aivad.live.scheduler.InferenceScheduler`, the checkpoint's alarm rule (aivad.live.decision), and the
evidence the window keeps (aivad.live.evidence: snapshot, clip, a row in the SQLite history, the webhook).
Video files are analysed frame by frame, none skipped, so a file gives the same events as
``python -m aivad score --events-db``; webcams and streams deliver their newest frame and reconnect.

A camera whose source fails is reported and left; the others go on. A health line per camera comes
every ``--health-every`` seconds. Ctrl+C, SIGTERM (systemd) or Ctrl+Break close the open events, wait
for their clips and exit 0.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aivad.devices import DEVICE_CHOICES
from aivad.errors import UserError
from aivad.live import recording
from aivad.live.camera_notes import CAMERA_MESSAGES
from aivad.live.cameras import CameraConfig, load_cameras_file, parse_camera_arg, slug
from aivad.live.evidence import Announcement, EvidenceRecorder
from aivad.live.streams import StreamJob
from aivad.live.watch_process import StopSignals, limit_malloc_arenas
from aivad.video.frame_rate import rate_message
from aivad.video.frame_size import resize_message
from aivad.video.sources import FrameSource, SourceStatus, is_stream_url

HEALTH_EVERY_S = 30.0  # often enough to see a stalled camera in the log, rare enough to read it
CLIP_WAIT_S = 15.0  # at exit: how long the clips still encoding may take
WEBHOOK_WAIT_S = 5.0  # at exit: how long queued events may take to reach the webhook


def add_watch_command(commands) -> None:
    """The ``watch`` sub-command's flags (aivad.cli registers it)."""
    watch = commands.add_parser(
        "watch",
        help="watch cameras without a window: events, clips and history as the window keeps them",
        description="Watch cameras, video files or streams without a window. Events go to DIR/events.sqlite3, "
        "snapshots and clips to DIR/<camera>/<session>/.",
    )
    watch.add_argument(
        "--camera",
        action="append",
        default=[],
        metavar="SPEC",
        help='a camera, repeatable: "name=Gate;source=rtsp://…;checkpoint=model.ckpt;threshold=0.5" (source: a '
        "video file, a webcam index such as 0, or an rtsp:// / http:// URL; threshold optional)",
    )
    watch.add_argument(
        "--cameras",
        type=Path,
        default=None,
        metavar="FILE",
        help='JSON list of cameras, [{"name": …, "source": …, "checkpoint": …, "threshold": …, "zones": …}], '
        'or an object {"cameras": [...]} as the window keeps its set-up',
    )
    watch.add_argument(
        "--output", type=Path, required=True, metavar="DIR", help="events folder: history database, snapshots, clips"
    )
    watch.add_argument(
        "--webhook", default=None, metavar="URL", help="also POST each finished event as JSON to this URL"
    )
    watch.add_argument(
        "--duration", type=float, default=None, metavar="S", help="stop after this many seconds (default: until Ctrl+C)"
    )
    watch.add_argument(
        "--health-every",
        type=float,
        default=HEALTH_EVERY_S,
        metavar="S",
        help="seconds between health lines (default 30)",
    )
    watch.add_argument(
        "--loop",
        action="store_true",
        help="video files start over at their end instead of finishing (soak tests, demo screens); "
        "each pass closes its open event as the file's end does",
    )
    watch.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where the models run")
    watch.add_argument("--workers", type=int, default=None, help="inference threads (default: one per core)")
    watch.add_argument("--debug", action="store_true", help="show full tracebacks")


class Console:
    """Lines for the log: one at a time from every thread, flushed (a service's output is a pipe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def say(self, message: str) -> None:
        with self._lock:
            print(f"{datetime.now():%Y-%m-%d %H:%M:%S} {message}", flush=True)


@dataclass
class EvidenceSettings:
    """What aivad.live.evidence reads of the window's DetectionSettings, at the window's defaults."""

    output_dir: str
    save_events: bool = True
    pre_s: float = 3.0  # seconds of clip before the event
    post_s: float = 3.0  # and after it


class WatchedCamera(EvidenceRecorder):
    """One camera: its source, its job on the scheduler, and the evidence of its events."""

    def __init__(self, config: CameraConfig, detector, output: Path, store, webhook, console: Console) -> None:
        super().__init__()
        from aivad.video.live_sources import make_source

        self.config = config
        self.camera_name = config.name
        self.detector = detector
        self.event_store, self.webhook = store, webhook
        self.console = console
        self._lock = threading.Lock()
        self._settings = EvidenceSettings(str(output / slug(config.name)))
        self.event_started, self.event_finished, self.event_saved = Announcement(), Announcement(), Announcement()
        self.event_started.connect(self._say_started)
        self.event_finished.connect(self._say_event)
        self.source: FrameSource = make_source(config.source, self._status, every_frame=True)
        zones = {"zones": config.zones, "zones_are_roi": config.roi} if config.zones else {}
        self.job = StreamJob(self.source, detector, on_decision=self._decided, decision_overrides=zones)
        self._decider = self.job.decider  # the evidence reads the job's open event
        self.finished_events = 0
        self.passes = 1
        self._restarting = threading.Event()  # set from start_over until the source plays again
        self.ended = False
        self._last_state = ""
        self._camera = ""  # the camera's own state last reported (FrameResult.camera)
        self._stream_notes = ("", "")  # what was last said about the stream's size and rate (aivad.video)

    @property
    def settings(self) -> EvidenceSettings:
        return self._settings

    # --- the scheduler's thread ---------------------------------------------------------------
    def _decided(self, frame, result, decision) -> None:
        self._poll_recorders()
        if result is not None and result.camera != self._camera:
            self.console.say(f"{self.config.name}: {CAMERA_MESSAGES.get(result.camera, result.camera)}")
            self._camera = result.camera
        rate = self.detector.frame_rate
        notes = (
            resize_message(self.detector.resized_from, self.detector.training_size),
            rate_message(rate.stream_fps, rate.training_fps, rate.step),
        )
        for said, note in zip(self._stream_notes, notes):  # once each, and again if the stream changes
            if note and note != said:
                self.console.say(f"{self.config.name}: {note}")
        self._stream_notes = notes
        self._record(
            frame, decision.result, decision.kept, decision.alarm, decision.finished, decision.threshold,
            self._settings, self.source,
        )  # fmt: skip

    def _report_problem(self, message: str) -> None:
        self.console.say(f"{self.config.name}: problem: {message}")

    def _say_started(self, event) -> None:
        self.console.say(f"{self.config.name}: event {event.number} started at frame {event.start_frame}")

    def _say_event(self, event) -> None:
        self.finished_events += 1
        self.console.say(
            f"{self.config.name}: event {event.number} frames {event.start_frame}-{event.end_frame}, "
            f"peak {event.peak_score:.3f} ({event.main_attribute or '-'})"
        )

    # --- the source's thread ------------------------------------------------------------------
    def _status(self, status: SourceStatus) -> None:
        """Changes of state go to the log (each reconnection attempt too); "opening" is only noise."""
        if status.state == "playing":
            self._restarting.clear()
        if status.state != "opening" and (status.state != self._last_state or status.state == "reconnecting"):
            self.console.say(f"{self.config.name}: {describe(status)}")
        self._last_state = status.state

    # --- the main thread ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """No more frames will come and the last one was decided (a file ended, a source failed)."""
        return self.source.finished and not self.source.slot.has_frame and not self._restarting.is_set()

    def start(self, scheduler) -> None:
        self.job.attach(scheduler)
        self.source.start()

    def start_over(self, scheduler) -> None:
        """A file that ended plays again from its first frame (``--loop``), as a new pass of the video.

        The job leaves the scheduler first (waiting for a step in progress), so the pass's last event is
        closed as at the file's end (its clip finished, its row written) before the first frame comes back.
        """
        self.job.detach(scheduler)
        self._end_stream(final=True)
        self.passes += 1
        self._restarting.set()  # the source reports "ended" until its thread takes the command
        self.source.play()  # at the end of a file: back to frame 0, a new epoch (the job resets its state)
        self.job.attach(scheduler)
        self.console.say(f"{self.config.name}: pass {self.passes} from the first frame (--loop)")

    def finish(self, scheduler) -> None:
        """Leave the scheduler (waiting for a step in progress), stop the source, close the open event."""
        if self.ended:
            return
        self.ended = True
        self.job.detach(scheduler)
        self.source.stop(1.0)
        self._end_stream(final=True)

    def health(self) -> str:
        stats = self.job.stats()
        latency = "-" if math.isnan(stats.p95_latency_ms) else f"{stats.p95_latency_ms:.0f} ms"
        return (
            f"{self.config.name}: {describe(self.source.status)}, {stats.fps:.1f} fps, latency p95 {latency}, "
            f"dropped {stats.dropped}, frames {stats.processed}, events {self.finished_events}"
            + (f", pass {self.passes}" if self.passes > 1 else "")
        )


def describe(status: SourceStatus) -> str:
    if status.state == "reconnecting":
        text = f"reconnecting (attempt {status.attempt}, next try in {status.retry_in_s:.0f} s)"
    else:
        text = status.state
    return f"{text}: {status.detail}" if status.detail else text


def camera_configs(args) -> list[CameraConfig]:
    """Every enabled camera of --camera and --cameras, checked before anything starts."""
    configs = []
    for text in args.camera:
        try:
            configs.append(parse_camera_arg(text))
        except ValueError as error:
            raise UserError(f'{error}; e.g. --camera "name=Gate;source=gate.mp4;checkpoint=model.ckpt".') from None
    if args.cameras is not None:
        configs += load_cameras_file(args.cameras)
    configs = [config for config in configs if config.enabled]
    if not configs:
        raise UserError('give at least one camera: --camera "name=Gate;source=…;checkpoint=…" or --cameras FILE.')
    names = [config.name for config in configs]
    for config in configs:
        if names.count(config.name) > 1:
            raise UserError(f"two cameras are named {config.name!r}; give each a name=… of its own.")
        if not config.checkpoint:
            raise UserError(f"camera {config.name!r} has no checkpoint; add checkpoint=model.ckpt to it.")
        if not Path(config.checkpoint).is_file():
            raise UserError(f"camera {config.name!r}: checkpoint {config.checkpoint} does not exist.")
        if config.threshold is not None and not config.threshold > 0:
            raise UserError(f"camera {config.name!r}: threshold must be a positive number, not {config.threshold}.")
        source = config.source.strip()
        if not source.isdigit() and not is_stream_url(source) and not Path(source).exists():  # a file or a frame folder
            # Not a user error that stops the others: that camera is reported failed and left.
            print(
                f"warning: camera {config.name!r}: {source} is not a file, a frame folder, a webcam index or a URL.",
                file=sys.stderr,
            )
    return configs


def check_args(args) -> None:
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}.")
    if not args.health_every > 0:
        raise UserError(f"--health-every must be a positive number of seconds, not {args.health_every}.")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be 1 or more, not {args.workers}.")
    if args.output.exists() and not args.output.is_dir():
        raise UserError(f"--output {args.output} is a file; give a folder for the events.")
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the events folder --output {args.output} ({error}).") from None


def run_watch(args) -> int:
    from aivad.live.event_store import EventStore, default_path
    from aivad.live.scheduler import InferenceScheduler
    from aivad.live.streams import ModelCache
    from aivad.live.webhook import Webhook

    configs = camera_configs(args)
    check_args(args)
    limit_malloc_arenas()
    webhook = Webhook(args.webhook) if args.webhook else None
    console = Console()
    cache = ModelCache()
    detectors = []
    for config in configs:
        detector = cache.detector(config.checkpoint, args.device)
        if config.threshold is not None:
            detector.threshold = float(config.threshold)
        detectors.append(detector)
    store = EventStore(default_path(args.output))
    cameras = [
        WatchedCamera(config, detector, args.output, store, webhook, console)
        for config, detector in zip(configs, detectors)
    ]
    scheduler = InferenceScheduler(args.workers, on_error=lambda job, error: console.say(f"error: {error}"))
    try:
        with StopSignals() as stop:
            scheduler.start()
            for camera in cameras:
                camera.start(scheduler)
            console.say(
                f"watching {len(cameras)} camera(s) on {detectors[0].device}; events to {store.path}; Ctrl+C stops"
            )
            watch_until_stopped(cameras, scheduler, stop, console, args)
    finally:
        stopped = shut_down(cameras, scheduler, store, webhook)
    console.say(f"stopped: {stopped} event(s) in {store.path}")
    failed = [c for c in cameras if c.source.status.state == "failed" and not c.job.stats().processed]
    if len(failed) == len(cameras):
        raise UserError(
            "no camera delivered a frame ("
            + "; ".join(f"{c.config.name}: {describe(c.source.status)}" for c in failed)
            + "); check the sources."
        )
    return 0


def watch_until_stopped(cameras, scheduler, stop: threading.Event, console: Console, args) -> None:
    """Until a stop signal, --duration, or every camera's source has ended."""
    started = time.monotonic()
    next_health = started + args.health_every
    while not stop.wait(0.1):
        for camera in cameras:
            if not camera.ended and camera.done:
                if args.loop and camera.source.status.state == "ended":
                    camera.start_over(scheduler)
                    continue
                camera.finish(scheduler)
                console.say(f"{camera.config.name}: finished ({describe(camera.source.status)})")
        now = time.monotonic()
        if now >= next_health:
            next_health += args.health_every
            for camera in cameras:
                if not camera.ended:
                    console.say("health " + camera.health())
        if all(camera.ended for camera in cameras):
            return
        if args.duration is not None and now - started >= args.duration:
            console.say(f"--duration {args.duration:g} s reached")
            return
    console.say("stop requested: closing open events and clips")


def shut_down(cameras, scheduler, store, webhook) -> int:
    """Close every open event and clip, deliver the webhook's queue, close the history; returns events written."""
    for camera in cameras:
        camera.finish(scheduler)
    scheduler.stop()
    recording.wait_for([recorder for camera in cameras for recorder, _ in camera._recorders], timeout=CLIP_WAIT_S)
    for camera in cameras:
        camera._poll_recorders()  # writes each finished clip's path into its event's row
    if webhook is not None:
        webhook.flush(WEBHOOK_WAIT_S)
        webhook.close()
    store.close()
    return sum(camera.finished_events for camera in cameras)
