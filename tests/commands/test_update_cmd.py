"""``envkit update``: the diff (stack line, packages up/down/added/removed), --dry-run changes nothing,
applying is atomic (an interrupted update leaves the old environment), bad input is a clean error."""
# ruff: noqa: F811  (the fixtures imported from check_fixtures are test parameters by design)

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from check_fixtures import MATRIX, check_channel  # noqa: F401  (fixture)
from envelope import data_of
from envkit_cli import envkit


def _profile(project: Path, url: str, tensorrt: str) -> None:
    (project / "environments").mkdir(parents=True, exist_ok=True)
    (project / "environments" / "det.yaml").write_text(
        f'schema_version: 1\ntensorrt: "{tensorrt}"\nchannels: ["{url}"]\nplatforms: [linux-64]\n'
        'conda: [trt-tools]\ntargets: ["linux-64:cuda=13.0"]\n')


def _packages(name: str) -> set[tuple[str, str]]:
    data = data_of(envkit("packages", name, "--json").stdout, "packages")
    return {(p["name"], p["version"]) for p in data["packages"]}


def test_update_profile_environment(check_channel: Path, serve_channel: Callable[[Path], str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    _profile(project, serve_channel(check_channel), ">=10.0,<11")
    g = ["--project", str(project), "--matrix", str(MATRIX)]
    r = envkit(*g, "create", "det", "--no-smoke")
    assert r.returncode == 0, r.stderr
    generated = (project / "environments/det/environment.yml").read_text()
    before = _packages("det")
    assert ("tensorrt", "10.3.0.26") in before

    r = envkit(*g, "update", "det", "--dry-run")  # the profile did not change: nothing to do
    assert r.returncode == 0 and "det: up to date (profile det)" in r.stdout

    _profile(project, serve_channel(check_channel), ">=10.0")  # the team widens the range
    r = envkit(*g, "update", "det", "--dry-run", "--json")
    data = data_of(r.stdout, "update")
    assert data["applied"] is False
    assert data["stack"] == ["TensorRT 10.3.0.26 -> 11.0.0.1", "CUDA 12.6 -> 13.0", "cuDNN 9.10.1.4 -> none"]
    kinds = {(c["kind"], c["name"]) for c in data["changes"]}
    assert kinds == {("upgraded", "tensorrt"), ("upgraded", "libnvinfer"), ("upgraded", "cuda-version"),
                     ("upgraded", "cuda-cudart"), ("removed", "cudnn")}
    assert _packages("det") == before  # --dry-run changed nothing
    assert (project / "environments/det/environment.yml").read_text() == generated

    text = envkit(*g, "update", "det", "--dry-run").stdout
    assert "↑ tensorrt 10.3.0.26 cuda12_0 -> 11.0.0.1 cuda13_0" in text and "- cudnn 9.10.1.4 cuda12_0" in text
    apply = next(ln for ln in text.splitlines() if ln.startswith("apply with: "))[len("apply with: "):]
    argv = shlex.split(apply)
    r = subprocess.run([sys.executable, "-m", "envkit", *argv[1:], "--no-smoke"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)  # the printed command, as printed
    assert r.returncode == 0, (apply, r.stderr)
    assert r.stdout.startswith("updated det (profile det): TensorRT 10.3.0.26 -> 11.0.0.1")
    after = _packages("det")
    assert ("tensorrt", "11.0.0.1") in after and not any(n == "cudnn" for n, _ in after)
    assert "TensorRT 11.0.0.1" in (project / "environments/det/environment.yml").read_text()
    assert "up to date" in envkit(*g, "update", "det").stdout


def test_update_bad_input(tmp_path: Path, make_env: Callable[..., Path]) -> None:
    r = envkit("update", "nope")
    assert r.returncode == 2 and "no environment named 'nope'" in r.stderr
    r = envkit("update", "--prefix", str(tmp_path))
    assert r.returncode == 2 and "not a conda environment" in r.stderr
    foreign = tmp_path / "foreign"
    (foreign / "conda-meta").mkdir(parents=True)
    r = envkit("update", "--prefix", str(foreign))
    assert r.returncode == 2 and "was not created by envkit" in r.stderr and "Traceback" not in r.stderr
    make_env(name="demo")
    (tmp_path / "demo-environment.yml").unlink()
    r = envkit("update", "demo")
    assert r.returncode == 2 and "the environment file it was created from is gone" in r.stderr


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the update never reached the post-link script"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_interrupted_update_leaves_the_old_environment(sig: signal.Signals, trt_channel: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "13.0")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["tensorrt <11", "trt-tools"], name="t")
    prefix = tmp_path / "env"
    assert envkit("create", "--file", str(env), "--prefix", str(prefix), "--no-smoke").returncode == 0
    before = _packages("env")
    env_yaml(env, [file_url(trt_channel)], ["tensorrt", "trt-tools"], name="t")  # allow TensorRT 11
    marker = tmp_path / "in-post-link"
    proc = subprocess.Popen([sys.executable, "-m", "envkit", "update", "--prefix", str(prefix), "--no-smoke"],
                            env={**os.environ, "ENVKIT_TEST_SLOW_POSTLINK": str(marker)}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(marker, proc)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    # the old environment, as it was
    assert _packages("env") == before
    r = envkit("run", "--prefix", str(prefix), "--", "trt-hello")
    assert r.returncode == 0 and f"prefix={prefix}" in r.stdout
    # and the next update completes
    r = envkit("update", "--prefix", str(prefix), "--no-smoke")
    assert r.returncode == 0, r.stderr
    assert ("tensorrt", "11.0.0.1") in _packages("env")
