"""``envkit create`` through the CLI: output, --json, exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import data_of, error_of

from envkit.cli import main


@pytest.fixture(autouse=True)
def _cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")


def _env(tmp_path: Path, channel: Path, deps: list[str] | None = None) -> Path:
    return env_yaml(tmp_path / "environment.yml", [file_url(channel)], deps or ["tensorrt", "trt-tools"], name="demo")


def test_create_text_then_noop(trt_channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env(tmp_path, trt_channel)
    assert main(["create", "--file", str(env), "--name", "demo"]) == 0
    out = capsys.readouterr()
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    assert f"created demo at {prefix}" in out.out
    assert "conda activate demo" in out.out and "envkit run demo -- CMD" in out.out
    assert "envkit: solve" in out.err and "envkit: install" in out.err  # quiet lines when piped
    assert main(["create", "--file", str(env), "--name", "demo"]) == 0
    assert "demo: up to date" in capsys.readouterr().out


def test_create_json(trt_channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env(tmp_path, trt_channel)
    assert main(["create", "--file", str(env), "--prefix", str(tmp_path / "px"), "--json", "--no-smoke"]) == 0
    out = capsys.readouterr()
    data = data_of(out.out, "create")
    assert data["status"] == "created" and data["stack"]["tensorrt"] == "10.3.0.26"
    assert data["prefix"] == str(tmp_path / "px") and data["solved"] is True
    assert out.err == ""  # nothing but the record with --json


def test_dry_run(trt_channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = _env(tmp_path, trt_channel)
    assert main(["create", "--file", str(env), "--name", "demo", "--dry-run"]) == 0
    assert "would install 6 packages" in capsys.readouterr().out


def test_exit_codes(trt_channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.4")
    env = _env(tmp_path, trt_channel, ["tensorrt=10.3"])
    assert main(["create", "--file", str(env), "--name", "demo", "--json"]) == 4
    err = error_of(capsys.readouterr().out, "create", exit_code=4)
    assert err["code"] == "SolveError" and "driver too old" in err["text"] and err["hint"]
    env2 = env_yaml(tmp_path / "e2.yml", ["http://127.0.0.1:9/ch"], ["tensorrt"])
    assert main(["create", "--file", str(env2), "--name", "demo"]) == 5
    assert "channel unreachable" in capsys.readouterr().err
    assert main(["create", "--file", str(env), "--name", "demo", "--locked"]) == 2
    assert main(["create", "--file", str(env), "--name", "demo", "--backend", "micromamba"]) in (0, 3)


def test_locked_exit_7(trt_channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit.create.staging import env_lock

    monkeypatch.setenv("ENVKIT_LOCK_TIMEOUT", "0.2")
    env = _env(tmp_path, trt_channel)
    with env_lock(Path(os.environ["CONDA_ENVS_PATH"]) / "demo", timeout=1):
        assert main(["create", "--file", str(env), "--name", "demo"]) == 7
    assert "another envkit process" in capsys.readouterr().err
