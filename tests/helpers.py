"""What tests share besides fixtures: paths, sizes, fast training flags, training in-process, processes.

(Not in conftest.py: pytest loads every folder's conftest.py under the one module name "conftest",
so importing from it would depend on which folder's tests ran last.)
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # pyproject.toml puts it on sys.path for the tests

TINY_SIZE = (64, 48)


def load_benchmark(name: str):
    """A script of benchmarks/ as a module (they are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY_FRAMES = 12


def train(preset_name: str, args: list[str]) -> int:
    """Run a training script's main in-process with its own preset (no subprocess start-up cost)."""
    import runpy

    preset = runpy.run_path(str(REPO_ROOT / f"train_aivad_{preset_name}.py"))["PRESET"]
    from aivad.training.pipeline import main

    return main(args, preset)


def train_as_user(preset_name: str, args: list) -> int:
    """As :func:`train`, through the console wrapper a user's run goes through: a mistake the user
    can make becomes exit code 2 and one sentence on stderr."""
    from aivad.console import run_main

    return run_main(lambda a: train(preset_name, a), [str(a) for a in args])


# Small, fast settings shared by the tests that train.
LITE_FAST = ["--backend", "lite", "--device", "cpu", "--num-workers", "0", "--batch-size", "8"]


def velocity_pose_config(smoothing_sigma: float):
    """A full-backend model config scoring velocity (GMM) and pose (kNN), for fitting tests on made-up features."""
    from aivad.model.aivad_model import default_density_config
    from aivad.model.config import ModelConfig
    from aivad.model.scoring import MAX_SMOOTHED

    return ModelConfig(
        backend="full",
        backend_settings={},
        encoder="clip_vit_b16",
        density=default_density_config(["velocity", "pose"]),
        combine=MAX_SMOOTHED,
        smoothing_sigma=smoothing_sigma,
    )


# --- processes a test starts -------------------------------------------------------------------
# A test waits on what its process does (a line it prints, a file it writes, its exit), never on a
# wall-clock deadline that a busy machine can miss, and it ends every process it started, pass or fail.
# The one clock is this limit, there only so that a hung process cannot hold a test run forever: a
# process still running after it is killed, with everything it started, and its test fails saying so.
SAFETY_LIMIT_S = 1800


try:  # looked up here, not in the child: between fork and exec only the call itself is safe
    import ctypes

    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_pytest() -> None:
    """Linux, in the child before it runs: SIGKILL it if pytest itself is killed, when no finally can run."""
    _PRCTL(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Until ``condition()`` holds, however long that takes; fails only at the safety limit (a hang)."""
    give_up = time.monotonic() + SAFETY_LIMIT_S
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"still waiting for {what} after the {SAFETY_LIMIT_S} s safety limit")
        time.sleep(0.01)


def _popen(command: list, **kwargs) -> subprocess.Popen:
    # Its own process group (POSIX), so that ending it also ends what it started: DDP ranks, decoding workers.
    return subprocess.Popen(
        [str(c) for c in command],
        start_new_session=sys.platform != "win32",
        preexec_fn=_die_with_pytest if _PRCTL is not None else None,
        text=True,
        encoding="utf-8",
        **kwargs,
    )


def _end(process: subprocess.Popen) -> None:
    """Kill the process and everything it started; wait until it is gone."""
    if getattr(process, "ended_by_test", False):  # once: its group id may belong to another process later
        process.wait()
        return
    process.ended_by_test = True
    if sys.platform == "win32":
        if process.poll() is None:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True, check=False)
    else:
        with suppress(ProcessLookupError, PermissionError):  # nothing left in the group
            os.killpg(process.pid, signal.SIGKILL)
    with suppress(OSError):
        process.kill()
    process.wait()


@contextmanager
def _owned(process: subprocess.Popen) -> Iterator[threading.Event]:
    """Ends ``process`` when the block ends, however it ends; the event is set if the safety limit killed it."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _end(process)

    watchdog = threading.Timer(SAFETY_LIMIT_S, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield expired
    finally:
        watchdog.cancel()
        _end(process)


def _expired_message(command: list, output: str) -> str:
    return f"{command} still ran after the {SAFETY_LIMIT_S} s safety limit and was killed:\n{output[-3000:]}"


def run_process(command: list, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(command, capture_output=True, text=True)`` that waits for the exit however long it
    takes (up to the safety limit) and leaves nothing the command started behind."""
    process = _popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    with _owned(process) as expired:
        stdout, stderr = process.communicate()
    if expired.is_set():
        raise AssertionError(_expired_message(command, stdout + stderr))
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


class Started:
    """A running process whose output (stdout and stderr together) a thread reads as it comes, so that
    a full pipe never stalls it, and whose events a test can wait for."""

    def __init__(self, command: list, process: subprocess.Popen, expired: threading.Event) -> None:
        self.command, self.process, self._expired = command, process, expired
        self.lines: list[str] = []
        self._ended = False
        self._news = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._news:
                self.lines.append(line)
                self._news.notify_all()
        with self._news:
            self._ended = True
            self._news.notify_all()

    @property
    def output(self) -> str:
        with self._news:
            return "".join(self.lines)

    def _failure(self, what: str) -> AssertionError:
        if self._expired.is_set():
            return AssertionError(_expired_message(self.command, self.output))
        return AssertionError(f"the process ended {what}:\n{self.output[-3000:]}")

    def wait_for_line(self, text: str) -> str:
        """Until the process prints a line holding ``text``; the output so far. Fails if it ends first."""
        with self._news:
            checked = 0
            while not any(text in line for line in self.lines[checked:]):
                checked = len(self.lines)
                if self._ended:
                    raise self._failure(f"without printing {text!r}")
                self._news.wait()
            return "".join(self.lines)

    def wait_until(self, condition: Callable[[], bool]) -> bool:
        """Until ``condition()`` holds (a file the process writes, say): True; False if the process ends first."""
        while not condition():
            if self.process.poll() is not None:
                return condition()
            with self._news:  # a file has no event to wait on: look again soon, or at the next line printed
                self._news.wait(0.01)
        return True

    def wait(self) -> int:
        """Until the process exits and all its output is read; its exit status."""
        self.process.wait()
        self._reader.join()
        if self._expired.is_set():
            raise self._failure("at the safety limit")
        return self.process.returncode


@contextmanager
def started(command: list, **kwargs) -> Iterator[Started]:
    """Start ``command``; when the block ends, pass or fail, it and everything it started are killed."""
    process = _popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)
    running = None
    try:
        with _owned(process) as expired:
            running = Started(command, process, expired)
            yield running
    finally:
        if running is not None:
            running._reader.join()  # the pipe closed with the last process holding it
        process.stdout.close()
