"""``envkit packages`` / ``envkit list NAME`` and ``envkit export`` (every format), end to end."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url
from envelope import data_of
from envkit_cli import envkit

network = pytest.mark.network  # skipped with ENVKIT_OFFLINE_TESTS=1 (tests/conftest.py)


def test_packages_and_list_name(make_env: Callable[..., Path], serve_channel: Callable[[Path], str],
                                trt_channel: Path) -> None:
    url = serve_channel(trt_channel)
    prefix = make_env(name="demo", channel_url=url)
    r = envkit("packages", "demo", "--json")
    assert r.returncode == 0, r.stderr
    data = data_of(r.stdout, "packages")
    pk = {p["name"]: p for p in data["packages"]}
    assert data["prefix"] == str(prefix)
    assert pk["tensorrt"]["version"] == "10.3.0.26" and pk["tensorrt"]["build"] == "cuda12_0"
    assert pk["tensorrt"]["channel"] == url and pk["tensorrt"]["installer"] == "conda"
    assert set(pk) == {"cuda-cudart", "cuda-version", "cudnn", "libnvinfer", "tensorrt", "trt-tools"}
    text = envkit("list", "demo").stdout
    assert "tensorrt" in text and "10.3.0.26" in text and "cuda12_0" in text and "6 conda packages" in text


def test_packages_bad_input(tmp_path: Path) -> None:
    r = envkit("packages", "nope")
    assert r.returncode == 2 and "no environment named 'nope'" in r.stderr
    r = envkit("packages", "--prefix", str(tmp_path))
    assert r.returncode == 2 and "not a conda environment" in r.stderr
    for args in (["export", "nope"], ["export", "--prefix", str(tmp_path)], ["list", "nope"]):
        r = envkit(*args)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr, args
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "bad-1-0.json").write_text("{")
    r = envkit("packages", "--prefix", str(tmp_path))
    assert r.returncode == 0 and "warning:" in r.stdout and "bad-1-0.json" in r.stdout
    r = envkit("export", "--prefix", str(tmp_path), "--format", "lock")  # not created by envkit: no lock
    assert r.returncode == 2 and "has no lock recorded" in r.stderr


def test_export_round_trips(make_env: Callable[..., Path], tmp_path: Path) -> None:
    make_env(name="demo")
    out = tmp_path / "exported.yml"
    r = envkit("export", "demo", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "tensorrt ==10.3.0.26 cuda12_0" in out.read_text()
    # the exported file builds the same environment
    r = envkit("create", "--file", str(out), "--name", "copy", "--no-smoke")
    assert r.returncode == 0, r.stderr
    a = {(p["name"], p["version"], p["build"]) for p in data_of(envkit("packages", "demo", "--json").stdout, "packages")["packages"]}
    b = {(p["name"], p["version"], p["build"]) for p in data_of(envkit("packages", "copy", "--json").stdout, "packages")["packages"]}
    assert a == b
    assert envkit("export", "demo", "-o", str(out)).returncode == 2  # exists: not overwritten without --force

    explicit = envkit("export", "demo", "--format", "explicit").stdout.splitlines()
    assert explicit[1] == "@EXPLICIT" and len(explicit) == 8
    assert all("#" in ln and ln.startswith("file://") for ln in explicit[2:])

    lock = envkit("export", "demo", "--format", "lock")
    assert lock.returncode == 0 and lock.stdout.startswith("version:")
    record = json.loads((Path(os.environ["CONDA_ENVS_PATH"]) / "demo/conda-meta/envkit.json").read_text())
    assert lock.stdout == Path(record["lock_file"]).read_text()
    Path(record["lock_file"]).write_text(lock.stdout + "\n# edited\n")
    r = envkit("export", "demo", "--format", "lock")
    assert r.returncode == 2 and "changed since the environment was created" in r.stderr


@network
@pytest.mark.slow
def test_pip_packages_show_their_installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conda package whose post-link makes the prefix a venv stands in for python; six comes from PyPI by pip."""
    monkeypatch.setenv("ENVKIT_PIP", "pip")
    post = f'#!/bin/sh\n"{sys.executable}" -m venv "$PREFIX" || exit 1\n'
    ch = build_channel(tmp_path / "ch", [PackageSpec("venv-python", "3.11", subdir="linux-64", post_link=post)])
    env_file = env_yaml(tmp_path / "environment.yml", [file_url(ch)], ["venv-python"], name="pyenv", pip=["six"])
    r = envkit("create", "--file", str(env_file), "--name", "pyenv", "--no-smoke")
    assert r.returncode == 0, r.stderr
    pk = {p["name"]: p for p in data_of(envkit("packages", "pyenv", "--json").stdout, "packages")["packages"]}
    assert pk["six"]["installer"] == "pip" and pk["six"]["channel"] == ""
    assert pk["venv-python"]["installer"] == "conda"
    req = envkit("export", "pyenv", "--format", "requirements").stdout
    assert f"six=={pk['six']['version']}" in req.splitlines()
    yml = envkit("export", "pyenv").stdout
    assert f"six=={pk['six']['version']}" in yml and "- pip:" in yml
