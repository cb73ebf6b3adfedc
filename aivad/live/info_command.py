"""``python -m aivad info``: what a checkpoint holds, in a few lines a user can read."""

from __future__ import annotations

from pathlib import Path


def view_line(info: dict) -> str:
    """Whether the checkpoint carries its training footage's view (aivad.features.camera_view)."""
    from aivad.features.camera_view import VIEW_SIZE, decode_view

    if decode_view(info.get("camera_view")) is None:
        return "none (trained before the view check: a camera turned away is not noticed)"
    return f"stored ({VIEW_SIZE[0]}x{VIEW_SIZE[1]} grey picture): each camera is compared with it live"


def print_info(path: Path) -> int:
    from aivad.live.detector import load_model
    from aivad.model import teach
    from aivad.model.alarm import false_alarm_line
    from aivad.model.config import weights_line

    model, info = load_model(path)
    print(f"checkpoint: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"kind:       {info.get('source')}")
    print(f"backend:    {info.get('backend')}")
    print(f"threshold:  {info['threshold']:.4f}")
    rate_line = false_alarm_line(model.config)
    if rate_line:
        print(f"alarms:     {rate_line}")
    print(f"created:    {info.get('created')}")
    for video in info.get("videos", []):
        shape = ""  # what live streams are scaled and stepped to (aivad.video.frame_size, frame_rate)
        if video.get("size") and video.get("fps"):
            shape = f"{video['size'][0]}x{video['size'][1]} at {float(video['fps']):g} fps, "
        print(f"video:      {video['path']} ({shape}{video.get('frames')} frames, {video.get('regions', '?')} regions)")
    settings = info.get("settings", {})
    for key in ("lr", "epochs", "batch_size", "accumulate_grad_batches", "frame_stride"):
        if key in settings:
            print(f"{key + ':':<12}{settings[key]}")
    print(f"weights:    {weights_line(model.config, settings)}")
    memory = {
        name: int(d.bank.shape[0]) if hasattr(d, "bank") else f"GMM x{d.means.shape[0]}"
        for name, d in model.densities.items()
    }
    print(f"memory:     {memory}")
    print(f"view:       {view_line(info)}")
    for line in teach.taught_lines(info):
        print(line)
    n_params = sum(p.numel() for p in model.encoder.parameters())
    print(f"encoder:    {model.config.encoder} ({n_params / 1e6:.2f} M parameters)")
    for name, version in info.get("versions", {}).items():
        print(f"{name + ':':<12}{version}")
    return 0
