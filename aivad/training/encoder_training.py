"""The appearance encoder's training loop: Mean-Shifted Contrastive training under Lightning.

A Lightning ``Trainer`` runs :class:`aivad.training.msc.MeanShiftedTraining` on the sampled region crops and
honours lr, epochs, batch size, accumulation, precision, clipping and the seed; Ctrl+C leaves a state
that ``--resume`` continues; with several processes it trains under DDP (aivad.training.distributed).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import numpy as np

from aivad.console import log
from aivad.errors import UserError


def train_encoder(
    encoder,
    crops: np.ndarray,
    args,
    device: str,
    precision: str,
    run_dir: Path,
    ranks=None,
    *,
    colour: tuple[float, float],
) -> tuple[str, dict]:
    """Mean-Shifted Contrastive training on the sampled crops; returns ('done'|'interrupted'|'skipped', stats).

    ``colour``: the crops' colour augmentation, aivad.training.msc.colour_augmentation of the model's backend.
    """
    if args.epochs == 0:
        log("encoder: --epochs 0, appearance encoder stays frozen (plain AI-VAD)")
        return "skipped", {}
    import lightning as L
    from lightning.pytorch.callbacks import Callback, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader

    from aivad.training.distributed import Ranks
    from aivad.training.msc import CropPairs, GlobalBatches, MeanShiftedTraining, feature_center

    ranks = ranks or Ranks(device=device)

    if crops is None or len(crops) < 2:
        raise UserError(
            "only one region was found in all the footage: the encoder needs at least two; add footage or use "
            "--epochs 0."
        )
    L.seed_everything(args.seed, workers=True, verbose=False)
    center = feature_center(encoder, crops, ranks.device)
    module = MeanShiftedTraining(encoder, center, lr=args.lr)
    batch_size = min(args.batch_size, len(crops))
    batch_size -= batch_size % ranks.world
    # Augmentation is cheap next to the encoder: workers here would each receive a copy of all crops.
    batches = GlobalBatches(len(crops), batch_size, args.seed, ranks.rank, ranks.world)
    loader = DataLoader(CropPairs(crops, seed=args.seed, colour=colour), batch_sampler=batches, num_workers=0)
    checkpoints = run_dir / "checkpoints"
    resume_from = checkpoints / "last.ckpt"

    ctrl_c = threading.Event()

    class SaveOnInterrupt(Callback):
        """Ctrl+C: keep where training got to, so --resume continues instead of starting over."""

        def on_exception(self, trainer, pl_module, exception):
            if isinstance(exception, KeyboardInterrupt):
                trainer.save_checkpoint(resume_from)

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            # A KeyboardInterrupt raised where Python cannot pass it on (inside a finaliser that the garbage
            # collector ran at that moment) is printed and dropped; seen once on a loaded machine, where a
            # Ctrl+C let training run all its epochs. The flag survives that: stop at the next batch.
            if ctrl_c.is_set():
                raise KeyboardInterrupt

    def on_ctrl_c(signum, frame):
        ctrl_c.set()
        raise KeyboardInterrupt

    trainer = L.Trainer(
        enable_progress_bar=ranks.is_main,
        max_epochs=args.epochs,
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy="ddp" if ranks.world > 1 else "auto",
        use_distributed_sampler=False,  # GlobalBatches gives each rank its slice of every batch
        precision=precision,
        accumulate_grad_batches=args.accumulate_grad_batches,
        gradient_clip_val=args.gradient_clip_val or None,
        logger=CSVLogger(run_dir, name="logs"),
        # Every epoch's state in last.ckpt, so that --resume also continues after a kill or a crash. (Not
        # save_last=True with save_top_k=0: Lightning 2.6 writes "last" only after a top-k save, so never.)
        callbacks=[
            ModelCheckpoint(dirpath=checkpoints, filename="last", save_top_k=1, enable_version_counter=False),
            SaveOnInterrupt(),
        ],
        default_root_dir=run_dir,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        deterministic=False,
    )
    ckpt_path = str(resume_from) if args.resume and resume_from.is_file() else None
    if not args.resume and resume_from.exists():
        resume_from.unlink()  # a new run starts over; only --resume continues
    if args.resume and ckpt_path is None:
        log(f"resume: no saved state in {checkpoints}; starting the encoder training from the beginning")
    elif ckpt_path:
        log(f"resume: continuing from {resume_from}")
    log(f"encoder: Mean-Shifted Contrastive training, {len(crops)} region crops, lr {args.lr}, {args.epochs} epochs")
    main_thread = threading.current_thread() is threading.main_thread()  # only it may set a signal handler
    previous = signal.signal(signal.SIGINT, on_ctrl_c) if main_thread else None
    try:
        trainer.fit(module, loader, ckpt_path=ckpt_path)
    except SystemExit:  # Lightning exits after a graceful Ctrl+C shutdown; we report it ourselves
        if not trainer.interrupted:
            raise
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    losses = [float(v) for k, v in trainer.callback_metrics.items() if k.startswith("loss")]
    stats = {
        "final_loss": losses[0] if losses else None,
        "epochs_done": trainer.current_epoch,
        "log_dir": str(trainer.logger.log_dir),
    }
    return ("interrupted" if trainer.interrupted else "done"), stats
