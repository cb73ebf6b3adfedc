"""One inference scheduler for every camera: a fixed pool of threads shared fairly.

Why: each camera running its own thread with torch's and OpenCV's default thread pools puts
(cameras x cores) busy threads on (cores) cores. The pools' threads then wait for each other
at every operation, and one program starting beside them (a browser, a recorder) cost the lite
backend 10x instead of 2x. Here the pools are set to one thread each, once, and the parallelism
comes from ``workers`` scheduler threads (one per core by default) that each run one camera's
next frame at a time. Cameras are served round robin, so a slow camera cannot starve the others,
and a camera's frames are never run by two threads at once (its detector state is sequential).

A job is anything with ``has_work()`` (cheap, non-blocking) and ``step()`` (does one unit of work,
e.g. one frame; must not block waiting for input). Jobs whose input arrives call
:meth:`InferenceScheduler.wake` so an idle pool reacts at once instead of at its next poll.

Batching: a job may also have ``batch_key()`` (None: never batched) and a static
``step_batch(jobs)``. When the job a thread claims has a key, the other ready, idle jobs with the same
key (cameras on one loaded model) are claimed with it, up to ``max_batch``, and stepped together: on
a GPU one call for several cameras' frames beats one call each.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Protocol

IDLE_POLL_S = 0.005  # an idle worker looks for work at least this often (wake() is faster)
MAX_BATCH = 8  # jobs stepped together at most: bounds one step's latency for the cameras in it


class Job(Protocol):
    def has_work(self) -> bool: ...

    def step(self) -> None: ...


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # Windows, macOS
        return max(1, os.cpu_count() or 1)


_threads_configured = False


def configure_threads(intra_op: int = 1) -> None:
    """One thread per operation in torch and OpenCV, process-wide; the scheduler's pool is the parallelism.

    torch's inter-op pool can only be sized before its first parallel use; when it is too late,
    the intra-op setting (the one that oversubscribes) still applies.
    """
    global _threads_configured
    import cv2
    import torch

    torch.set_num_threads(intra_op)
    if not _threads_configured:
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    cv2.setNumThreads(intra_op)
    _threads_configured = True


class InferenceScheduler:
    """A pool of ``workers`` threads stepping registered jobs round robin."""

    def __init__(
        self,
        workers: int | None = None,
        on_error: Callable[[object, BaseException], None] | None = None,
        max_batch: int = MAX_BATCH,
    ):
        self.workers = workers or available_cores()
        self.max_batch = max(1, max_batch)
        self._on_error = on_error
        self._cond = threading.Condition()
        self._jobs: list[object] = []
        self._busy: dict[int, int] = {}  # id(job) -> ident of the thread stepping it
        self._next = 0
        self._running = False
        self._threads: list[threading.Thread] = []

    # --- jobs ---------------------------------------------------------------------------
    def add(self, job: Job) -> None:
        with self._cond:
            if all(existing is not job for existing in self._jobs):
                self._jobs.append(job)
            self._cond.notify_all()

    def remove(self, job: Job, wait: bool = True) -> None:
        """Stop scheduling ``job``; with ``wait``, return only once no thread is stepping it.

        Called from inside the job's own ``step`` (a camera that gives up), it does not wait for itself.
        """
        with self._cond:
            self._jobs = [existing for existing in self._jobs if existing is not job]
            while wait and self._busy.get(id(job), threading.get_ident()) != threading.get_ident():
                self._cond.wait(0.05)

    @property
    def jobs(self) -> list[object]:
        with self._cond:
            return list(self._jobs)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    # --- threads ------------------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        configure_threads()
        self._running = True
        self._threads = [
            threading.Thread(target=self._work, name=f"aivad-inference-{i}", daemon=True) for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _ready(self, job) -> bool:
        if id(job) in self._busy:
            return False
        try:
            return bool(job.has_work())
        except Exception:
            return False

    @staticmethod
    def _key(job):
        try:
            return job.batch_key() if hasattr(job, "batch_key") else None
        except Exception:
            return None

    def _claim(self) -> list | None:
        """The next job round robin that has work and no thread on it, with the ready jobs that batch
        with it (called with the lock held)."""
        count = len(self._jobs)
        for offset in range(count):
            position = (self._next + offset) % count
            job = self._jobs[position]
            if not self._ready(job):
                continue
            self._next = (position + 1) % count
            claimed = [job]
            key = self._key(job) if self.max_batch > 1 else None
            if key is not None:
                for later in range(1, count):
                    if len(claimed) >= self.max_batch:
                        break
                    other = self._jobs[(position + later) % count]
                    if self._ready(other) and self._key(other) == key:
                        claimed.append(other)
            for claimed_job in claimed:
                self._busy[id(claimed_job)] = threading.get_ident()
            return claimed
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                claimed = None
                while self._running:
                    claimed = self._claim()
                    if claimed is not None:
                        break
                    self._cond.wait(IDLE_POLL_S)
                if claimed is None:
                    return
            try:
                if len(claimed) == 1:
                    claimed[0].step()
                else:
                    type(claimed[0]).step_batch(claimed)
            except Exception as error:  # one camera's failure must not stop the others
                if self._on_error is not None:
                    self._on_error(claimed[0], error)
            finally:
                with self._cond:
                    for job in claimed:
                        self._busy.pop(id(job), None)
                    self._cond.notify_all()
