"""Fault injection (issue 9): kill ``envkit create --force`` at many points; the environment is always the old
one or the new one, and ``run``, ``list`` and ``remove`` work on it without another create.

The kill points are every rename the create makes (the lock files, the record, both swap renames, the old tree
moved to the trash) and several moments inside the deletion of the old tree; the signals are real (SIGKILL, and
SIGTERM/SIGINT during the deletion, where the new environment is already in place: create must report success).
``fault_child.py`` decides the moment by counting calls; nothing in envkit knows about it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url

from envkit.cli import main
from envkit.context import Settings
from envkit.create.pipeline import CreateRequest, create_env

pytestmark = pytest.mark.slow
CHILD = Path(__file__).with_name("fault_child.py")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envkit", *args], capture_output=True, text=True, timeout=120)


def packages(prefix: Path) -> set[str]:
    return {p.name for p in (prefix / "conda-meta").glob("*.json") if p.name != "envkit.json"}


def faulted_create(env_file: Path, kind: str, nth: int, signum: int) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run([sys.executable, str(CHILD), kind, str(nth), str(int(signum)), "--", "create", "--file",
                           str(env_file), "--name", "demo", "--force", "--no-smoke"],
                          capture_output=True, text=True, timeout=180, env=env)


@pytest.fixture
def two_versions(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, set[str], set[str]]:
    """env file v1 (trt-tools) and v2 (tensorrt 8.6 + trt-tools): their package sets differ."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    v1 = env_yaml(tmp_path / "v1.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    v2 = env_yaml(tmp_path / "v2.yml", [file_url(trt_channel)], ["tensorrt=8.6", "trt-tools"], name="demo")
    new = create_env(CreateRequest(file=v2, name="demo", no_smoke=True), envkit_settings).prefix
    new_set = packages(new)
    old = create_env(CreateRequest(file=v1, name="demo", no_smoke=True, force=True), envkit_settings).prefix
    old_set = packages(old)
    assert old_set != new_set
    return v1, v2, old_set, new_set


def check_old_or_new(prefix: Path, old_set: set[str], new_set: set[str]) -> str:
    """run and list work (the real CLI, in-process), with no create in between; returns which tree was found."""
    assert main(["run", "demo", "--", "sh", "-c", 'test -f "$CONDA_PREFIX/conda-meta/envkit.json"']) == 0
    found = packages(prefix)
    assert found in (old_set, new_set), found
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["list", "--json"]) == 0
    listed = json.loads(out.getvalue())
    envs = listed["data"]["environments"] if "data" in listed else listed["environments"]
    assert [e["name"] for e in envs if e["name"] == "demo"] == ["demo"]
    assert not (prefix.parent / ".demo.envkit-old").exists()  # restored or finished (a trash folder may wait)
    return "new" if found == new_set else "old"


def test_kill_at_every_rename(two_versions: tuple[Path, Path, set[str], set[str]], envkit_settings: Settings) -> None:
    v1, v2, old_set, new_set = two_versions
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    seen = []
    for nth in range(1, 40):  # kill at the 1st, 2nd, ... rename until a create gets through all of them
        create_env(CreateRequest(file=v1, name="demo", no_smoke=True, force=True), envkit_settings)
        r = faulted_create(v2, "rename", nth, signal.SIGKILL)
        if r.returncode == 0:
            break
        assert r.returncode == -signal.SIGKILL, (nth, r.returncode, r.stderr)
        seen.append(check_old_or_new(prefix, old_set, new_set))
    assert len(seen) >= 4, seen  # lock files, record, the two swap renames, the old tree to the trash
    assert "old" in seen and "new" in seen  # the kills fell before and after the swap
    assert cli("remove", "demo", "-y").returncode == 0 and not prefix.exists()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_signal_while_deleting_the_old_tree(two_versions: tuple[Path, Path, set[str], set[str]],
                                            envkit_settings: Settings, signum: int) -> None:
    v1, v2, old_set, new_set = two_versions
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    for nth in (3,):
        create_env(CreateRequest(file=v1, name="demo", no_smoke=True, force=True), envkit_settings)
        r = faulted_create(v2, "rmtree-unlink", nth, signum)
        if signum == signal.SIGKILL:
            assert r.returncode == -signal.SIGKILL
        else:  # the new environment is installed: success, not "interrupted"
            assert r.returncode == 0, (r.returncode, r.stderr)
            assert "Traceback" not in r.stderr
        assert check_old_or_new(prefix, old_set, new_set) == "new"
    r = cli("remove", "demo", "-y")
    assert r.returncode == 0, r.stderr
    assert not prefix.exists()
