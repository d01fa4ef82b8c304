"""``envkit run``: activation (activate.d, PATH, CONDA_PREFIX) and exit code propagation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url

from envkit.cli import main
from envkit.context import Settings
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env


@pytest.fixture
def demo(trt_channel: Path, tmp_path: Path, envkit_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    return create_env(CreateRequest(file=env, name="demo"), envkit_settings).prefix


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envkit", "run", *args], capture_output=True, text=True, timeout=60)


def test_activation(demo: Path) -> None:
    r = _run("demo", "--", "trt-hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"trt-hello TRT_HOME={demo}/share/trt prefix={demo}"
    r = _run("--prefix", str(demo), "--", "sh", "-c", 'echo "$CONDA_PREFIX|$CONDA_DEFAULT_ENV|${PATH%%:*}"')
    assert r.stdout.strip() == f"{demo}|demo|{demo}/bin"


def test_exit_code_propagated(demo: Path) -> None:
    assert _run("demo", "--", "sh", "-c", "exit 42").returncode == 42
    assert main(["run", "demo", "--", "false"]) == 1


def test_args_with_spaces(demo: Path) -> None:
    r = _run("demo", "--", "printf", "%s|", "a b", "$HOME", "")
    assert r.stdout == "a b|$HOME||"


def test_errors(envkit_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "nope", "--", "true"]) == 2
    assert "no environment named 'nope'" in capsys.readouterr().err
    assert main(["run", "--prefix", str(tmp_path), "--", "true"]) == 2
    assert main(["run", "x"]) == 2
    assert os.environ.get("CONDA_PREFIX") != str(tmp_path)


def test_missing_command_is_127_with_one_clear_line(demo: Path) -> None:
    """Regression: the internal script's line (`envkit-run: line 8: exec: ...`) was printed."""
    r = _run("demo", "--", "no-such-command-xyz", "arg")
    assert r.returncode == 127
    assert r.stderr.strip() == "command not found: no-such-command-xyz"
