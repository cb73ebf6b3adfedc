"""The event history (aivad.event_store): survives a new session and a killed process, filters, CSV, threads."""

from __future__ import annotations

import csv
import os
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from helpers import REPO_ROOT, started

from aivad.errors import UserError
from aivad.live.event_store import SCHEMA_VERSION, EventStore, StoredEvent, default_path, peak_region
from aivad.live.results import RegionResult
from aivad.model.alarm import Event

T0 = datetime(2026, 3, 1, 9, 0, 0)


def make_event(camera: str, minute: int, attribute: str = "velocity", score: float = 2.0, **extra) -> StoredEvent:
    start_s = 10.0 * minute
    event = Event(minute * 100, minute * 100 + 25, start_s, start_s + 2.5, score, minute * 100 + 7, attribute)
    started = T0 + timedelta(minutes=minute)
    return StoredEvent.of(event, camera, started_at=started, ended_at=started + timedelta(seconds=3), **extra)


def test_events_of_one_session_are_listed_by_the_next(tmp_path):
    path = default_path(tmp_path / "events")
    first = EventStore(path, session="morning")
    written = first.add(make_event("gate", 1, region=(10, 20, 30, 40), snapshot_path="/x/a.png"))
    first.add(make_event("gate", 2))
    first.close()

    second = EventStore(path, session="evening")
    second.add(make_event("yard", 3))
    events = second.events()
    second.close()

    assert [e.start_frame for e in events] == [300, 200, 100]  # newest first
    assert [e.session for e in events] == ["evening", "morning", "morning"]
    oldest = events[-1]
    assert oldest.id == written.id
    assert oldest.region == (10, 20, 30, 40)
    assert oldest.snapshot_path == "/x/a.png"
    assert oldest.end_time_s == pytest.approx(12.5) and oldest.duration_s == pytest.approx(2.5)
    assert oldest.started_at == T0 + timedelta(minutes=1)
    assert events[0].region is None


def test_filters_limit_cameras_and_clip_update(tmp_path):
    with EventStore(tmp_path / "h.sqlite3") as store:
        for minute, camera, attribute in [(1, "gate", "velocity"), (2, "yard", "pose"), (3, "gate", "pose")]:
            store.add(make_event(camera, minute, attribute))
        store.add(make_event("lobby", 4, "appearance"))

        assert [e.camera for e in store.events(cameras=["gate"])] == ["gate", "gate"]
        assert {e.camera for e in store.events(cameras=["gate", "lobby"])} == {"gate", "lobby"}
        assert store.events(cameras=[]) == []
        assert [e.start_frame for e in store.events(attribute="pose")] == [300, 200]
        window = store.events(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=3))
        assert [e.start_frame for e in window] == [300, 200]  # both bounds inclusive
        assert [e.start_frame for e in store.events(since=(T0 + timedelta(minutes=3)).isoformat())] == [400, 300]
        assert [e.start_frame for e in store.events(until="2026-03-01T09:02:00")] == [200, 100]  # text bounds too
        aware = (T0 + timedelta(minutes=2)).astimezone(timezone.utc)  # the same moment in another zone
        assert [e.start_frame for e in store.events(until=aware)] == [200, 100]
        with pytest.raises(UserError, match="not a date and time"):
            store.events(since="yesterday")
        assert [e.start_frame for e in store.events(limit=2)] == [400, 300]
        assert store.cameras() == ["gate", "lobby", "yard"]
        assert store.attributes() == ["appearance", "pose", "velocity"]

        target = store.events(cameras=["yard"])[0]
        store.update_clip(target.id, "/clips/event_0002.mp4")
        assert store.events(cameras=["yard"])[0].clip_path == "/clips/event_0002.mp4"
        assert store.events(cameras=["gate"])[0].clip_path == ""


def test_csv_export_round_trip_with_a_korean_path(tmp_path):
    with EventStore(tmp_path / "db" / "events.sqlite3") as store:
        store.add(make_event("정문 카메라", 1, "velocity", region=(1, 2, 3, 4), clip_path="C:/영상 폴더/event 1.mp4"))
        store.add(make_event("yard", 2, "pose"))
        target = tmp_path / "내보내기 폴더" / "이벤트 목록.csv"
        count = store.export_csv(target, cameras=["정문 카메라"])

    assert count == 1
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig", newline="")))
    assert len(rows) == 1
    row = rows[0]
    assert row["camera"] == "정문 카메라"
    assert row["clip"] == "C:/영상 폴더/event 1.mp4"
    assert row["region"] == "1,2,3,4"
    assert float(row["peak_score"]) == pytest.approx(2.0)
    assert row["started_at"] == (T0 + timedelta(minutes=1)).isoformat(timespec="milliseconds")
    assert row["main_attribute"] == "velocity"


def test_concurrent_writers_lose_nothing(tmp_path):
    """Several camera workers share one store; a second store object on the same file is another process's view."""
    path = tmp_path / "events.sqlite3"
    shared = EventStore(path, session="ui")
    other = EventStore(path, session="cli")
    per_thread, errors = 25, []

    def write(store: EventStore, camera: str) -> None:
        try:
            for minute in range(per_thread):
                store.add(make_event(camera, minute))
        except Exception as error:  # surfaced below: an exception in a thread would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=write, args=(shared, f"cam{i}")) for i in range(3)]
    threads.append(threading.Thread(target=write, args=(other, "cam-cli")))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    events = shared.events(limit=None)
    assert len(events) == 4 * per_thread
    assert len({e.id for e in events}) == len(events)
    for camera in ("cam0", "cam1", "cam2", "cam-cli"):
        assert sorted(e.start_frame for e in events if e.camera == camera) == [m * 100 for m in range(per_thread)]
    shared.close()
    other.close()


_WRITER = """
import sys, threading
from datetime import datetime
from aivad.model.alarm import Event
from aivad.live.event_store import EventStore, StoredEvent
store = EventStore(sys.argv[1], session="killed")
for i in range(int(sys.argv[2])):
    store.add(StoredEvent.of(Event(i, i + 5, i * 1.0, i + 0.5, 3.0, i + 2, "pose"), "cam", datetime.now()))
print("written", flush=True)
threading.Event().wait()  # still running, connection open, until the parent kills it
"""


def test_events_survive_a_killed_process(tmp_path):
    path = tmp_path / "events.sqlite3"
    n = 7
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with started([sys.executable, "-c", _WRITER, path, n], env=env, cwd=tmp_path) as writer:
        writer.wait_for_line("written")
        assert writer.process.poll() is None, "the writer must still be running when it is killed"
    # Leaving the block killed it: SIGKILL on POSIX, no cleanup, no close().
    assert writer.process.returncode != 0

    with EventStore(path) as store:
        events = store.events()
    assert sorted(e.start_frame for e in events) == list(range(n))
    assert {e.session for e in events} == {"killed"}


def test_schema_version_and_unreadable_files(tmp_path):
    import sqlite3

    path = tmp_path / "events.sqlite3"
    EventStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(UserError, match="newer version"):
        EventStore(path)

    garbage = tmp_path / "not-a-db.sqlite3"
    garbage.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(UserError, match="cannot open the event history"):
        EventStore(garbage)


def test_peak_region_skips_the_whole_frame_stand_in():
    regions = [
        RegionResult((0, 0, 64, 48), 9.0, {}, whole_frame=True),
        RegionResult((1, 2, 3, 4), 1.0, {}),
        RegionResult((5.4, 6, 7, 8), 2.0, {}),
    ]
    assert peak_region(regions) == (5, 6, 7, 8)
    assert peak_region(regions[:1]) is None
