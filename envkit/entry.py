"""The ``envkit`` console entry point: signal handling first, then the CLI.

SIGTERM is made to raise KeyboardInterrupt before anything else is imported, so a signal at any moment after
this module starts (even while ``envkit.cli`` is still being imported) ends with "interrupted" and exit 130,
never a traceback and never the shell's 143.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

INTERRUPTED = 130  # envkit.errors.ExitCode.INTERRUPTED (not imported: this module must not wait on imports)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    try:
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)
        from envkit.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while reporting changes nothing
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("interrupted", file=sys.stderr)
        except (KeyboardInterrupt, OSError, ValueError):
            pass
        return INTERRUPTED
