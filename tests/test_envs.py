"""conda envs dirs, find_env / env_dir_for, env_state, list_envs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envkit.context import Settings
from envkit.create.staging import old_dir
from envkit.envs import env_dir_for, env_state, envs_dirs, find_env, list_envs, validate_name
from envkit.errors import InputError


def test_envs_dirs_order(envkit_settings: Settings, tmp_path: Path) -> None:
    rc = tmp_path / "condarc"
    rc.write_text(f"envs_dirs:\n  - {tmp_path}/from-rc\n")
    env = dict(envkit_settings.env, CONDA_ENVS_PATH=f"{tmp_path}/a{os.pathsep}{tmp_path}/b", CONDARC=str(rc),
               HOME=str(tmp_path / "home"))
    envkit_settings.env = env
    assert envs_dirs(envkit_settings) == [tmp_path / "a", tmp_path / "b", tmp_path / "from-rc",
                                          tmp_path / "home/.conda/envs"]


def test_first_writable(envkit_settings: Settings, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        envkit_settings.env = dict(envkit_settings.env, CONDA_ENVS_PATH=f"{ro}{os.pathsep}{tmp_path}/rw")
        if os.access(ro, os.W_OK):  # root ignores permissions
            assert env_dir_for("x", envkit_settings) == ro / "x"
        else:
            assert env_dir_for("x", envkit_settings) == tmp_path / "rw/x"
    finally:
        ro.chmod(0o700)


def test_find_env(envkit_settings: Settings) -> None:
    with pytest.raises(InputError, match="no environment named 'nope'"):
        find_env("nope", envkit_settings)
    p = Path(os.environ["CONDA_ENVS_PATH"]) / "there"
    (p / "conda-meta").mkdir(parents=True)
    assert find_env("there", envkit_settings) == p


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "a b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InputError):
        validate_name(name)


def _fake_env(prefix: Path, env_file: Path, lock: Path) -> None:
    import hashlib

    (prefix / "conda-meta").mkdir(parents=True)
    env_file.write_text("name: x\n")
    lock.write_text("version: 7\n")
    rec = {
        "complete": True,
        "env_file": str(env_file),
        "spec_hash": hashlib.sha256(env_file.read_bytes()).hexdigest(),
        "lock_file": str(lock),
        "lock_hash": hashlib.sha256(lock.read_bytes()).hexdigest(),
        "stack": {"tensorrt": "10.3.0.26"},
    }
    (prefix / "conda-meta/envkit.json").write_text(json.dumps(rec))


def test_env_state_and_list(envkit_settings: Settings, tmp_path: Path) -> None:
    envs = Path(os.environ["CONDA_ENVS_PATH"])
    good, stale, broken = envs / "good", envs / "stale", envs / "broken"
    _fake_env(good, tmp_path / "g.yml", tmp_path / "g.lock")
    _fake_env(stale, tmp_path / "s.yml", tmp_path / "s.lock")
    (tmp_path / "s.yml").write_text("name: changed\n")
    _fake_env(broken, tmp_path / "b.yml", tmp_path / "b.lock")
    (broken / "conda-meta/envkit.json").write_text("{not json")
    (envs / "foreign" / "conda-meta").mkdir(parents=True)  # not made by envkit: not listed
    assert env_state(good) == "up to date"
    assert env_state(stale) == "stale"
    assert env_state(broken) == "broken"
    assert env_state(envs / "missing") == "broken"
    listed = {e.name: e.state for e in list_envs(envkit_settings)}
    assert listed == {"broken": "broken", "good": "up to date", "stale": "stale"}
    old_dir(good).mkdir()
    assert env_state(good) == "broken"
    assert list_envs(envkit_settings)[1].to_json()["stack"] == {"tensorrt": "10.3.0.26"}
