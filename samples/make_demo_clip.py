"""Write samples/demo_normal.mp4: a synthetic corridor with people walking normally.

Run from anywhere:  python samples/make_demo_clip.py
The clip is made on the fly (no downloaded footage) and is the same every time.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so "import aivad" works without installing the package

from aivad.video.synthetic import DEMO_CLIP_NAME, make_demo_clip  # noqa: E402

DEMO_CLIP = REPO_ROOT / "samples" / DEMO_CLIP_NAME


def main() -> None:
    path = make_demo_clip(DEMO_CLIP)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
