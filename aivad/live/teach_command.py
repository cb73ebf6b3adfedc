"""``python -m aivad teach``: the command line of teaching normal (aivad.model.teach), from frames or a stored event.

Here, in the live stage, because an event of the history (aivad.live.event_store) names the video and
frames to teach; the teaching itself is the model stage's, which the window calls too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aivad.devices import DEVICE_CHOICES
from aivad.errors import UserError


def add_parser(commands) -> None:
    teach = commands.add_parser(
        "teach",
        help="add a stretch of video to the model's normal memory, as a new checkpoint",
        description=(
            "Teach a checkpoint that a stretch of video is normal (a false alarm that keeps coming back): its regions "
            "join every attribute's normal memory in a NEW checkpoint; the threshold and its false-alarm estimate "
            "are kept, and no attribute's score can rise. Give VIDEO with --frames, or --events-db with --event."
        ),
    )
    teach.add_argument("checkpoint", type=Path, help="checkpoint to teach (never changed)")
    teach.add_argument("video", type=Path, nargs="?", default=None, help="video holding the normal stretch")
    teach.add_argument(
        "--frames", action="append", default=[], metavar="FIRST:LAST", help="frames to teach, inclusive (repeatable)"
    )
    teach.add_argument("--events-db", type=Path, default=None, help="event history (events.sqlite3) holding --event")
    teach.add_argument("--event", type=int, action="append", default=[], help="id of an event to teach (repeatable)")
    teach.add_argument(
        "--output", type=Path, default=None, help="new checkpoint to write (default: <stem>_taught.ckpt beside it)"
    )
    teach.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    teach.add_argument("--debug", action="store_true", help="show full tracebacks")


def event_stretches(database: Path, ids: list[int]):
    """The video and frames of each event id in the history."""
    from aivad.live.event_store import EventStore
    from aivad.model.teach import Stretch

    if not database.is_file():
        raise UserError(f"--events-db {database} does not exist; give the events.sqlite3 the events were written to.")
    with EventStore(database) as store:
        by_id = {event.id: event for event in store.events(limit=None)}
    out = []
    for event_id in ids:
        event = by_id.get(event_id)
        if event is None:
            raise UserError(f"--event {event_id} is not in {database}; list the ids with the window's event history.")
        video = Path(event.source) if event.source else None
        if video is None or not video.exists():  # a file or a frame folder
            raise UserError(
                f"event {event_id} came from {event.source or 'a camera'}, not a video file on this computer; teach "
                "from a recording of it with VIDEO --frames FIRST:LAST."
            )
        last = event.end_frame if event.end_frame is not None else event.peak_frame
        out.append(Stretch(video, int(event.start_frame), max(int(last), int(event.start_frame))))
    return out


def main(args: argparse.Namespace) -> int:
    from aivad.model.teach import Stretch, default_output, parse_frames, teach

    if args.events_db is not None or args.event:
        if args.video is not None or args.frames:
            raise UserError("give either VIDEO with --frames, or --events-db with --event, not both.")
        if args.events_db is None or not args.event:
            raise UserError("--events-db and --event go together: the history file and the id of the event to teach.")
        stretches = event_stretches(args.events_db, args.event)
    else:
        if args.video is None or not args.frames:
            raise UserError("say what to teach: VIDEO --frames FIRST:LAST, or --events-db DB --event ID.")
        stretches = [Stretch(args.video, *parse_frames(text)) for text in args.frames]
    output = args.output if args.output is not None else default_output(args.checkpoint)
    teach(args.checkpoint, stretches, output, device=args.device, log=lambda line: print(line, file=sys.stderr))
    print(f"wrote {output}")
    return 0
