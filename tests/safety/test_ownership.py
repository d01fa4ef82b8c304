"""Regression tests (issue 9): envkit never destroys what it did not create.

create refuses a target that exists and is not an environment envkit created (exit 2, --force too) unless it is
an empty folder; remove deletes only environments envkit created, and refuses (unless --force) while a process
runs inside. Each case deleted user data on the code before the fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from channel_factory import env_yaml, file_url

from envkit.cli import main

USER_FILE = "src/main.py"


def user_folder(path: Path) -> Path:
    (path / "src").mkdir(parents=True)
    (path / USER_FILE).write_text("print('mine')\n")
    return path


def make_envfile(tmp_path: Path, trt_channel: Path) -> Path:
    return env_yaml(tmp_path / "e.yml", [file_url(trt_channel)], ["trt-tools"], name="e")


@pytest.mark.parametrize("force", [False, True])
def test_create_refuses_a_user_folder_as_prefix(tmp_path: Path, trt_channel: Path, force: bool,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    p = user_folder(tmp_path / "p")
    args = ["create", "--file", str(make_envfile(tmp_path, trt_channel)), "--prefix", str(p), "--no-smoke"]
    assert main(args + (["--force"] if force else [])) == 2
    assert "not replacing it" in capsys.readouterr().err
    assert (p / USER_FILE).read_text() == "print('mine')\n" and not (p / "conda-meta").exists()


@pytest.mark.parametrize("kind", ["folder", "file", "envs-folder", "foreign-env"])
def test_create_refuses_what_is_at_the_name(tmp_path: Path, trt_channel: Path, envs_dir: Path, kind: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    target = envs_dir / "n"
    if kind == "folder":
        user_folder(target)
    elif kind == "file":
        target.write_text("a file\n")
    elif kind == "envs-folder":  # a folder holding other environments
        (target / "other" / "conda-meta").mkdir(parents=True)
        (target / "other" / "conda-meta" / "history").write_text("")
    else:  # a conda environment another tool made
        (target / "conda-meta").mkdir(parents=True)
        (target / "conda-meta" / "history").write_text("==> 2024-01-01 <==\n")
    before = sorted(str(p.relative_to(envs_dir)) for p in envs_dir.rglob("*"))
    for force in ([], ["--force"]):
        assert main(["create", "--file", str(make_envfile(tmp_path, trt_channel)), "--name", "n", "--no-smoke",
                     *force]) == 2
    assert sorted(str(p.relative_to(envs_dir)) for p in envs_dir.rglob("*")
                  if "envkit.lock" not in p.name) == before


@pytest.mark.slow
def test_create_into_an_empty_folder_and_force_over_own_env(tmp_path: Path, trt_channel: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    p = tmp_path / "empty"
    p.mkdir()
    args = ["create", "--file", str(make_envfile(tmp_path, trt_channel)), "--prefix", str(p), "--no-smoke"]
    assert main(args) == 0
    assert main([*args, "--force"]) == 0  # envkit's own environment: replaced
    assert (p / "conda-meta" / "envkit.json").is_file()


def test_remove_refuses_what_envkit_did_not_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = user_folder(tmp_path / "d")
    (d / "conda-meta").mkdir()
    assert main(["remove", "--prefix", str(d), "-y"]) == 2
    err = capsys.readouterr().err
    assert "not created by envkit" in err and "hint:" in err
    assert (d / USER_FILE).exists() and (d / "conda-meta").is_dir()


@pytest.mark.slow
def test_remove_refuses_while_a_process_runs_inside(build_env: Callable[..., Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    prefix = build_env("demo")
    sleeper = subprocess.Popen([sys.executable, "-m", "envkit", "run", "demo", "--", "sleep", "60"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not any(p.info["name"] == "sleep" and (p.info["environ"] or {}).get("CONDA_PREFIX") == str(prefix)
                      for p in psutil.process_iter(["name", "environ"])):
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.05)
        assert main(["remove", "demo", "-y", "--json"]) == 2
        out = json.loads(capsys.readouterr().out)
        assert "process(es) run inside" in out["messages"][0]["text"] and "sleep" in out["messages"][0]["text"]
        assert (prefix / "conda-meta" / "envkit.json").is_file()
        assert main(["remove", "demo", "-y", "--force"]) == 0
        assert not prefix.exists()
    finally:
        for child in psutil.Process(sleeper.pid).children(recursive=True):
            os.kill(child.pid, signal.SIGKILL)
        sleeper.kill()
        sleeper.wait(timeout=10)
