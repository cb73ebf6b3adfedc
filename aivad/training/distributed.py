"""Several processes (GPUs, machines) for one training run, with Lightning's own engine.

``--devices N --num-nodes M`` starts N x M processes through Lightning Fabric's launcher (the
training script is run again for every other rank, as Lightning does for scripts; on a cluster
torchrun or SLURM start them instead, README). Each rank extracts and embeds its share of the
videos, the encoder trains under DDP (Lightning's Trainer joins the process group Fabric made), and
rank 0 fits the densities and writes the checkpoint. On a CPU this runs with the gloo backend, which
is how the tests check it on machines without GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"  # this rank's torch device ("cuda:1", "cpu")
    fabric: object | None = field(default=None, repr=False)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.fabric is not None and self.world > 1:
            self.fabric.barrier()

    def mine(self, index: int) -> bool:
        """Work item ``index`` (a video) belongs to this rank."""
        return index % self.world == self.rank


def launch(device: str, devices: int, num_nodes: int) -> Ranks:
    """One process per device and node (nothing is started for a single device)."""
    if devices * num_nodes <= 1:
        return Ranks(device=device)
    from lightning.fabric import Fabric

    fabric = Fabric(
        accelerator="cuda" if device == "cuda" else "cpu", devices=devices, num_nodes=num_nodes, strategy="ddp"
    )
    fabric.launch()
    torch_device = f"cuda:{fabric.local_rank}" if device == "cuda" else "cpu"
    return Ranks(fabric.global_rank, fabric.world_size, fabric.local_rank, torch_device, fabric)
