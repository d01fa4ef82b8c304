"""envkit list / doctor show created environments with their state and last smoke result."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import data_of
from envkit_cli import envkit

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_env_state_and_smoke(trt_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["tensorrt", "trt-tools"])
    assert main(["create", "--file", str(env), "--name", "demo", "--no-smoke", "--json"]) == 0
    capsys.readouterr()
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"

    assert main(["--project", str(ROOT), "list", "--json"]) == 0
    envs = {e["name"]: e for e in data_of(capsys.readouterr().out, "list")["environments"]}
    assert envs["demo"]["state"] == "up to date"
    assert envs["demo"]["stack"]["tensorrt"] == "10.3.0.26"
    assert envs["demo"]["smoke"] is None

    # a real smoke run (this test's Python stands in for the environment's): no GPU here, so it fails
    assert main(["smoke", "--prefix", str(prefix), "--python", sys.executable, "--json"]) == 6
    capsys.readouterr()
    assert main(["--project", str(ROOT), "list", "--json"]) == 0
    smoke = {e["name"]: e for e in data_of(capsys.readouterr().out, "list")["environments"]}["demo"]["smoke"]
    assert smoke["passed"] is False and "driver" in smoke["failed"]

    assert main(["--project", str(ROOT), "list"]) == 0
    text = capsys.readouterr().out
    assert "demo" in text and "up to date" in text and "failed: " in text and "TensorRT 10.3.0.26" in text

    # doctor on this machine lists it too (exit 3: no nvidia-smi here)
    assert main(["doctor", "--json"]) == 3
    doc = data_of(capsys.readouterr().out, "doctor")
    assert [e["name"] for e in doc["environments"]] == ["demo"]
    assert doc["environments"][0]["smoke"]["passed"] is False

    # an edit to the record makes it stale; a removed conda-meta makes it broken
    (prefix / "conda-meta" / "envkit.json").write_text("{}")
    assert main(["--project", str(ROOT), "list", "--json"]) == 0
    state = {e["name"]: e for e in data_of(capsys.readouterr().out, "list")["environments"]}["demo"]["state"]
    assert state in ("stale", "broken")


def test_prefix_envs_are_listed_registered_and_found_by_name(make_env: Callable[..., Path], tmp_path: Path) -> None:
    """Regression: `list` never showed --prefix environments and `run env1` said "no environment named"."""
    prefix = make_env(name=None, prefix=tmp_path / "somewhere" / "env1")
    named = make_env(name="demo")
    r = envkit("--project", str(ROOT), "list", "--json")
    envs = {e["name"]: e for e in data_of(r.stdout, "list")["environments"]}
    assert envs["env1"]["prefix"] == str(prefix) and envs["env1"]["state"] == "up to date"
    assert envs["demo"]["prefix"] == str(named)
    r = envkit("run", "env1", "--", "sh", "-c", 'echo "$CONDA_PREFIX"')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(prefix)
    # conda env list sees both (conda reads ~/.conda/environments.txt)
    lines = (Path(os.environ["HOME"]) / ".conda/environments.txt").read_text().splitlines()
    assert str(prefix) in lines and str(named) in lines

    # a vanished prefix is shown as gone, not an error; run names it as missing
    import shutil

    shutil.rmtree(prefix)
    r = envkit("--project", str(ROOT), "list")
    assert r.returncode == 0, r.stderr
    assert any("env1" in ln and "gone" in ln for ln in r.stdout.splitlines())
    assert envkit("run", "env1", "--", "true").returncode == 2
    # remove forgets it (registry and conda's list), touching nothing else
    r = envkit("remove", "env1", "-y")
    assert r.returncode == 0 and f"forgot {prefix}" in r.stdout
    assert "env1" not in envkit("--project", str(ROOT), "list").stdout
    lines = (Path(os.environ["HOME"]) / ".conda/environments.txt").read_text().splitlines()
    assert str(prefix) not in lines and str(named) in lines


def test_broken_registry_is_a_note_and_named(make_env: Callable[..., Path], tmp_path: Path) -> None:
    make_env(name="demo")
    reg = Path(os.environ["XDG_DATA_HOME"]) / "envkit" / "environments.json"
    reg.write_text("{broken")
    r = envkit("--project", str(ROOT), "list")
    assert r.returncode == 0
    assert "demo" in r.stdout and f"{reg}:1" in r.stdout and "hint" in r.stdout
    r = envkit("run", "nope", "--", "true")
    assert r.returncode == 2 and "no environment named 'nope'" in r.stderr and "Traceback" not in r.stderr
