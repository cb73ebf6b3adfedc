"""Several cameras on one scheduler: fairness, one thread per job, scores as a single detector's, batching."""

import json
import threading
import time

import numpy as np
import pytest
from helpers import SAFETY_LIMIT_S, TINY_SIZE, wait_until

from aivad.cli import main as cli_main
from aivad.live.scheduler import InferenceScheduler


class CountingJob:
    """Always has work; notices when a second thread enters step() while one is inside."""

    def __init__(self) -> None:
        self.steps = 0
        self.inside = 0
        self.overlaps = 0
        self._lock = threading.Lock()

    def has_work(self) -> bool:
        return True

    def step(self) -> None:
        with self._lock:
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1
        time.sleep(0.001)  # releases the GIL: another worker could enter now if the scheduler let it
        with self._lock:
            self.inside -= 1
            self.steps += 1


def test_scheduler_serves_four_jobs_fairly_and_never_one_job_on_two_threads():
    jobs = [CountingJob() for _ in range(4)]
    scheduler = InferenceScheduler(workers=2)
    for job in jobs:
        scheduler.add(job)
    scheduler.start()
    wait_until(lambda: min(job.steps for job in jobs) > 40, "every job stepped 40 times")  # however busy the CPU
    scheduler.stop()
    counts = [job.steps for job in jobs]
    assert all(job.overlaps == 0 for job in jobs)
    assert min(counts) > 20, counts
    assert max(counts) / min(counts) < 1.3, counts


class BatchingJob(CountingJob):
    """A CountingJob that batches with the jobs of the same key (cameras on one model)."""

    batches: list[list[str]] = []

    def __init__(self, name: str, key) -> None:
        super().__init__()
        self.name, self.key = name, key

    def batch_key(self):
        return self.key

    @staticmethod
    def step_batch(jobs) -> None:
        BatchingJob.batches.append([job.name for job in jobs])
        for job in jobs:
            job.step()


def test_ready_jobs_of_one_key_are_stepped_together_up_to_the_batch_size():
    BatchingJob.batches = []
    jobs = [BatchingJob(f"a{i}", "model-a") for i in range(5)] + [BatchingJob("b", "model-b")]
    jobs += [BatchingJob("alone", None)]
    scheduler = InferenceScheduler(workers=2, max_batch=3)
    for job in jobs:
        scheduler.add(job)
    scheduler.start()
    wait_until(
        lambda: all(job.steps > 10 for job in jobs) and any(len(batch) == 3 for batch in BatchingJob.batches),
        "every job stepped 10 times and a full batch",
    )
    scheduler.stop()
    assert all(job.overlaps == 0 for job in jobs), "a job in a batch is never stepped elsewhere at once"
    assert all(job.steps > 10 for job in jobs), [job.steps for job in jobs]
    assert BatchingJob.batches and max(len(batch) for batch in BatchingJob.batches) == 3
    for batch in BatchingJob.batches:
        assert len({name[0] for name in batch}) == 1, batch  # only jobs of one key together
        assert "alone" not in batch and "b" not in batch  # no partner: stepped alone, by step()


def test_a_job_removing_itself_does_not_wait_for_itself():
    scheduler = InferenceScheduler(workers=1)
    done = threading.Event()

    class Quitter:
        def has_work(self) -> bool:
            return not done.is_set()

        def step(self) -> None:
            scheduler.remove(self)  # would wait forever for its own step to end
            done.set()

    scheduler.add(Quitter())
    scheduler.start()
    try:
        assert done.wait(SAFETY_LIMIT_S)  # a job waiting for its own step would never get here
        assert scheduler.jobs == []
    finally:
        scheduler.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from aivad.video.synthetic import make_scene_video

    folder = tmp_path_factory.mktemp("stream_clips")
    return [
        make_scene_video(folder / f"camera{seed}.mp4", n_frames=10, size=TINY_SIZE, seed=seed) for seed in (1, 2, 3)
    ]


@pytest.fixture(scope="module")
def tiny_lite(tmp_path_factory):
    """A lite detector with a random-initialised encoder and densities fitted on another clip.

    (Fitted on the clips it scores, every query would lie on a bank row: distances near zero, where
    the square root in the kNN distance turns float rounding into large relative differences.)
    """
    from stream_speed import lite_detector

    from aivad.video.synthetic import make_scene_video

    clip = make_scene_video(tmp_path_factory.mktemp("fit") / "fit.mp4", n_frames=8, size=TINY_SIZE, seed=7)
    detector = lite_detector(clip, pairs=6, bank_rows=64)

    detector.smoothing_sigma = 1.5  # so the detector's causal smoothing is part of what must match
    # Raw distances as scores: the fitted ranges of a bank tiled from a few noisy rows are nearly
    # zero wide (appearance ~1e-3) and would turn float rounding into visible score differences.
    for density in detector.model.densities.values():
        density.set_scale(0.0, 1.0)
    return detector


# A batch of several cameras' crops goes through the encoder's convolutions and matrix products at
# another batch size than one camera's alone; the kernels then sum in another order, so features
# agree to float32 rounding (~1e-7), not bit for bit. Scores must agree to that precision.
ROUNDING = {"rtol": 1e-5, "atol": 1e-5}


def direct_results(detector, video):
    from aivad.video.files import read_frames

    detector.reset()
    return [detector.process(frame, index / 25.0, index) for index, frame in read_frames(video)]


@pytest.mark.parametrize("grouped", [False, True], ids=["one-job-per-camera", "batched-group"])
def test_stream_jobs_score_every_frame_as_the_detector_does(clips, tiny_lite, grouped, monkeypatch):
    from aivad.live.streams import StreamJob
    from aivad.video.file_source import FileSource

    results = {i: [] for i in range(len(clips))}
    jobs = []
    for i, clip in enumerate(clips):
        # every_frame: the source waits for the model, so no frame is dropped and all can be compared
        source = FileSource(clip, every_frame=True)
        jobs.append(StreamJob(source, tiny_lite.sibling(), on_decision=lambda f, r, d, i=i: results[i].append(r)))
        jobs[-1].batch = grouped
    batches = []
    if grouped:  # count what the scheduler steps together
        original = StreamJob.step_batch
        monkeypatch.setattr(StreamJob, "step_batch", staticmethod(lambda js: (batches.append(len(js)), original(js))))
    scheduler = InferenceScheduler(workers=2)
    for job in jobs:
        job.attach(scheduler)
    scheduler.start()
    for job in jobs:
        job.source.start()
    wait_until(lambda: all(job.source.finished and not job.has_work() for job in jobs), "every clip played")
    scheduler.stop()  # joins the workers: a step that took the last frame has finished
    for job in jobs:
        job.source.stop()
    assert (max(batches) > 1) if grouped else not batches, batches  # cameras on one model went through together

    for i, (clip, job) in enumerate(zip(clips, jobs)):
        expected = direct_results(tiny_lite.sibling(), clip)
        got = results[i]
        assert len(got) == len(expected) == 10 and job.stats().dropped == 0
        assert [r.frame_index for r in got] == [r.frame_index for r in expected]
        same = np.testing.assert_allclose if grouped else np.testing.assert_array_equal
        kwargs = ROUNDING if grouped else {}
        same([r.raw_score for r in got], [r.raw_score for r in expected], **kwargs)
        same([r.score for r in got], [r.score for r in expected], **kwargs)
        assert [[g.box for g in r.regions] for r in got] == [[e.box for e in r.regions] for r in expected]
        assert any(r.raw_score > 0 for r in got)  # really scored, not the empty first-frame result
        stats = job.stats()
        assert stats.processed == 10 and np.isfinite(stats.p95_latency_ms) and stats.p95_latency_ms >= 0


def test_batched_frames_score_exactly_as_one_by_one(clips, tiny_lite):
    from aivad.live.detector import process_batch
    from aivad.video.files import read_frames

    streams = [list(read_frames(clip)) for clip in clips]
    alone = [direct_results(tiny_lite.sibling(), clip) for clip in clips]
    together = [tiny_lite.sibling() for _ in clips]
    batched = [[] for _ in clips]
    for step in range(10):
        # camera 3 joins late: a batch mixes first frames (no pair yet) with scored ones
        active = [i for i in range(len(clips)) if not (i == 2 and step < 3)]
        items = [(together[i], streams[i][step][1], step / 25.0, step, None) for i in active]
        for i, result in zip(active, process_batch(items)):
            batched[i].append(result)
    for i in range(2):
        np.testing.assert_allclose([r.raw_score for r in batched[i]], [r.raw_score for r in alone[i]], **ROUNDING)
        for got, expected in zip(batched[i], alone[i]):
            assert got.attribute_scores.keys() == expected.attribute_scores.keys()
            assert got.attribute_scores.get("velocity") == expected.attribute_scores.get("velocity")  # no network
            assert [r.box for r in got.regions] == [r.box for r in expected.regions]
    late_alone = tiny_lite.sibling()  # the same camera started at frame 3, alone
    late = [late_alone.process(frame, index / 25.0, index) for index, frame in streams[2][3:]]
    np.testing.assert_allclose([r.raw_score for r in batched[2]], [r.raw_score for r in late], **ROUNDING)
    assert batched[2][0].raw_score == 0.0 and batched[2][1].raw_score > 0  # its first frame only starts the pair
    with pytest.raises(ValueError, match="once"):
        process_batch([(together[0], streams[0][0][1], 0.0, 0, None)] * 2)


def test_model_cache_loads_a_checkpoint_once_and_gives_each_camera_its_own_state(tmp_path, monkeypatch, tiny_lite):
    from aivad.live.detector import Detector
    from aivad.live.streams import ModelCache

    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"stands in for a checkpoint")
    loads = []
    monkeypatch.setattr(Detector, "load", classmethod(lambda cls, path, **kw: loads.append(path) or tiny_lite))
    cache = ModelCache()
    first, second = cache.detector(checkpoint, device="cpu"), cache.detector(checkpoint, device="cpu")
    assert len(loads) == 1
    assert first.model is second.model is tiny_lite.model
    assert first is not second and first.backend is not second.backend  # the lite flow object is per camera
    cache.detector(checkpoint, device="cuda")  # another device is another copy of the weights
    assert len(loads) == 2


def test_bench_streams_runs_and_writes_the_report_keys(tmp_path, capsys):
    out = tmp_path / "streams.json"
    args = ["bench", "--streams", "2", "--duration", "2", "--size", "128x96", "--device", "cpu", "--json", str(out)]
    assert cli_main(args) == 0
    report = json.loads(out.read_text())
    for key in ("streams_aggregate_fps", "streams_aggregate_fps_loaded", "streams_p95_latency_ms"):
        assert report[key] > 0, key
    assert len(report["streams_idle"]["streams"]) == len(report["streams_loaded"]["streams"]) == 2
    assert report["background_load_cores"] > 0.05  # the busy loop ran (how much CPU it got depends on the machine)
    assert report["streams_aggregate_fps"] <= 2 * 25 * 1.1  # cannot process more than the sources deliver
    printed = capsys.readouterr().out
    assert "camera 2" in printed and "aggregate" in printed and "scheduler worker" in printed


def test_the_first_frame_of_each_connection_says_so_and_pairs_with_nothing():
    """After an outage the frame before it is not the new frame's predecessor (tens of seconds may lie
    between them): the live source marks the first frame of each connection."""
    import types

    from aivad.video.live_sources import StreamSource

    class FakeCapture:
        def __init__(self, n: int) -> None:
            self.frames = [np.full((8, 8, 3), i, np.uint8) for i in range(n)]

        def read(self):
            return (True, self.frames.pop(0)) if self.frames else (False, None)

    source = StreamSource("rtsp://camera.local/stream")
    put: list = []
    source.slot = types.SimpleNamespace(put=put.append)
    source._grab_loop(FakeCapture(3))  # connected, three frames, lost
    source._grab_loop(FakeCapture(2))  # reconnected
    assert [frame.reconnected for frame in put] == [True, False, False, True, False]
    assert put[3].previous is None and put[4].previous is put[3].image


def test_a_stream_job_restarts_motion_after_a_reconnection_and_the_whole_stream_on_a_new_epoch():
    from aivad.live.streams import StreamJob
    from aivad.video.sources import SourceFrame

    class RecordingDetector:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def reset(self) -> None:
            self.calls.append("reset")

        def restart_motion(self) -> None:
            self.calls.append("restart_motion")

    class QueuedSource:
        def __init__(self, frames) -> None:
            self.frames = list(frames)

        def take(self, timeout: float = 0.0):
            return self.frames.pop(0) if self.frames else None

    image = np.zeros((8, 8, 3), np.uint8)
    frames = [
        SourceFrame(image, 0, 0.0, 0.0, reconnected=True),  # a new stream: everything starts over
        SourceFrame(image, 1, 0.1, 0.1),
        SourceFrame(image, 2, 9.0, 9.0, reconnected=True),  # back after an outage
        SourceFrame(image, 3, 9.1, 9.1),
    ]
    detector = RecordingDetector()
    job = StreamJob(QueuedSource(frames), detector)
    for _ in frames:
        assert job.take() is not None
    assert detector.calls == ["reset", "restart_motion"]
