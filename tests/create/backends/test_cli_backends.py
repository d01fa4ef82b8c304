"""conda / mamba / micromamba backends: exact argv (the tools cannot be installed here), missing tool errors.

These backends are not exercised against real tools by the automated tests.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from envkit.context import Settings
from envkit.create.backends import CondaCliBackend, MambaCliBackend, MicromambaCliBackend, get_backend
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env
from envkit.errors import EnvkitError, InputError


def test_argv_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    p, f = Path("/envs/x"), Path("/p/environment.yml")
    assert CondaCliBackend().create_argv(p, f) == ["conda", "env", "create", "--prefix", "/envs/x", "--file",
                                                  "/p/environment.yml", "--yes"]
    assert MambaCliBackend().create_argv(p, f) == ["mamba", "env", "create", "--prefix", "/envs/x", "--file",
                                                  "/p/environment.yml", "--yes"]
    assert MicromambaCliBackend().create_argv(p, f) == ["micromamba", "create", "-y", "-p", "/envs/x", "-f",
                                                       "/p/environment.yml"]
    assert MicromambaCliBackend().remove_argv(p) == ["micromamba", "env", "remove", "-y", "-p", "/envs/x"]
    assert CondaCliBackend().remove_argv(p) == ["conda", "env", "remove", "--prefix", "/envs/x", "--yes"]
    assert get_backend("rattler").name == "rattler"
    with pytest.raises(InputError):
        get_backend("pip")


def test_missing_tool_exit_3(tmp_path: Path, envkit_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    env = tmp_path / "environment.yml"
    env.write_text("name: x\ndependencies:\n  - tensorrt\n")
    with pytest.raises(EnvkitError, match="`micromamba` is not on PATH") as ei:
        create_env(CreateRequest(file=env, name="x", backend="micromamba"), envkit_settings)
    assert ei.value.exit_code == 3


def _fake_tool(bin_dir: Path, name: str, body: str) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    tool = bin_dir / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return tool


def test_fake_micromamba_runs_with_exact_argv(tmp_path: Path, envkit_settings: Settings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "argv.txt"
    _fake_tool(tmp_path / "bin", "micromamba",
               f'echo "$@" > {log}\nwhile [ "$1" != "-p" ]; do shift; done\nmkdir -p "$2/conda-meta"\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env = tmp_path / "environment.yml"
    env.write_text("name: x\ndependencies:\n  - tensorrt\n")
    res = create_env(CreateRequest(file=env, prefix=tmp_path / "px", backend="micromamba"), envkit_settings)
    assert log.read_text().split() == ["create", "-y", "-p", str(tmp_path / "px"), "-f", str(env)]
    assert res.backend == "micromamba" and (tmp_path / "px/conda-meta/envkit.json").exists()


def test_failing_tool_keeps_previous(tmp_path: Path, envkit_settings: Settings,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tool(tmp_path / "bin", "conda", 'echo "PackagesNotFoundError: nope" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    prefix = tmp_path / "px"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "envkit.json").write_text('{"complete": true}')  # envkit's own: it may be replaced
    (prefix / "keep.txt").write_text("old")
    env = tmp_path / "environment.yml"
    env.write_text("name: x\ndependencies:\n  - tensorrt\n")
    with pytest.raises(EnvkitError, match="PackagesNotFoundError"):
        create_env(CreateRequest(file=env, prefix=prefix, backend="conda"), envkit_settings)
    assert (prefix / "keep.txt").read_text() == "old"
