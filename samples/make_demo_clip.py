"""Write samples/demo_normal.mp4: a synthetic corridor with people walking normally.

Run from anywhere:  python samples/make_demo_clip.py
The clip is made on the fly (no downloaded footage) and is the same every time.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so "import aivad" works without installing the package

from aivad.synthetic import make_scene_video  # noqa: E402

DEMO_CLIP = REPO_ROOT / "samples" / "demo_normal.mp4"


def main() -> None:
    path = make_scene_video(DEMO_CLIP, n_frames=200, size=(320, 240), fps=10, seed=0, walkers=4)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
