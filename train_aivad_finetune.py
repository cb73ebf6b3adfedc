"""Fine-tune an existing AI-VAD checkpoint on the videos in video_files_list.py.

Starts from aivad_proper_checkpoint.ckpt (ours or one written by anomalib's AiVad; it is never
modified) and continues gently. Every default below can be changed on the command line:
    python train_aivad_finetune.py --help
"""

from pathlib import Path

PRESET = dict(
    lr=1e-5,
    epochs=5,
    accumulate_grad_batches=2,
    output="aivad_finetuned.ckpt",
    init_checkpoint=Path("aivad_proper_checkpoint.ckpt"),
    backend=None,  # taken from the base checkpoint
    video_list=Path(__file__).resolve().parent / "video_files_list.py",
)

if __name__ == "__main__":
    import sys

    from aivad.training.pipeline import run

    sys.exit(run(PRESET))
