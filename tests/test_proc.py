"""envkit.proc.run: the one subprocess wrapper, with real processes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from envkit import proc

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX programs")
PY = sys.executable


def test_ok_output_and_seconds() -> None:
    r = proc.run([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"], timeout=30)
    assert r.ok and r.ran and r.returncode == 0
    assert (r.stdout, r.stderr) == ("out\n", "err\n")
    assert r.output == "out\nerr"
    assert r.argv[0] == PY and r.seconds > 0
    assert not r.timed_out and not r.not_found and r.error is None


def test_nonzero_exit_is_a_result() -> None:
    r = proc.run([PY, "-c", "raise SystemExit(9)"], timeout=30)
    assert not r.ok and r.ran and r.returncode == 9
    assert r.describe().endswith("exit code 9")


def test_not_found(tmp_path: Path) -> None:
    r = proc.run([str(tmp_path / "no-such-program")], timeout=5)
    assert r.not_found and not r.ok and not r.ran and r.returncode is None
    assert "not found" in r.describe()
    assert proc.run(["envkit-no-such-program-on-path"], timeout=5).not_found


def test_not_executable(tmp_path: Path) -> None:
    f = tmp_path / "prog"
    f.write_text("#!/bin/sh\nexit 0\n")
    f.chmod(0o644)
    r = proc.run([str(f)], timeout=5)
    assert not r.not_found and r.error and not r.ok
    assert "cannot run" in r.describe()


def test_timeout_kills_the_whole_tree() -> None:
    start = time.monotonic()
    # the child starts a grandchild that keeps stdout open; both must go
    r = proc.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], timeout=1)
    assert time.monotonic() - start < 10
    assert r.timed_out and not r.ran and not r.ok and r.returncode is None
    assert "no answer after" in r.describe()


def test_input_cwd_and_env(tmp_path: Path) -> None:
    r = proc.run([PY, "-c", "import sys; print(sys.stdin.read().upper())"], timeout=30, input="abc")
    assert r.stdout == "ABC\n"
    r = proc.run([PY, "-c", "import os; print(os.getcwd())"], timeout=30, cwd=tmp_path)
    assert Path(r.stdout.strip()).resolve() == tmp_path.resolve()
    env = proc.clean_env({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": "/leak", "KEEP": "1"}, EXTRA="2")
    assert "PYTHONPATH" not in env and env["KEEP"] == "1" and env["EXTRA"] == "2" and env["LC_ALL"] == "C"
    r = proc.run([PY, "-c", "import os; print(os.environ.get('PYTHONPATH'), os.environ['KEEP'])"], timeout=30,
                 env=env)
    assert r.stdout.split() == ["None", "1"]


def test_undecodable_output_does_not_raise() -> None:
    r = proc.run([PY, "-c", "import sys; sys.stdout.buffer.write(b'\\xff\\xfeok')"], timeout=30)
    assert r.ok and r.stdout.endswith("ok")


def test_empty_argv() -> None:
    with pytest.raises(ValueError):
        proc.run([], timeout=1)
