"""Run ``envkit`` with a fault at the Nth call of a file-system primitive (used by test_faults.py).

``python fault_child.py KIND N SIGNAL -- envkit args...``: KIND is ``rename`` (os.rename/os.replace, which
Path.rename and every swap step use) or ``rmtree-unlink`` (os.unlink inside shutil.rmtree: deleting a tree).
At the Nth such call, before it runs, the process sends itself SIGNAL (a real signal: SIGKILL ends it there,
SIGTERM/SIGINT reach envkit's handlers).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

kind, nth, signum = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
args = sys.argv[sys.argv.index("--") + 1:]
counts = {"rename": 0, "rmtree-unlink": 0}
in_rmtree = [0]


def _hit(what: str) -> None:
    counts[what] += 1
    if what == kind and counts[what] == nth:
        os.kill(os.getpid(), signum)


def _wrap_rename(orig: Any) -> Any:
    def f(*a: Any, **k: Any) -> Any:
        _hit("rename")
        return orig(*a, **k)
    return f


def _unlink(orig: Any) -> Any:
    def f(*a: Any, **k: Any) -> Any:
        if in_rmtree[0]:
            _hit("rmtree-unlink")
        return orig(*a, **k)
    return f


def _rmtree(orig: Any) -> Any:
    def f(*a: Any, **k: Any) -> Any:
        in_rmtree[0] += 1
        try:
            return orig(*a, **k)
        finally:
            in_rmtree[0] -= 1
    return f


os.rename = _wrap_rename(os.rename)
os.replace = _wrap_rename(os.replace)
os.unlink = _unlink(os.unlink)
shutil.rmtree = _rmtree(shutil.rmtree)

sys.argv = ["envkit", *args]
from envkit.entry import main  # noqa: E402

sys.exit(main())
