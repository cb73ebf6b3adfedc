"""Train AI-VAD from scratch on the videos in video_files_list.py.

Nothing is loaded but the public pretrained backbones; the appearance encoder is adapted to your
footage (see README, "What is trained"). Every default below can be changed on the command line:
    python train_aivad_from_scratch.py --help
"""

from pathlib import Path

PRESET = dict(
    lr=1e-4,
    epochs=20,
    accumulate_grad_batches=4,
    output="aivad_from_scratch.ckpt",
    init_checkpoint=None,
    backend=None,  # full AI-VAD; --backend lite for the CPU real-time variant
    video_list=Path(__file__).resolve().parent / "video_files_list.py",
)

if __name__ == "__main__":
    import sys

    from aivad.training.pipeline import run

    sys.exit(run(PRESET))
