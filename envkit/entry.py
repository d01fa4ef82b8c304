"""The ``envkit`` console entry point: signal handling first, then the CLI.

SIGTERM is made to raise KeyboardInterrupt before anything else is imported, so a signal at any moment after
this module starts (even while ``envkit.cli`` is still being imported) ends with "interrupted" and exit 130,
never a traceback and never the shell's 143.

envkit also exits with its own code every time: py-rattler's native objects (its tokio runtime threads) abort
or segfault now and then while the interpreter tears them down (measured: 48 of 150 ``create --dry-run`` runs
exited 134/139 on a loaded 2-core machine). Once rattler is loaded, ``main`` flushes the output and leaves
with ``os._exit``: every file envkit writes is closed (atomic writes) before the CLI returns, so nothing is lost.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

INTERRUPTED = 130  # envkit.errors.ExitCode.INTERRUPTED (not imported: this module must not wait on imports)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    code = _run()
    # os._exit also after an interrupt: CPython ends a process whose KeyboardInterrupt went unhandled
    # anywhere (even inside an import it then caught) by killing itself with SIGINT, not with our 130
    if "rattler" in sys.modules or code == INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code


def _run() -> int:
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
