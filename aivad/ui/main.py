"""``realtime_ui_advanced_windows.py``'s work: command line, Qt start-up, the window, exit status."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from PySide6.QtCore import QSettings, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import (
    QApplication,
)

from aivad.devices import DEVICE_CHOICES
from aivad.ui import i18n
from aivad.ui.app import MainWindow
from aivad.ui.automation import Automation
from aivad.ui.cameras import LAYOUTS, CameraConfig, parse_camera_arg
from aivad.ui.i18n import tr
from aivad.ui.theme import apply_theme


def camera_arg(text: str) -> CameraConfig:
    try:
        return parse_camera_arg(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="realtime_ui_advanced_windows.py",
        description="Watch a video, a camera or a stream with a trained AI-VAD checkpoint and see why it alarms.",
    )
    parser.add_argument("--checkpoint", help="trained checkpoint (.ckpt) to load at start")
    parser.add_argument("--source", help="video file, camera index (0, 1, …) or rtsp:// / http:// URL")
    parser.add_argument(
        "--camera",
        action="append",
        type=camera_arg,
        default=[],
        metavar="SPEC",
        help='a camera to watch, repeatable: "name=Gate;source=video.mp4;checkpoint=model.ckpt;threshold=0.5" '
        "(replaces the saved cameras for this run; default: none, the saved ones)",
    )
    parser.add_argument(
        "--layout",
        choices=tuple(LAYOUTS),
        default=None,
        help="camera grid: 1 (the selected camera alone), 2x2 or 3x3 (default: last used, else 1; "
        "with several --camera, the smallest grid that holds them)",
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default=None,
        help="where the model runs (default: last used, else auto)",
    )
    parser.add_argument(
        "--lang", choices=("ko", "en"), default=None, help="interface language (default: last used, else the system's)"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=0,
        help="automation: process this many frames, then exit (with --screenshot: save the window first)",
    )
    parser.add_argument("--screenshot", help="automation: PNG file for a picture of the whole window")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="automation: give up (exit 2) after this many seconds"
    )
    parser.add_argument("--output", help="folder for event snapshots, clips and CSV (remembered)")
    parser.add_argument("--settings-file", help="use this INI file instead of the user's remembered settings")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of unexpected errors")
    return parser


def main(argv: list[str] | None = None, default_checkpoint: str | None = None) -> int:
    args = build_parser().parse_args(argv)
    automated = bool(args.frames or args.screenshot)
    if automated and args.frames <= 0:
        args.frames = 1

    def qt_message(mode, context, message: str) -> None:
        # The headless (offscreen) platform repeats this on every label change; it means nothing.
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("aivad")
    app.setApplicationName("AI-VAD")
    apply_theme(app)
    settings = (
        QSettings(args.settings_file, QSettings.Format.IniFormat)
        if args.settings_file
        else QSettings("aivad", "realtime_ui")
    )
    if args.lang:
        settings.setValue("language", args.lang)
    language = args.lang or str(settings.value("language", "system"))
    i18n.set_language(i18n.system_language() if language == "system" else language)
    if args.device:
        settings.setValue("device", args.device)
    if args.output:
        settings.setValue("output_dir", args.output)

    automation = Automation(args.frames, args.screenshot, args.timeout) if automated else None
    window = MainWindow(settings, automation)

    def report_unexpected(kind, value, tb) -> None:
        # An error inside a Qt slot: show it, keep the window; never a silent crash.
        if args.debug or automated:
            traceback.print_exception(kind, value, tb)
        window.show_error(tr("problem", message=f"{kind.__name__}: {value}"), owner="problem")

    sys.excepthook = report_unexpected
    window.show()

    if args.camera:
        fits = [name for name, side in LAYOUTS.items() if side * side >= len(args.camera)] or ["3x3"]
        layout = args.layout or fits[0]
        window.set_cameras(args.camera, layout)
    elif args.layout:
        window.set_layout(args.layout)
    checkpoint = args.checkpoint
    if checkpoint is None and not automated and not window.checkpoint_path:
        candidates = [default_checkpoint, str(settings.value("last_checkpoint", "") or "")]
        checkpoint = next((c for c in candidates if c and os.path.isfile(c)), None)
    if checkpoint:
        window.load_checkpoint(checkpoint)
    if args.source:
        window.open_source(args.source)

    if automation is not None:
        if not args.source and not args.camera:
            print("--frames/--screenshot need --source or --camera", file=sys.stderr)
            window._automation_finish(2)
        QTimer.singleShot(int(args.timeout * 1000), lambda: window._automation_finish(2))

    code = app.exec()
    window.close()
    return int(code)
