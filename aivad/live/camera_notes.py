"""What the camera itself does, as the window and ``watch`` report it (``FrameResult.camera``).

The states come from two places: each frame pair (aivad.features.camera_motion.camera_state: a shake or an
exposure step taken out of the scores, or no picture at all), and the stream's view against the training
footage's (aivad.features.camera_view: the camera looks elsewhere). Scores never read them.
"""

from __future__ import annotations

from aivad.features.camera_motion import EXPOSURE, NO_PICTURE, SHAKING

VIEW_CHANGED = "view changed"
CAMERA_HOLD_FRAMES = 10  # frames a pair's state stays reported after the last pair that showed it

# What the log says when the state changes ("" is the camera back to normal).
CAMERA_MESSAGES = {
    SHAKING: "camera shaking: its own motion is taken out of the scores",
    EXPOSURE: "camera exposure changed: taken out of the scores",
    NO_PICTURE: "camera shows no picture (covered lens or no signal)",
    VIEW_CHANGED: "camera view differs from the training footage: check the camera, or train on its new view",
    "": "camera steady again",
}


class CameraNote:
    """One stream's camera state: a pair's state held CAMERA_HOLD_FRAMES frames (a shake's calmer pairs
    in between would make it flicker), then a changed view, which comes after what the pair itself shows
    (a covered lens, a shake)."""

    def __init__(self) -> None:
        self.state, self._hold = "", 0

    def reset(self) -> None:
        self.state, self._hold = "", 0

    def update(self, pair_state: str, view_changed: bool) -> str:
        if pair_state:
            self.state, self._hold = pair_state, CAMERA_HOLD_FRAMES
        elif self._hold > 0:
            self._hold -= 1
        else:
            self.state = VIEW_CHANGED if view_changed else ""
        return self.state
