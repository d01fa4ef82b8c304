"""Regression tests (issue 9): a signal at any moment once envkit runs ends with exit 130 and "interrupted",
never a KeyboardInterrupt traceback or the shell's 143.

The signal is sent as soon as the process has installed its SIGTERM handler (read from /proc/PID/status, so the
moment is known, not guessed), and at a few moments after it, while ``envkit.cli`` and the verb are loading.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"


def caught(pid: int, signum: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(ln.split()[1], 16) for ln in status.splitlines() if ln.startswith("SigCgt:"))
    return bool(mask & (1 << (signum - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03])
def test_early_signal_is_130(signum: int, delay: float) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "envkit", "resolve", "trt-bert", "--host", str(CAPTURE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 20
    while not caught(proc.pid, signal.SIGTERM):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.0005)
    time.sleep(delay)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted" in err
