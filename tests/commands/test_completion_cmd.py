"""``envkit completion``: scripts generated from the parser by shtab, exercised in the real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from envkit_cli import envkit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_path(tmp_path: Path) -> dict[str, str]:
    """An ``envkit`` executable on PATH (the completion scripts call it for names)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "envkit"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envkit --project "{ROOT}" "$@"\n')
    exe.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def _bash_complete(script: Path, words: list[str], env: dict[str, str]) -> list[str]:
    line = " ".join(words)
    prog = (f'source "{script}"\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; '
            f'COMP_POINT=${{#COMP_LINE}}\n_shtab_envkit\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n')
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return sorted(set(r.stdout.split()))


def test_bash_completes_verbs_options_and_names(make_env: Callable[..., Path], on_path: dict[str, str],
                                                tmp_path: Path) -> None:
    make_env(name="demo")
    make_env(name=None, prefix=tmp_path / "elsewhere" / "env1")
    script = tmp_path / "envkit.bash"
    script.write_text(envkit("completion", "bash").stdout)
    assert _bash_complete(script, ["envkit", "sh"], on_path) == ["shell", "shell-hook"]
    assert "--dry-run" in _bash_complete(script, ["envkit", "clean", "--"], on_path)
    assert _bash_complete(script, ["envkit", "run", "''"], on_path) == ["demo", "env1"]
    assert _bash_complete(script, ["envkit", "resolve", "trt-y"], on_path) == ["trt-yolo"]


def test_fish_completes_names(make_env: Callable[..., Path], on_path: dict[str, str], tmp_path: Path) -> None:
    if not shutil.which("fish"):
        pytest.skip("fish not installed")
    make_env(name="demo")
    script = tmp_path / "envkit.fish"
    script.write_text(envkit("completion", "fish").stdout)
    r = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C 'envkit smoke '"],
                       capture_output=True, text=True, env=on_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "demo" in r.stdout.split()
    r = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C 'envkit shell-'"],
                       capture_output=True, text=True, env=on_path, timeout=60)
    assert "shell-hook" in r.stdout


def test_zsh_script_loads(tmp_path: Path) -> None:
    if not shutil.which("zsh"):
        pytest.skip("zsh not installed")
    script = tmp_path / "_envkit"
    script.write_text(envkit("completion", "zsh").stdout)
    r = subprocess.run(["zsh", "-f", "-c", f"autoload -U compinit; compinit -u; source {script}; "
                        "whence -w _envkit_environments _shtab_envkit"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "_envkit_environments: function" in r.stdout


def test_completion_needs_a_shell() -> None:
    r = envkit("completion")
    assert r.returncode == 2 and "bash|zsh|fish" in r.stderr
