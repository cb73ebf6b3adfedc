"""The event history: every finished alarm in one SQLite file, so it survives restarts and crashes.

Why SQLite (stdlib ``sqlite3``): one file, no server, safe with several writers (the window's
cameras, each on its own worker thread, and ``python -m aivad score --events-db`` in another
process), and readable by any SQLite tool.

Where: ``events.sqlite3`` in the events folder the window already uses (the one that holds the
per-session snapshot/clip folders, see :func:`default_path`), so the history sits beside its
evidence and moves with it. Paths to snapshots and clips are stored as given (absolute).

Durability: each finished event is one committed transaction, written when the event closes.
The journal is WAL (readers never wait for the writer) with ``synchronous=FULL``: events are a
few a minute, so an fsync each costs nothing, and a killed process or a power cut loses no
event that was already reported as finished. A clip is encoded after its event closed, so its
path is filled in later (:meth:`EventStore.update_clip`); until then it is empty.

Times: ``start``/``end`` are local wall-clock times (ISO 8601, always with milliseconds, so text
order is time order); ``start_time_s``/``end_time_s`` are the media time in the source. The
command line has no wall clock for a file: its events carry the time the run found them.

The schema version is ``PRAGMA user_version``; a later version adds a step to ``_MIGRATIONS``.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from aivad.errors import UserError
from aivad.live.decision import EVENT_CSV_COLUMNS, event_csv_row

DEFAULT_NAME = "events.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0  # another process (the command line, a second window) holding the write lock

_CREATE = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera TEXT NOT NULL,
    session TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    start TEXT NOT NULL,
    "end" TEXT NOT NULL DEFAULT '',
    start_time_s REAL NOT NULL,
    end_time_s REAL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER,
    peak_score REAL NOT NULL,
    peak_frame INTEGER NOT NULL,
    main_attribute TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    snapshot_path TEXT NOT NULL DEFAULT '',
    clip_path TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_start ON events (start);
CREATE INDEX IF NOT EXISTS events_by_camera ON events (camera, start);
"""

# version n -> n + 1: SQL run, with the version bump, in the transaction that opens an older file.
_MIGRATIONS: dict[int, str] = {}

# The window's export columns (aivad.live.decision) first, then what only the history knows.
CSV_COLUMNS = (*EVENT_CSV_COLUMNS, "session", "ended_at", "region")


def default_path(events_folder: str | Path) -> Path:
    """The history of everything written under the window's events folder."""
    return Path(events_folder) / DEFAULT_NAME


def wall_clock(moment: datetime | None = None) -> str:
    """Local time as stored: ISO 8601 with milliseconds, no offset, so text order is time order."""
    moment = moment or datetime.now()
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)  # this computer's local time, as stored
    return moment.isoformat(timespec="milliseconds")


def peak_region(regions) -> tuple[int, int, int, int] | None:
    """The box of the highest-scoring real region (not the whole-frame stand-in), or None."""
    boxed = [r for r in regions if not getattr(r, "whole_frame", False)]
    if not boxed:
        return None
    top = max(boxed, key=lambda r: r.score)
    return tuple(int(round(v)) for v in top.box)


@dataclass
class StoredEvent:
    """One finished event as the history keeps it."""

    camera: str
    start: str  # local wall clock, see wall_clock()
    end: str
    start_time_s: float  # media time
    end_time_s: float | None
    start_frame: int
    end_frame: int | None
    peak_score: float
    peak_frame: int
    main_attribute: str = ""
    region: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the top region at the peak
    snapshot_path: str = ""
    clip_path: str = ""
    source: str = ""
    session: str = ""  # filled in by the store that writes it
    id: int | None = None  # filled in by the store that writes it

    @classmethod
    def of(
        cls,
        event,
        camera: str,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        region=None,
        source: str = "",
        snapshot_path: str = "",
        clip_path: str = "",
    ) -> StoredEvent:
        """From anything shaped like ``aivad.model.alarm.Event`` (the UI's EventRecord is too)."""
        now = datetime.now()
        return cls(
            camera=camera,
            start=wall_clock(started_at or now),
            end=wall_clock(ended_at or now),
            start_time_s=float(event.start_time_s),
            end_time_s=None if event.end_time_s is None else float(event.end_time_s),
            start_frame=int(event.start_frame),
            end_frame=None if event.end_frame is None else int(event.end_frame),
            peak_score=float(event.peak_score),
            peak_frame=int(event.peak_frame),
            main_attribute=event.main_attribute or "",
            region=None if region is None else tuple(int(v) for v in region),
            snapshot_path=snapshot_path,
            clip_path=clip_path,
            source=source,
        )

    @property
    def duration_s(self) -> float:
        end = self.end_time_s if self.end_time_s is not None else self.start_time_s
        return max(0.0, end - self.start_time_s)

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.start)

    def to_dict(self) -> dict:
        """Plain JSON types (the webhook's payload)."""
        data = asdict(self)
        data["region"] = list(self.region) if self.region is not None else None
        data["duration_s"] = round(self.duration_s, 3)
        return data


_COLUMNS = tuple(f.name for f in fields(StoredEvent))
_QUOTED = ", ".join(f'"{name}"' for name in _COLUMNS)  # "end" is an SQL keyword


def _region_text(region) -> str:
    return "" if region is None else ",".join(str(int(v)) for v in region)


def _region_of(text: str) -> tuple[int, int, int, int] | None:
    parts = text.split(",") if text else []
    return tuple(int(v) for v in parts) if len(parts) == 4 else None


def _moment(value: datetime | str | None) -> str | None:
    """A time bound in the stored form: compared as text, "09:02:00" must equal "09:02:00.000"."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise UserError(f"{value!r} is not a date and time; use ISO 8601, e.g. 2026-03-01T09:00:00.") from None
    return wall_clock(value)


class EventStore:
    """The history database. One object per process is enough: it is safe to share between threads.

    Every thread goes through one connection under a lock (SQLite serialises writers anyway); other
    processes writing the same file are waited for up to ``BUSY_TIMEOUT_S``.
    """

    def __init__(self, path: str | Path, session: str | None = None) -> None:
        self.path = Path(path)
        self.session = session or wall_clock()  # which run of the window (or the command line) wrote an event
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): every INSERT/UPDATE is its own committed transaction.
            self._db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (sqlite3.DatabaseError, OSError) as error:
            raise UserError(
                f"cannot open the event history {self.path} ({error}); choose another events folder."
            ) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except BaseException as error:
            self._db.close()
            if isinstance(error, sqlite3.DatabaseError):  # not a database, locked for too long, read-only folder
                raise UserError(
                    f"cannot open the event history {self.path} ({error}); choose another events folder."
                ) from None
            raise

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # read and change the version under the write lock: two openers race
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UserError(
                    f"the event history {self.path} was written by a newer version of aivad (schema {version}); "
                    "update aivad or choose another events folder."
                )
            if version == SCHEMA_VERSION:
                statements = ""
            elif version == 0:
                statements = _CREATE
            else:
                statements = ";".join(_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
            for statement in statements.split(";"):  # not executescript(): it would commit half-way
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # --- writing -----------------------------------------------------------------------
    def add(self, event: StoredEvent) -> StoredEvent:
        """Write one finished event (committed on return); returns it with its id and session."""
        session = event.session or self.session
        row = {name: getattr(event, name) for name in _COLUMNS if name != "id"}
        row.update(region=_region_text(event.region), session=session)
        names = ", ".join(f'"{name}"' for name in row)
        with self._lock:
            cursor = self._db.execute(
                f"INSERT INTO events ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values())
            )
            row_id = cursor.lastrowid
        event.id, event.session = row_id, session
        return event

    def update_clip(self, event_id: int, clip_path: str) -> None:
        """The clip finished encoding after its event closed ("" when it failed)."""
        with self._lock:
            self._db.execute("UPDATE events SET clip_path = ? WHERE id = ?", (clip_path, event_id))

    # --- reading -----------------------------------------------------------------------
    def events(
        self,
        cameras: Iterable[str] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        attribute: str | None = None,
        limit: int | None = 1000,
    ) -> list[StoredEvent]:
        """Finished events, newest first; ``since``/``until`` bound the wall-clock start (inclusive)."""
        where, values = [], []
        if cameras is not None:
            cameras = list(cameras)
            where.append(f"camera IN ({', '.join('?' * len(cameras))})" if cameras else "0")
            values += cameras
        if since is not None:
            where.append("start >= ?")
            values.append(_moment(since))
        if until is not None:
            where.append("start <= ?")
            values.append(_moment(until))
        if attribute:
            where.append("main_attribute = ?")
            values.append(attribute)
        sql = f"SELECT {_QUOTED} FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            values.append(int(limit))
        with self._lock:
            rows = self._db.execute(sql, values).fetchall()
        return [self._event_of(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def cameras(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT camera FROM events ORDER BY camera")]

    def attributes(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT main_attribute FROM events WHERE main_attribute != '' ORDER BY main_attribute"
            )
            return [row[0] for row in rows]

    def export_csv(self, path: str | Path, **filters) -> int:
        """The events :meth:`events` lists for ``filters`` (all of them, no limit) as CSV; returns how many."""
        filters.setdefault("limit", None)
        events = self.events(**filters)
        write_csv(path, events)
        return len(events)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _event_of(row) -> StoredEvent:
        data = dict(zip(_COLUMNS, row))
        data["region"] = _region_of(data["region"])
        return StoredEvent(**data)


def write_csv(path: str | Path, events: list[StoredEvent]) -> Path:
    """UTF-8 with a byte-order mark, so Excel on a Korean Windows reads it right (as aivad.live.decision's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        row = event_csv_row(
            event.id or 0,
            event.source,
            event,
            event.start,
            snapshot=event.snapshot_path,
            clip=event.clip_path,
            camera=event.camera,
        )
        writer.writerow([*row, event.session, event.end, _region_text(event.region)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path
