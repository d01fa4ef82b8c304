"""Nothing is left behind that the user did not ask for (regression: `create --dry-run`, failed creates and
`remove` left `.NAME.envkit.lock` in the envs directory; 0-byte cache files appeared after an unreachable
channel)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envkit_cli import envkit

from envkit.create.staging import env_lock, lock_path


def _envs() -> Path:
    return Path(os.environ["CONDA_ENVS_PATH"])


def _debris() -> list[str]:
    return sorted(p.name for p in _envs().iterdir() if p.name.startswith("."))


def _empty_files(root: Path) -> list[Path]:
    # rattler's own package-cache lock files (pkgs/*.lock, pkgs/.cache.lock) are rattler's; envkit's are not
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_size == 0 and "pkgs" not in p.parts]


def test_dry_run_failed_create_and_remove_leave_nothing(trt_channel: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    assert envkit("create", "--file", str(env), "--name", "demo", "--dry-run").returncode == 0
    assert _debris() == [] and not (_envs() / "demo").exists()

    bad = env_yaml(tmp_path / "bad.yml", [file_url(trt_channel)], ["no-such-package"], name="bad")
    assert envkit("create", "--file", str(bad), "--name", "bad").returncode == 4
    assert _debris() == []

    assert envkit("create", "--file", str(env), "--name", "demo", "--no-smoke").returncode == 0
    assert _debris() == []
    assert envkit("remove", "demo", "-y").returncode == 0
    assert os.listdir(_envs()) == []


@pytest.mark.parametrize("how", ["refused", "went-away"])
def test_unreachable_channel_leaves_no_empty_cache_files(how: str, trt_channel: Path, tmp_path: Path,
                                                         channel_server: Callable[[Path], object],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    monkeypatch.delenv("RATTLER_CACHE_DIR")  # everything under ENVKIT_CACHE_DIR
    if how == "refused":
        url = "http://127.0.0.1:9/channel"
    else:
        server = channel_server(trt_channel)
        url = server.url  # type: ignore[attr-defined]
        env = env_yaml(tmp_path / "ok.yml", [url], ["tensorrt"], name="ok")
        assert envkit("create", "--file", str(env), "--name", "ok", "--no-smoke").returncode == 0
        server.stop()  # type: ignore[attr-defined]
    env = env_yaml(tmp_path / "environment.yml", [url], ["tensorrt"], name="demo")
    r = envkit("create", "--file", str(env), "--name", "demo", "--no-smoke", "--force")
    assert r.returncode == 5 and "channel unreachable" in r.stderr
    cache = Path(os.environ["ENVKIT_CACHE_DIR"])
    assert _empty_files(cache) == [] and _empty_files(tmp_path) == []
    assert _debris() == []


def test_a_waiter_never_shares_the_lock_with_a_newcomer(tmp_path: Path) -> None:
    """The holder unlinks the lock file before releasing; a waiter that then locks the unlinked file must
    notice and lock the current one, so two processes never both believe they hold the lock."""
    prefix = tmp_path / "envs" / "demo"
    inside: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with env_lock(prefix, timeout=10):
            inside.append("first")
            release.wait(10)
            inside.append("first-out")

    def waiter(tag: str) -> None:
        with env_lock(prefix, timeout=10):
            inside.append(tag)
            inside.append(f"{tag}-out")

    t1 = threading.Thread(target=holder)
    t1.start()
    while not inside:
        pass
    waiters = [threading.Thread(target=waiter, args=(f"w{i}",)) for i in range(3)]
    for t in waiters:
        t.start()
    release.set()
    for t in [t1, *waiters]:
        t.join(20)
    # every critical section is entered and left before the next one starts
    assert [x for x in inside if not x.endswith("-out")] == inside[::2]
    assert all(inside[i + 1] == f"{inside[i]}-out" for i in range(0, len(inside), 2))
    assert not lock_path(prefix).exists()
