"""envkit exits with its own code every time (issue 11, item 7).

py-rattler's native objects abort (134) or segfault (139) now and then while the interpreter tears
them down: before ``envkit.entry.main`` left with ``os._exit``, 48 of 150 ``create --dry-run`` runs on
this 2-core machine ended with a signal. Each run here is a real ``envkit`` process solving against a
real local channel; a signal exit in any of them fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

RUNS = int(os.environ.get("ENVKIT_EXIT_RUNS", "300"))  # create --dry-run and check together


@pytest.mark.slow
def test_create_dry_run_and_check_never_exit_by_signal(trt_channel: Path, tmp_path: Path) -> None:
    envkit = str(Path(sys.executable).with_name("envkit"))  # the console script installed with this venv
    env_file = tmp_path / "environment.yml"
    env_file.write_text(f"name: exits\nchannels: [{trt_channel.as_uri()}]\ndependencies: [tensorrt, trt-tools]\n")
    create = [envkit, "create", "--file", str(env_file), "--prefix", str(tmp_path / "p"), "--dry-run", "--json"]
    check = [envkit, "check", "--file", str(env_file), "--target", "linux-64:driver=560.35.03", "--json"]
    env = {**os.environ, "CONDA_OVERRIDE_CUDA": "12.6"}

    def one(i: int) -> tuple[int, int]:
        argv = create if i % 2 == 0 else check
        return i, subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False).returncode

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(one, range(RUNS)))
    bad = [(("create", "check")[i % 2], code) for i, code in codes if code != 0]
    assert not bad, f"{len(bad)} of {RUNS} runs did not exit 0: {bad[:10]}"
