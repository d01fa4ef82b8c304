"""A lock per environment and machine (regression: two environments made from one environment file, another
prefix or another --host, shared one lock next to the file, so alternating creates rebuilt every time)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import data_of
from envkit_cli import envkit

ROOT = Path(__file__).resolve().parents[2]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"


def _create(env: Path, *args: str) -> dict[str, object]:
    r = envkit("create", "--file", str(env), *args, "--no-smoke", "--json")
    return data_of(r.stdout, "create", exit_code=0)


def test_environments_from_one_file_keep_their_own_locks(trt_channel: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["tensorrt", "trt-tools"], name="demo")
    envs = Path(os.environ["CONDA_ENVS_PATH"])
    other = tmp_path / "elsewhere" / "p"
    variants = {
        "own": ["--name", "demo"],
        "named": ["--name", "a"],
        "prefix": ["--prefix", str(other)],
        "host": ["--name", "b", "--host", str(H200)],
    }
    first = {k: _create(env, *args) for k, args in variants.items()}
    assert {k: d["status"] for k, d in first.items()} == dict.fromkeys(variants, "created")
    assert first["own"]["lock_file"] == str(tmp_path / "envkit.lock")  # the file's own: next to it
    assert first["named"]["lock_file"] == str(envs / "a" / "conda-meta" / "envkit.lock")
    assert first["prefix"]["lock_file"] == str(other / "conda-meta" / "envkit.lock")
    assert first["host"]["lock_file"] == str(envs / "b" / "conda-meta" / "envkit.lock")
    assert "__cuda=13.0=0" in Path(str(first["host"]["lock_file"])).read_text()  # the H200 capture's driver
    # alternating creates: every one is up to date, none re-solves
    for _ in range(2):
        again = {k: _create(env, *args) for k, args in variants.items()}
        assert {k: (d["status"], d["solved"]) for k, d in again.items()} == dict.fromkeys(variants, ("up to date", False))
    # the same environment for another machine is solved again (its lock names the machine)
    moved = _create(env, "--name", "a", "--host", str(H200))
    assert moved["status"] == "created" and moved["solved"] is True
    # removing one environment takes its lock with it and leaves the others'
    assert envkit("remove", "a", "-y").returncode == 0
    assert (tmp_path / "envkit.lock").is_file() and (other / "conda-meta" / "envkit.lock").is_file()
