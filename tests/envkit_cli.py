"""Run the real ``envkit`` command in a subprocess (stdin not a terminal), as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ENVKIT = [sys.executable, "-m", "envkit"]


def envkit(*args: str, input: str | None = None, cwd: Path | None = None,
           env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ENVKIT, *args], capture_output=True, text=True, timeout=timeout, input=input, cwd=cwd,
                          env=env)
