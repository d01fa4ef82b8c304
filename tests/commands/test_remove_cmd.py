"""``envkit remove``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import data_of, error_of

from envkit.cli import main
from envkit.context import Settings
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env
from envkit.create.staging import staging_dir


def test_remove(trt_channel: Path, tmp_path: Path, envkit_settings: Settings, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    prefix = create_env(CreateRequest(file=env, name="demo"), envkit_settings).prefix
    staging_dir(prefix).mkdir()  # a leftover is removed too
    assert main(["remove", "demo", "--json"]) == 2  # not on a terminal: refuses without -y
    assert "-y" in error_of(capsys.readouterr().out, "remove")["hint"] and prefix.exists()
    assert main(["remove", "demo", "--json", "-y"]) == 0
    data = data_of(capsys.readouterr().out, "remove")
    assert data["removed"] == str(prefix) and not prefix.exists() and not staging_dir(prefix).exists()
    assert main(["remove", "demo", "-y"]) == 2
    assert main(["remove", "--prefix", str(tmp_path), "-y"]) == 2
    assert tmp_path.exists()


def test_remove_asks_on_a_terminal(make_env: Callable[..., Path]) -> None:
    """Regression: remove deleted without asking. On a terminal it asks; `n` keeps the environment."""
    import os
    import pty
    import subprocess
    import sys

    prefix = make_env(name="demo")

    def answer(text: bytes) -> tuple[int, bytes]:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "envkit", "remove", "demo"], stdin=follower,
                                stdout=follower, stderr=follower)
        os.close(follower)
        out = b""
        while b"[y/N]" not in out:
            out += os.read(leader, 4096)
        os.write(leader, text)
        code = proc.wait(timeout=60)
        try:
            while chunk := os.read(leader, 4096):
                out += chunk
        except OSError:
            pass
        os.close(leader)
        return code, out

    code, out = answer(b"n\n")
    assert code == 2 and prefix.exists() and b"kept" in out
    code, out = answer(b"y\n")
    assert code == 0 and not prefix.exists()
