"""envkit bundle: the locked packages as an offline channel folder; create from it with the channel gone."""
# ruff: noqa: F811  (the fixtures imported from check_fixtures are test parameters by design)

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from channel_factory import env_yaml
from check_fixtures import (
    Project,
    build_pip_index,
    check_channel,  # noqa: F401  (fixture)
    project,  # noqa: F401  (fixture)
)
from envelope import parsed

from envkit.check.bundle import verify_bundle


def run_json(project: Project, *args: str) -> tuple[int, dict[str, Any]]:
    project.capsys.readouterr()
    code = project.cli(*args, "--json")
    out = project.capsys.readouterr()
    try:
        return code, parsed(out.out, args[0])
    except ValueError:
        raise AssertionError(f"exit {code}\nstdout: {out.out}\nstderr: {out.err}")


def test_bundle_then_create_offline_with_the_channel_gone(project: Project, check_channel: Path, channel_server,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = channel_server(shutil.copytree(check_channel, tmp_path / "upstream"))
    project.profile("alpha", [server.url], targets=["linux-64:cuda=12.6"], platforms=["linux-64"])
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.6")
    code, created = run_json(project, "create", "alpha", "--no-smoke")
    assert code == 0, created
    lock = project.envs / "alpha" / "envkit.lock"
    assert lock.is_file()

    out = tmp_path / "bundle"
    code, data = run_json(project, "bundle", "alpha", "--out", str(out))
    assert code == 0, data
    names = sorted(Path(c["file"]).name for c in data["conda"])
    assert len(names) == 6 and any(n.startswith("tensorrt-10.3.0.26") for n in names)
    assert (out / "linux-64" / "repodata.json").is_file() and (out / "noarch" / "repodata.json").is_file()
    assert not list(out.rglob("*.msgpack.zst"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema"] == "envkit.bundle/1" and len(manifest["files"]) == 6 + 4
    for item in data["conda"]:
        assert item["sha256"] == manifest["files"][item["file"]]
    assert verify_bundle(out) == (10, [])
    code, verdict = run_json(project, "bundle", "--verify", "--out", str(out))
    assert code == 0 and verdict == {"out": str(out), "verified": 10, "problems": [], "ok": True}

    # the air-gapped machine: no upstream, cold caches
    server.stop()
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "cold-rattler"))
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(tmp_path / "cold-envkit"))
    prefix = tmp_path / "offline-env"
    code, created = run_json(project, "create", "alpha", "--channel", out.as_uri(), "--offline", "--no-smoke",
                             "--prefix", str(prefix))
    assert code == 0, created
    metas = sorted(p.name for p in (prefix / "conda-meta").glob("*-*.json"))
    assert any(m.startswith("tensorrt-10.3.0.26") for m in metas) and len(metas) == 6
    # exactly the bundle: its own environment file and lock, --locked
    prefix2 = tmp_path / "offline-locked"
    code, created = run_json(project, "create", "--file", str(out / "environment.yml"), "--name", "alpha-b",
                             "--locked", "--offline", "--no-smoke", "--prefix", str(prefix2))
    assert code == 0, created
    assert len(list((prefix2 / "conda-meta").glob("*-*.json"))) == 6


def test_bundle_detects_tampering_and_downloads_wheels(project: Project, check_channel: Path, serve_channel,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_root = tmp_path / "pypi"
    build_pip_index(index_root, {"tinypkg": [("1.0.0", "py3-none-any"), ("1.1.0", "py3-none-any")]})
    monkeypatch.setenv("ENVKIT_PIP_INDEX_URL", serve_channel(index_root) + "/simple")
    url = serve_channel(check_channel)
    env_dir = tmp_path / "pipenv"
    env_dir.mkdir()
    env = env_yaml(env_dir / "environment.yml", [url], ["python=3.12", "cuda-version=12.6", "tensorrt=10.3", "pip"],
                   name="pipenv", pip=["tinypkg==1.0.0"])
    project.profile("dummy", [url])  # a project with environments/
    _lock(env)
    out = tmp_path / "b"
    code, data = run_json(project, "bundle", str(env), "--out", str(out))
    assert code == 0, data
    assert [w["file"] for w in data["wheels"]] == ["wheels/tinypkg-1.0.0-py3-none-any.whl"]
    text = (out / "environment.yml").read_text()
    assert "--no-index" in text and f"--find-links {out / 'wheels'}" in text and out.as_uri() in text
    # a tampered package is caught by the re-hash
    pkg = next((out / "linux-64").glob("tensorrt-*.conda"))
    pkg.write_bytes(pkg.read_bytes() + b"x")
    checked, problems = verify_bundle(out)
    assert checked == 7 + 1 + 4 and problems == [f"linux-64/{pkg.name}: sha256 differs from the manifest"]
    # the same check from the command line, as the receiving machine runs it
    code, verdict = run_json(project, "bundle", "--verify", "--out", str(out))
    assert code == 1 and verdict["problems"] == problems and verdict["verified"] == 12


def _lock(env_path: Path) -> None:
    from envkit.engine.lockfile import lock_paths, write_lock
    from envkit.engine.rattler_engine import solve
    from envkit.envfile import read_env_file
    from envkit.host.machines import Machine

    env = read_env_file(env_path)
    tgt = Machine.from_spec("linux-64:cuda=12.6").solve_target()
    records = solve([d.raw for d in env.conda], env.channels, tgt, cache_dir=env_path.parent / ".cache")
    write_lock(records, tgt, env.channels, lock_paths(env_path)[0])


def test_bundle_refuses_a_package_whose_sha256_changed(project: Project, check_channel: Path, serve_channel,
                                                      tmp_path: Path) -> None:
    from channel_factory import PackageSpec, build_package

    upstream = shutil.copytree(check_channel, tmp_path / "up")
    project.profile("alpha", [serve_channel(upstream)], platforms=["linux-64"])
    project.generate("alpha")
    project.lock("alpha")
    lib = PackageSpec("libnvinfer", "10.3.0.26", build="cuda12_0", files={"share/rebuilt.txt": "other bytes\n"})
    build_package(lib, upstream)  # same file name, other content: a broken sync
    code = project.cli("bundle", "alpha", "--out", str(tmp_path / "b"))
    err = project.capsys.readouterr().err
    assert code == 5
    assert "sha256 mismatch for libnvinfer-10.3.0.26-cuda12_0.conda" in err


def test_bundle_without_lock_is_a_usage_error(project: Project, check_channel: Path, serve_channel,
                                              tmp_path: Path) -> None:
    project.profile("alpha", [serve_channel(check_channel)])
    project.generate("alpha")
    code = project.cli("bundle", "alpha", "--out", str(tmp_path / "b"))
    assert code == 2 and "no lock" in project.capsys.readouterr().err


def test_printed_offline_commands_work_as_printed(project: Project, check_channel: Path, channel_server,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: bundle printed `envkit create demo --channel file://... --offline`, which failed with
    "no profile named 'demo'"; and `--out EXISTING_FILE` crashed with a NotADirectoryError traceback."""
    import os
    import shlex
    import subprocess
    import sys

    server = channel_server(shutil.copytree(check_channel, tmp_path / "upstream"))
    project.profile("alpha", [server.url], targets=["linux-64:cuda=12.6"], platforms=["linux-64"])
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.6")
    assert project.cli("create", "alpha", "--no-smoke") == 0
    out = tmp_path / "my bundle"  # a space: the printed command must quote it
    project.capsys.readouterr()
    assert project.cli("bundle", "alpha", "--out", str(out)) == 0
    text = project.capsys.readouterr().out
    printed = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("envkit ")]
    assert len(printed) == 2, text

    server.stop()  # the air-gapped machine: no upstream, cold caches, another directory
    env = {**os.environ, "RATTLER_CACHE_DIR": str(tmp_path / "cold-rattler"),
           "ENVKIT_CACHE_DIR": str(tmp_path / "cold-envkit")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for i, cmd in enumerate(printed):
        argv = shlex.split(cmd)
        assert argv[0] == "envkit"
        r = subprocess.run([sys.executable, "-m", "envkit", *argv[1:], "--no-smoke"], capture_output=True, text=True,
                           cwd=elsewhere, env=env, timeout=120)
        assert r.returncode == 0, (cmd, r.stderr)
        prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "alpha"
        assert any(m.name.startswith("tensorrt-10.3.0.26") for m in (prefix / "conda-meta").glob("*.json")), i

    afile = tmp_path / "a-file"
    afile.write_text("x")
    for args in (["bundle", "alpha", "--out", str(afile)], ["bundle", "--verify", "--out", str(afile)]):
        code, err = run_json(project, *args)
        assert code == 2 and "is a file" in err["text"] and err["code"] == "InputError"
    assert afile.read_text() == "x"
