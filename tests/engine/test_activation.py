"""Activation scripts: every value quoted for its shell and never evaluated (run in the real shells)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from envkit.engine.activation import activation, quote, shell_script

NASTY = ["plain", "a b", "it's", "$(touch PWNED)", "`touch PWNED`", "back\\slash", 'dq"uote', "semi;colon&|<>",
         "new\nline", "ü ✓", "$HOME", "*", "~", "{a,b}", "'$(x)'\\'"]
RUNNERS = {
    "bash": lambda script: ["bash", "-c", script],
    "zsh": lambda script: ["zsh", "-f", "-c", script],
    "fish": lambda script: ["fish", "--no-config", "-c", script],
}


@pytest.mark.parametrize("shell", sorted(RUNNERS))
def test_quote_round_trips_in_the_real_shell(shell: str, tmp_path: Path) -> None:
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    script = "; ".join(f"printf '%s\\0' {quote(shell, v)}" for v in NASTY)
    r = subprocess.run(RUNNERS[shell](script), capture_output=True, cwd=tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split("\0")[:-1] == NASTY
    assert not (tmp_path / "PWNED").exists()


def test_powershell_quoting_doubles_every_single_quote_form() -> None:
    assert quote("powershell", "it's $(x) ‘q’") == "'it''s $(x) ‘‘q’’'"
    with pytest.raises(ValueError):
        quote("bash", "nul\0")


def _nasty_env(tmp_path: Path) -> Path:
    prefix = tmp_path / "it's $(touch PWNED) `id` dir"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    d = prefix / "etc/conda/activate.d"
    d.mkdir(parents=True)
    (d / "x.sh").write_text('export FROM_SH="$CONDA_PREFIX"\n')
    (d / "x.fish").write_text('set -gx FROM_SH "$CONDA_PREFIX"\n')
    (prefix / "conda-meta/state").write_text('{"env_vars": {"MY_VAR": "v $(touch PWNED)"}}')
    return prefix


@pytest.mark.parametrize("shell", sorted(RUNNERS))
def test_activation_script_with_a_hostile_prefix(shell: str, tmp_path: Path) -> None:
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    prefix = _nasty_env(tmp_path)
    act = activation(prefix, "/usr/bin:/bin")
    assert act.env["PATH"].split(":")[0] == str(prefix / "bin")
    script = shell_script(act, shell)
    show = 'printf "%s|%s|%s|%s" "$CONDA_PREFIX" "$FROM_SH" "$MY_VAR" "$CONDA_DEFAULT_ENV"'
    r = subprocess.run(RUNNERS[shell](script + show), capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{prefix}|{prefix}|v $(touch PWNED)|{prefix.name}"
    assert not (tmp_path / "PWNED").exists()
