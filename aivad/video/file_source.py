"""A video file (or a frame folder) as a frame source: played at its own rate or frame by frame, with seeking."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivad.video.files import SeekableVideo
from aivad.video.sources import FrameSource, SourceFrame, SourceStatus, StatusCallback


# ------------------------------------------------------------------------------------
# Video files
# ------------------------------------------------------------------------------------
@dataclass
class _FileCommand:
    name: str  # "play" | "pause" | "seek" | "step" | "every_frame"
    value: float | int | bool = 0


class FileSource(FrameSource):
    """A video file decoded with PyAV, or a frame folder (aivad.video.frame_folders), played at its own rate
    or frame by frame. ``fps`` is a frame folder's rate (None: FRAME_FOLDER_FPS); a video file keeps its own."""

    kind = "file"
    seekable = True

    def __init__(
        self,
        path: str | Path,
        on_status: StatusCallback | None = None,
        every_frame: bool = False,
        start_paused: bool = False,
        preroll_frames: int = 1,
        fps: float | None = None,
    ) -> None:
        super().__init__(Path(path).name, on_status)
        self.path = str(path)
        self.folder_fps = fps
        self.every_frame = every_frame
        self.preroll_frames = preroll_frames  # frames decoded before a seek target to warm the model
        self._paused = start_paused
        self._commands: queue.Queue[_FileCommand] = queue.Queue()
        self._epoch = 0
        self.position = 0  # index of the last frame handed over

    # --- controls (any thread) -------------------------------------------------------
    def play(self) -> None:
        self._commands.put(_FileCommand("play"))

    def pause(self) -> None:
        self._commands.put(_FileCommand("pause"))

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    @property
    def playing(self) -> bool:
        return not self._paused and self.status.state == "playing"

    @property
    def paused(self) -> bool:
        return self._paused

    def seek(self, index: int) -> None:
        self._commands.put(_FileCommand("seek", int(index)))

    def step(self, delta: int = 1) -> None:
        self._commands.put(_FileCommand("step", int(delta)))

    def set_every_frame(self, enabled: bool) -> None:
        self._commands.put(_FileCommand("every_frame", bool(enabled)))

    @property
    def source_fps(self) -> float:
        return self.fps

    # --- decoding thread -------------------------------------------------------------
    def _run(self) -> None:
        self._report(SourceStatus("opening"))
        if not os.path.exists(self.path):
            self._report(SourceStatus("failed", detail=f"not found: {self.path}"))
            return
        try:
            reader = SeekableVideo(self.path, fps=self.folder_fps)
        except Exception as error:
            self._report(SourceStatus("failed", detail=f"{type(error).__name__}: {error}"))
            return
        self.fps = reader.fps
        self.frame_count = reader.frame_count
        self.size = (reader.width, reader.height)
        try:
            self._play_loop(reader)
        finally:
            reader.close()

    def _play_loop(self, reader: SeekableVideo) -> None:
        frames = reader.frames()
        # Wall-clock anchor for real-time pacing: media time t is due at anchor_wall + (t - anchor_media).
        anchor_wall, anchor_media = time.monotonic(), 0.0
        pending_steps = (
            1 if self._paused else 0
        )  # single steps requested while paused; a paused start still shows frame 0
        target: int | None = None  # seek target: frames before it are preroll
        ended = False
        previous_decoded: tuple[tuple[int, int], np.ndarray] | None = None  # ((epoch, index), image)
        self._report(SourceStatus("paused" if self._paused else "playing"))

        while not self._stop.is_set():
            # 1. Commands. A burst of seeks (dragging the slider) collapses to the last one.
            seek_to: int | None = None
            try:
                while True:
                    command = self._commands.get_nowait()
                    if command.name == "play":
                        if ended:
                            seek_to = 0
                        self._paused = False
                        pending_steps = 0
                    elif command.name == "pause":
                        self._paused = True
                    elif command.name == "seek":
                        seek_to = int(command.value)
                    elif command.name == "step":
                        self._paused = True
                        if command.value >= 0:
                            pending_steps += int(command.value)
                        else:
                            seek_to = max(0, self.position + int(command.value))
                    elif command.name == "every_frame":
                        self.every_frame = bool(command.value)
                    self._report(SourceStatus("paused" if self._paused else "playing"))
            except queue.Empty:
                pass

            if seek_to is not None:
                if self.frame_count:
                    seek_to = min(seek_to, self.frame_count - 1)
                target = max(0, seek_to)
                reader.seek(max(0, target - self.preroll_frames))
                frames = reader.frames()
                self._epoch += 1
                self.slot.clear()
                ended = False
                pending_steps = max(pending_steps, 1) if self._paused else 0
                anchor_wall = time.monotonic()
                anchor_media = target / self.fps
                self._report(SourceStatus("paused" if self._paused else "playing"))

            if ended or (self._paused and pending_steps == 0):
                time.sleep(0.02)
                anchor_wall, anchor_media = time.monotonic(), (self.position + 1) / self.fps
                continue

            # 2. Decode the next frame.
            try:
                index, time_s, image = next(frames)
            except StopIteration:
                ended = True
                self._report(SourceStatus("ended"))
                continue
            except Exception as error:  # corrupt data mid-file
                self._report(SourceStatus("failed", detail=f"{type(error).__name__}: {error}"))
                return
            is_preroll = target is not None and index < target
            if not is_preroll:
                target = None

            # 3. Real-time pacing (not for preroll, single steps or every-frame mode).
            if not is_preroll and not self.every_frame and not self._paused:
                due = anchor_wall + (time_s - anchor_media)
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                elif delay < -0.5:
                    # Decoding itself fell behind (slow disk, 4K file): re-anchor instead of racing.
                    anchor_wall, anchor_media = time.monotonic(), time_s

            follows = previous_decoded is not None and previous_decoded[0] == (self._epoch, index - 1)
            frame = SourceFrame(
                image,
                index,
                time_s,
                time.monotonic(),
                self._epoch,
                is_preroll,
                previous_decoded[1] if follows else None,
            )
            previous_decoded = ((self._epoch, index), image)
            block = self.every_frame or self._paused or is_preroll
            delivered = self.slot.put(frame, block=block, cancelled=self._interrupted)
            if not delivered:
                continue  # a seek or stop arrived while waiting; the loop handles it
            if not is_preroll:
                self.position = index
                self._rate.tick()
                if self._paused and pending_steps > 0:
                    pending_steps -= 1

    def _interrupted(self) -> bool:
        return self._stop.is_set() or not self._commands.empty()


# ------------------------------------------------------------------------------------
# Cameras and network streams (OpenCV)
# ------------------------------------------------------------------------------------
