"""The event history dialog (aivad.ui.history) on a small history database: listing, filters, export."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import threading
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from aivad.live.event_store import EventStore, StoredEvent  # noqa: E402
from aivad.live.evidence import EvidenceRecorder  # noqa: E402
from aivad.live.recording import EventRecord  # noqa: E402
from aivad.live.results import RegionResult  # noqa: E402
from aivad.model.alarm import Event  # noqa: E402
from aivad.ui import i18n  # noqa: E402
from aivad.ui.history import EventHistoryDialog  # noqa: E402
from aivad.ui.reports import DetectionSettings  # noqa: E402

T0 = datetime(2026, 3, 1, 9, 0, 0)


@pytest.fixture
def store(tmp_path):
    snapshot = tmp_path / "event_0001.png"
    snapshot.write_bytes(b"png")
    rows = [  # camera, minute, attribute, snapshot
        ("정문", 1, "velocity", str(snapshot)),
        ("yard", 2, "pose", ""),
        ("정문", 3, "pose", str(tmp_path / "deleted.png")),
    ]
    with EventStore(tmp_path / "events.sqlite3", session="earlier") as earlier:
        for camera, minute, attribute, snapshot_path in rows:
            event = Event(
                minute * 10, minute * 10 + 15, minute * 1.0, minute + 1.5, 1.0 + minute, minute * 10, attribute
            )
            started = T0 + timedelta(minutes=minute)
            earlier.add(StoredEvent.of(event, camera, started, snapshot_path=snapshot_path))
    opened = EventStore(tmp_path / "events.sqlite3")  # a later session reads what the earlier one wrote
    yield opened
    opened.close()


@pytest.fixture
def dialog(qtbot, store):
    i18n.set_language("en")
    widget = EventHistoryDialog(store)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def column(dialog, index: int) -> list[str]:
    return [dialog.table.item(row, index).text() for row in range(dialog.table.rowCount())]


def test_lists_past_events_newest_first(dialog):
    assert dialog.table.rowCount() == 3
    assert column(dialog, 0) == ["2026-03-01 09:03:00", "2026-03-01 09:02:00", "2026-03-01 09:01:00"]
    assert column(dialog, 1) == ["정문", "yard", "정문"]
    assert column(dialog, 2)[0] == "1.5 s"
    assert column(dialog, 3) == ["4.00", "3.00", "2.00"]
    assert column(dialog, 4) == ["pose", "pose", "velocity"]
    assert column(dialog, 5) == ["–", "–", "snapshot"]  # the deleted snapshot is not offered
    assert "3 events" in dialog.status.text()


def test_filters_by_camera_attribute_and_time(dialog, store):
    cameras = [dialog.camera_combo.itemData(i) for i in range(dialog.camera_combo.count())]
    assert cameras == [None, "yard", "정문"]

    dialog.set_camera("정문")
    assert column(dialog, 1) == ["정문", "정문"]
    dialog.attribute_combo.setCurrentIndex(dialog.attribute_combo.findData("pose"))
    assert column(dialog, 0) == ["2026-03-01 09:03:00"]

    dialog.set_camera(None)
    dialog.set_range(T0 + timedelta(minutes=2), T0 + timedelta(minutes=2))  # the whole minute 09:02
    assert column(dialog, 1) == ["yard"]

    # A new event written after the dialog opened appears on refresh, with its new camera offered.
    event = Event(0, 5, 0.0, 0.5, 9.0, 2, "pose")
    store.add(StoredEvent.of(event, "lobby", T0 + timedelta(minutes=2, seconds=30)))
    assert dialog.table.rowCount() == 1
    dialog.refresh_button.click()
    assert column(dialog, 1) == ["lobby", "yard"]
    assert dialog.camera_combo.findData("lobby") > 0
    assert dialog.attribute_combo.currentData() == "pose"  # the filters survive a refresh


def test_export_writes_the_filtered_events(dialog, tmp_path):
    dialog.set_camera("정문")
    target = tmp_path / "내보내기" / "이벤트 기록.csv"
    asked = []
    dialog.ask_save_path = lambda suggested: asked.append(suggested) or str(target)
    dialog.export_button.click()

    assert asked and asked[0].endswith(".csv")
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig", newline="")))
    assert [row["camera"] for row in rows] == ["정문", "정문"]
    assert [float(row["peak_score"]) for row in rows] == [4.0, 2.0]
    assert str(target) in dialog.status.text()

    dialog.ask_save_path = lambda suggested: ""  # cancelled: nothing written
    assert dialog.export_csv() is None


def test_korean_labels(qtbot, store):
    i18n.set_language("ko")
    try:
        widget = EventHistoryDialog(store)
        qtbot.addWidget(widget)
        assert widget.windowTitle() == "이벤트 기록"
        assert widget.camera_combo.itemText(0) == "모든 카메라"
        assert widget.table.item(0, 4).text() == "자세"
    finally:
        i18n.set_language("en")


class RecorderOnly(EvidenceRecorder):
    """The worker's evidence part without its thread: what _close_event and _poll_recorders read."""

    def __init__(self, output_dir) -> None:
        self._open_event = None
        self._peak_image = None
        self._peak_regions = []
        self._recorders = []
        self._lock = threading.Lock()
        self._settings = DetectionSettings(save_events=True, output_dir=str(output_dir))
        self._session_dir = None
        self.finished, self.saved, self.problems = [], [], []
        self.event_finished = SimpleNamespace(emit=self.finished.append)
        self.event_saved = SimpleNamespace(emit=self.saved.append)

    def _report_problem(self, message: str) -> None:
        self.problems.append(message)


class FinishedClip:
    """A clip recorder whose encoding is done."""

    error = None
    path = "event_0001.mp4"

    def finish_event(self, end_time_s: float) -> None:
        pass

    def wait(self, timeout: float) -> bool:
        return True


def test_the_worker_keeps_each_finished_event_and_its_clip(store, tmp_path):
    worker = RecorderOnly(tmp_path / "evidence")
    worker.event_store = store
    posted = []
    worker.webhook = SimpleNamespace(post=posted.append)
    worker.camera_name = "정문 2"
    event = EventRecord(1, "rtsp://cam2", 40, None, 4.0, None, 1.5, 41, "", started_at=T0 + timedelta(hours=1))
    event.clip_path = str(tmp_path / "evidence" / "event_0001.mp4")  # planned, still encoding
    worker._open_event = event
    worker._peak_image = np.zeros((48, 64, 3), np.uint8)
    worker._peak_regions = [RegionResult((5, 6, 20, 30), 2.5, {"velocity": 2.5})]
    worker._recorders = [(FinishedClip(), event)]

    worker._close_event(Event(40, 52, 4.0, 5.2, 2.5, 44, "velocity"), threshold=1.0)

    assert not worker.problems
    kept = store.events(cameras=["정문 2"])
    assert len(kept) == 1
    kept = kept[0]
    assert (kept.start_frame, kept.end_frame, kept.peak_frame, kept.main_attribute) == (40, 52, 44, "velocity")
    assert kept.region == (5, 6, 20, 30)
    assert kept.source == "rtsp://cam2" and kept.started_at == T0 + timedelta(hours=1)
    assert kept.snapshot_path and os.path.isfile(kept.snapshot_path)
    assert kept.clip_path == ""  # not written yet
    assert worker.finished[0].history_id == kept.id
    assert posted == [kept.to_dict()]

    worker._poll_recorders()  # the clip finished encoding
    assert store.events(cameras=["정문 2"])[0].clip_path == event.clip_path
    assert worker.saved and worker.saved[0].clip_path == event.clip_path
