"""Process-level plumbing shared by every entry point: UTF-8 output and friendly errors.

Windows consoles default to a legacy code page; Korean paths and messages must print anyway,
so every entry point calls :func:`run_main`, which reconfigures the streams first.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable

from aivad.errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def use_utf8_console() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(encoding="utf-8", errors="replace")
            except (ValueError, OSError):  # a stream that cannot change encoding (e.g. closed)
                pass


def quiet_third_party_noise() -> None:
    """Hide import-time deprecation chatter from dependencies that users cannot act on."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(timm|anomalib)\..*")
    warnings.filterwarnings("ignore", message=r".*timm\.models\.layers.*")
    warnings.filterwarnings("ignore", message=r".*dinov2.*deprecated.*")
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")  # Lightning internals on torch >= 2.10
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run an entry point: user errors become one line on stderr and exit status 2.

    ``--debug`` anywhere on the command line shows full tracebacks instead.
    """
    use_utf8_console()
    quiet_third_party_noise()
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    try:
        return int(main(args) or 0)
    except UserError as error:
        if debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug, not a user mistake: still one readable line by default
        if debug:
            raise
        print(
            f"error: unexpected {type(error).__name__}: {error} (run again with --debug for details)", file=sys.stderr
        )
        return 1


QUIET = {"on": False}  # the other processes of a multi-process training run stay silent


def log(message: str) -> None:
    """A progress line for the user (training), from the main process only."""
    if not QUIET["on"]:
        print(message, flush=True)
