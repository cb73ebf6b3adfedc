"""``python -m aivad ...``: see aivad/cli.py."""

import sys

from aivad.cli import main
from aivad.console import run_main

if __name__ == "__main__":
    sys.exit(run_main(main))
