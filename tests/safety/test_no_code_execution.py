"""Regression tests (issue 9): envkit runs nothing the user did not ask for.

* a prefix holding ``$(...)``, a backtick or ``"`` is never evaluated by a shell (``envkit run``, smoke's activation);
* ``etc/conda/env_vars.d`` values are set as data, not evaluated;
* the matrix cache is JSON: a pickle planted where the cache lives is never loaded.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url

from envkit.context import Settings
from envkit.create.pipeline import CreateRequest, create_env
from envkit.errors import InputError
from envkit.matrix import load as matrix_load

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envkit", "run", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("folder", ['x$(touch PWNED)', "x`touch PWNED`", 'x"$(touch PWNED)"a'])
def test_prefix_is_never_shell_code(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                    monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    prefix = tmp_path / folder
    # create refuses the path: rattler's link scripts would run through an activation script that double-quotes it
    with pytest.raises(InputError, match="the prefix") as err:
        create_env(CreateRequest(file=env, prefix=prefix, no_smoke=True), envkit_settings)
    assert err.value.exit_code == 2 and not prefix.exists()
    # an environment moved to such a path still runs, with the path as data only
    create_env(CreateRequest(file=env, prefix=tmp_path / "good", no_smoke=True), envkit_settings)
    (tmp_path / "good").rename(prefix)
    (prefix / "etc" / "conda" / "env_vars.d").mkdir(parents=True, exist_ok=True)
    (prefix / "etc" / "conda" / "env_vars.d" / "x.json").write_text('{"EVIL": "$(touch PWNED)"}')

    r = _run("--prefix", str(prefix), "--", "sh", "-c", 'echo "$CONDA_PREFIX|${EVIL-unset}"', cwd=work)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in (f"{prefix}|$(touch PWNED)", f"{prefix}|unset")
    r = _run("--prefix", str(prefix), "--", "trt-hello", cwd=work)  # activate.d/trt.sh is sourced
    assert r.returncode == 0, r.stderr
    assert f"TRT_HOME={prefix}/share/trt" in r.stdout

    from envkit.smoke.runner import activation_env

    assert activation_env(prefix)["CONDA_PREFIX"] == str(prefix)
    assert not (work / "PWNED").exists() and not (tmp_path / "PWNED").exists()


def test_matrix_cache_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(tmp_path / "cache"))
    m = tmp_path / "matrix.yaml"
    m.write_text((ROOT / "matrix.yaml").read_text())
    first = matrix_load.load_matrix(m)
    (cached,) = (tmp_path / "cache" / "matrix").glob("*.json")
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    # a pickle at the old name, and a pickle and garbage at the JSON cache's own name
    cached.with_suffix(".pickle").write_bytes(pickle.dumps(Evil()))
    for payload in (pickle.dumps(Evil()), b"\x80garbage", b'{"file": 1}', b"[" * 100_000):
        cached.write_bytes(payload)
        matrix_load._CACHE.clear()
        assert matrix_load.load_matrix(m).to_json() == first.to_json()
        assert not marker.exists()


def test_matrix_cache_checked_on_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache entry whose content was changed is validated like fresh YAML: a broken one is the matrix's error."""
    import json

    from envkit.errors import MatrixError

    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(tmp_path / "cache"))
    m = tmp_path / "matrix.yaml"
    m.write_text((ROOT / "matrix.yaml").read_text())
    matrix_load.load_matrix(m)
    (cached,) = (tmp_path / "cache" / "matrix").glob("*.json")
    data = json.loads(cached.read_text())
    data["data"]["schema_version"] = "not a number"
    cached.write_text(json.dumps(data))
    matrix_load._CACHE.clear()
    with pytest.raises(MatrixError, match="schema_version"):
        matrix_load.load_matrix(m)


def test_matrix_cache_unreadable_dir_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(cache))
    matrix_load._CACHE.clear()
    assert matrix_load.load_matrix(ROOT / "matrix.yaml").to_json()["schema_version"]
