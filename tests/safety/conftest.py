"""Fixtures for the safety tests: environments built for real from the local test channel."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url


@pytest.fixture(autouse=True)
def _cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test channel's CUDA packages need __cuda: a CUDA 12.4 driver, as on the machines envkit targets."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")


@pytest.fixture
def build_env(trt_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              envkit_settings: object) -> Callable[..., Path]:
    """``build_env(name="demo", deps=(...))``: an environment envkit created (in-process create, no smoke)."""
    from envkit.create.pipeline import CreateRequest, create_env

    def build(name: str = "demo", deps: tuple[str, ...] = ("trt-tools",), force: bool = False) -> Path:
        env = env_yaml(tmp_path / f"{name}-environment.yml", [file_url(trt_channel)], list(deps), name=name)
        res = create_env(CreateRequest(file=env, name=name, no_smoke=True, force=force), envkit_settings)  # type: ignore[arg-type]
        return res.prefix

    return build


@pytest.fixture
def envs_dir() -> Path:
    return Path(os.environ["CONDA_ENVS_PATH"])
