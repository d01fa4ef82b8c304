"""Fault tests: SIGKILL / SIGTERM mid-install, interrupted swap, concurrent creates, corrupted cache, disk full."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url
from envelope import data_of

from envkit.context import Settings
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env
from envkit.create.staging import env_lock, old_dir, recover, staging_dir
from envkit.envs import env_state
from envkit.errors import DiskFullError, LockedError

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")


def _env(tmp_path: Path, channel: Path) -> Path:
    return env_yaml(tmp_path / "environment.yml", [file_url(channel)], ["tensorrt", "trt-tools"], name="demo")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envkit", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _start_slow_create(env_file: Path, marker: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ENVKIT_TEST_SLOW_POSTLINK=str(marker))
    proc = subprocess.Popen(
        [sys.executable, "-m", "envkit", "create", "--file", str(env_file), "--name", "demo", "--force"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "create ended before the post-link script started"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc


def test_sigkill_during_install_keeps_previous_env(trt_channel: Path, tmp_path: Path,
                                                   envkit_settings: Settings) -> None:
    env_file = _env(tmp_path, trt_channel)
    first = create_env(CreateRequest(file=env_file, name="demo"), envkit_settings)
    prefix = first.prefix
    before = sorted(p.name for p in (prefix / "conda-meta").iterdir())
    proc = _start_slow_create(env_file, tmp_path / "postlink-started")
    assert staging_dir(prefix).exists()  # it was building beside the live environment
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, like a hard kill of the session
    proc.wait(timeout=30)
    # the previous environment is untouched and works
    assert sorted(p.name for p in (prefix / "conda-meta").iterdir()) == before
    assert env_state(prefix) == "up to date"
    run = _cli("run", "demo", "--", "trt-hello")
    assert run.returncode == 0 and f"prefix={prefix}" in run.stdout and "TRT_HOME=" in run.stdout
    # the next run cleans the staging leftover and says so
    again = _cli("create", "--file", str(env_file), "--name", "demo")
    assert again.returncode == 0, again.stderr
    assert "leftover staging directory" in again.stdout + again.stderr
    assert not staging_dir(prefix).exists()


def test_sigterm_during_install_cleans_up(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env_file = _env(tmp_path, trt_channel)
    first = create_env(CreateRequest(file=env_file, name="demo"), envkit_settings)
    proc = _start_slow_create(env_file, tmp_path / "postlink-started")
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 130
    assert env_state(first.prefix) == "up to date"
    assert not old_dir(first.prefix).exists()


def test_interrupted_swap_is_restored(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env_file = _env(tmp_path, trt_channel)
    prefix = create_env(CreateRequest(file=env_file, name="demo"), envkit_settings).prefix
    # simulate SIGKILL between the two renames of a swap whose new tree was incomplete
    prefix.rename(old_dir(prefix))
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "half.json").write_text("{}")
    assert env_state(prefix) == "broken"
    notes = recover(prefix)
    assert any("restored the previous environment" in n for n in notes)
    assert env_state(prefix) == "up to date" and not old_dir(prefix).exists()
    # SIGKILL after the swap, before the old tree was deleted: keep the new one, delete the old
    shutil.copytree(prefix, old_dir(prefix), symlinks=True)
    notes = recover(prefix)
    assert any("removed the previous environment" in n for n in notes)
    assert env_state(prefix) == "up to date" and not old_dir(prefix).exists()


def test_second_create_waits_then_fails_with_locked(trt_channel: Path, tmp_path: Path,
                                                    envkit_settings: Settings) -> None:
    env_file = _env(tmp_path, trt_channel)
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    with env_lock(prefix):
        t = time.monotonic()
        with pytest.raises(LockedError, match="another envkit process") as ei:
            create_env(CreateRequest(file=env_file, name="demo", lock_timeout=0.5), envkit_settings)
        assert time.monotonic() - t >= 0.5 and ei.value.exit_code == 7
    assert create_env(CreateRequest(file=env_file, name="demo"), envkit_settings).status == "created"


def test_two_concurrent_creates(trt_channel: Path, tmp_path: Path) -> None:
    env_file = _env(tmp_path, trt_channel)
    argv = [sys.executable, "-m", "envkit", "create", "--file", str(env_file), "--name", "demo", "--json"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    statuses = sorted(data_of(o, "create")["status"] for o, _ in outs)
    assert statuses == ["created", "up to date"]
    assert env_state(Path(os.environ["CONDA_ENVS_PATH"]) / "demo") == "up to date"


def test_corrupted_cached_package_is_refetched(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env_file = _env(tmp_path, trt_channel)
    first = create_env(CreateRequest(file=env_file, name="demo"), envkit_settings)
    cache = Path(os.environ["RATTLER_CACHE_DIR"]) / "pkgs"
    [entry] = [p for p in cache.iterdir() if p.name.startswith("trt-tools-") and p.is_dir()]
    victim = entry / "bin" / "trt-hello"
    victim.unlink()  # break the hardlink, then write different content
    victim.write_text("#!/bin/sh\necho corrupted\n")
    victim.chmod(0o755)
    res = create_env(CreateRequest(file=env_file, name="second"), envkit_settings)
    assert any("corrupted package(s)" in n and "trt-tools" in n for n in res.notes)
    assert "corrupted" not in (res.prefix / "bin/trt-hello").read_text()
    assert "corrupted" not in (first.prefix / "bin/trt-hello").read_text()


@pytest.fixture
def small_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full(tmp_path: Path, envkit_settings: Settings, small_tmpfs: Path) -> None:
    big = "x" * 1023 + "\n"
    ch = build_channel(tmp_path / "bigch", [PackageSpec("bigpkg", "1.0", files={"share/big.txt": big * 2048})])
    env_file = env_yaml(tmp_path / "environment.yml", [file_url(ch)], ["bigpkg"], name="big")
    with pytest.raises(DiskFullError, match="disk full") as ei:
        create_env(CreateRequest(file=env_file, prefix=small_tmpfs / "big"), envkit_settings)
    assert ei.value.exit_code == 3 and "free space" in (ei.value.hint or "")
    assert not (small_tmpfs / "big").exists()
    assert [p.name for p in small_tmpfs.iterdir() if "staging" in p.name] == []
