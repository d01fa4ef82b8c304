"""Environments for the daily-use verbs, built with the real CLI from the local test channel."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envkit_cli import envkit


@pytest.fixture
def make_env(trt_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``make_env(name=..., prefix=..., deps=[...], channel_url=...)``: `envkit create` (no smoke) -> prefix."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")

    def make(name: str | None = "demo", prefix: Path | None = None, deps: tuple[str, ...] = ("tensorrt", "trt-tools"),
             channel_url: str | None = None) -> Path:
        env = env_yaml(tmp_path / f"{name or 'p'}-environment.yml", [channel_url or file_url(trt_channel)], list(deps),
                       name=name or "p")
        target = ["--prefix", str(prefix)] if prefix else ["--name", str(name)]
        r = envkit("create", "--file", str(env), *target, "--no-smoke")
        assert r.returncode == 0, r.stderr
        return prefix.resolve() if prefix else Path(os.environ["CONDA_ENVS_PATH"]) / str(name)

    return make
