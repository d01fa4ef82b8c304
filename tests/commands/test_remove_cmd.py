"""``envkit remove``."""

from __future__ import annotations

from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import data_of

from envkit.cli import main
from envkit.context import Settings
from envkit.create.pipeline import CreateRequest, create_env
from envkit.envs import staging_dir


def test_remove(trt_channel: Path, tmp_path: Path, envkit_settings: Settings, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    prefix = create_env(CreateRequest(file=env, name="demo"), envkit_settings).prefix
    staging_dir(prefix).mkdir()  # a leftover is removed too
    assert main(["remove", "demo", "--json"]) == 0
    data = data_of(capsys.readouterr().out, "remove")
    assert data["removed"] == str(prefix) and not prefix.exists() and not staging_dir(prefix).exists()
    assert main(["remove", "demo"]) == 2
    assert main(["remove", "--prefix", str(tmp_path)]) == 2
    assert tmp_path.exists()
