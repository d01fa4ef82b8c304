"""envkit create end to end against the local TensorRT-like channel (file:// and HTTP), offline."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from channel_factory import PLACEHOLDER, build_channel, env_yaml, file_url, trt_stack

from envkit.context import Settings
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env
from envkit.envs import env_state, list_envs
from envkit.errors import ChannelError, InputError, SolveError

GT1030 = Path(__file__).resolve().parents[1] / "data/nvidia-smi/corpus/telegraf-geforce-gt-1030-470.74.xml"


@pytest.fixture(autouse=True)
def _cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")


def settings_with_env(s: Settings) -> Settings:
    s.env = dict(os.environ)
    return s


def make_env(tmp_path: Path, channel: str, deps: list[str] | None = None, **kw: object) -> Path:
    """The environment file whose own environment is "demo" (its lock lives next to it)."""
    kw.setdefault("name", "demo")
    return env_yaml(tmp_path / "environment.yml", [channel], deps or ["tensorrt", "trt-tools"], **kw)  # type: ignore[arg-type]


def req(path: Path, name: str = "demo", **kw: object) -> CreateRequest:
    return CreateRequest(file=path, name=name, **kw)  # type: ignore[arg-type]


def test_create_from_file_channel(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    res = create_env(req(env), envkit_settings)
    assert res.status == "created" and res.solved
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    assert res.prefix == prefix
    assert res.stack["tensorrt"] == "10.3.0.26" and res.stack["cuda"] == "12.6" and res.stack["cudnn"] == "9.10.1.4"
    # a valid conda prefix
    metas = {p.name for p in (prefix / "conda-meta").iterdir()}
    assert "history" in metas and any(m.startswith("tensorrt-10.3.0.26") for m in metas)
    rec = json.loads((prefix / "conda-meta/envkit.json").read_text())
    assert rec["complete"] is True and rec["schema"] == "envkit.env/1"
    assert rec["spec_hash"] == __import__("hashlib").sha256(env.read_bytes()).hexdigest()
    assert rec["stack"]["tensorrt"] == "10.3.0.26" and "__cuda=12.4=0" in rec["host"]["target"]["virtual_packages"]
    assert set(rec["timings"]) >= {"solve", "install"}
    # the prefix placeholder names the FINAL path (built in staging with alternative_target_prefix)
    where = (prefix / "share/trt/where.txt").read_text()
    assert where == f"prefix={prefix}\n" and PLACEHOLDER not in where and "staging" not in where
    assert (prefix / "share/trt-tools-linked").exists()  # post-link ran
    # lock + explicit
    lock = tmp_path / "envkit.lock"
    explicit = tmp_path / "environment.explicit.txt"
    assert lock.is_file() and "__cuda=12.4=0" in lock.read_text() and "version: 7" in lock.read_text()
    lines = explicit.read_text().splitlines()
    assert "@EXPLICIT" in lines and any(ln.startswith("file://") and "#" in ln for ln in lines)
    from rattler.explicit_environment import ExplicitEnvironmentSpec

    assert len(ExplicitEnvironmentSpec.from_path(explicit).packages) == len(res.packages)
    # no leftovers next to it
    leftovers = [p.name for p in prefix.parent.iterdir() if p.name.startswith(".demo.") and "lock" not in p.name]
    assert leftovers == []
    assert env_state(prefix) == "up to date"
    assert [e.name for e in list_envs(envkit_settings)] == ["demo"]
    assert "conda activate demo" in res.usage and "envkit run demo -- CMD" in res.usage


def test_second_create_is_noop_without_rattler(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    create_env(req(env), envkit_settings)
    import subprocess

    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from envkit.context import Settings\n"
        "from envkit.create.model import CreateRequest\n"
        "from envkit.create.pipeline import create_env\n"
        f"r=create_env(CreateRequest(file=Path({str(env)!r}), name='demo'), Settings.from_env())\n"
        "print(json.dumps({'status': r.status, 'solved': r.solved,"
        " 'rattler': any(m == 'rattler' or m.startswith('rattler.') for m in sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data == {**data, "status": "up to date", "solved": False, "rattler": False}


def test_force_rebuilds_and_edit_makes_stale(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    first = create_env(req(env), envkit_settings)
    again = create_env(req(env, force=True), envkit_settings)
    assert again.status == "created" and again.solved
    env_yaml(env, [file_url(trt_channel)], ["tensorrt=8.6", "trt-tools"], name="demo")
    assert env_state(first.prefix) == "stale"
    monkey = os.environ.get("CONDA_OVERRIDE_CUDA")
    assert monkey == "12.4"
    third = create_env(req(env), envkit_settings)
    assert third.status == "created" and third.stack["tensorrt"] == "8.6.1.6"
    assert env_state(first.prefix) == "up to date"


def test_locked_reinstalls_from_lock_and_detects_mismatch(
    trt_channel: Path, tmp_path: Path, envkit_settings: Settings
) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    create_env(req(env), envkit_settings)
    res = create_env(req(env, name="other", locked=True), envkit_settings)
    assert res.status == "created" and not res.solved
    assert res.stack["tensorrt"] == "10.3.0.26"
    assert (res.prefix / "share/trt/where.txt").read_text() == f"prefix={res.prefix}\n"
    env_yaml(env, [file_url(trt_channel)], ["tensorrt=8.6", "trt-tools"], name="demo")
    with pytest.raises(InputError, match="the lock no longer matches") as ei:
        create_env(req(env, name="third", locked=True), envkit_settings)
    assert "tensorrt=8.6" in ei.value.message and ei.value.exit_code == 2


def test_locked_without_lock(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    with pytest.raises(InputError, match="no lock file"):
        create_env(req(env, locked=True), envkit_settings)


def test_unsatisfiable_for_old_driver(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.4")
    env = make_env(tmp_path, file_url(trt_channel), ["tensorrt=10.3"])
    with pytest.raises(SolveError, match=r"__cuda=11\.4: driver too old for CUDA 12"):
        create_env(req(env), settings_with_env(envkit_settings))
    assert not (Path(os.environ["CONDA_ENVS_PATH"]) / "demo").exists()


def test_host_file_builds_for_target_machine(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    # a real capture of a driver 470.74 (CUDA 11.4) machine: the solve is for it, not for this one
    env = make_env(tmp_path, file_url(trt_channel))
    res = create_env(req(env, host_file=str(GT1030), no_smoke=True), envkit_settings)
    assert res.stack["tensorrt"] == "8.6.1.6" and res.stack["cuda"] == "11.8"
    assert res.target is not None and "__cuda=11.4=0" in res.target["virtual_packages"]
    assert res.machine is not None and res.machine["kind"] == "capture" and res.machine["driver"] == "470.74"
    rec = json.loads((res.prefix / "conda-meta/envkit.json").read_text())
    assert rec["machine"] == res.machine and rec["host"]["host_file"] == str(GT1030)


def test_dry_run_installs_nothing(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    res = create_env(req(env, dry_run=True), envkit_settings)
    assert res.status == "dry run" and "tensorrt-10.3.0.26-cuda12_0" in res.packages
    assert not res.prefix.exists() and not (tmp_path / "envkit.lock").exists()


def test_explicit_prefix(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, file_url(trt_channel))
    res = create_env(CreateRequest(file=env, prefix=tmp_path / "px"), envkit_settings)
    assert res.prefix == tmp_path / "px" and (tmp_path / "px/bin/trt-hello").exists()
    assert res.usage == [f"envkit run --prefix {tmp_path / 'px'} -- CMD"]


def test_http_channel_mirror_map_and_offline(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                             channel_server) -> None:  # type: ignore[no-untyped-def]
    srv = channel_server(trt_channel)
    (envkit_settings.project_dir / "envkit.toml").write_text(f'[mirrors]\nconda-forge = "{srv.url}"\n')
    env = make_env(tmp_path, "conda-forge")
    res = create_env(req(env), envkit_settings)
    assert res.channels == [srv.url] and res.stack["tensorrt"] == "10.3.0.26"
    assert srv.url in (tmp_path / "envkit.lock").read_text()
    srv.stop()
    # server gone: a normal create must report the channel, --offline works from the caches
    with pytest.raises(ChannelError, match="unreachable"):
        create_env(req(env, name="n2"), envkit_settings)
    res2 = create_env(req(env, name="n3", offline=True), envkit_settings)
    assert res2.status == "created" and res2.stack["tensorrt"] == "10.3.0.26"


def test_lagging_mirror_names_missing_package(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                              channel_server) -> None:  # type: ignore[no-untyped-def]
    lagging = build_channel(tmp_path / "lagging", [s for s in trt_stack() if s.name != "trt-tools"])
    srv = channel_server(lagging)
    (envkit_settings.project_dir / "envkit.toml").write_text(f'[mirrors]\nconda-forge = "{srv.url}"\n')
    env = make_env(tmp_path, "conda-forge")
    with pytest.raises(ChannelError, match="package missing on mirror: trt-tools") as ei:
        create_env(req(env), envkit_settings)
    assert "mirror of conda-forge" in ei.value.message and ei.value.exit_code == 5


def test_channel_override(trt_channel: Path, tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, "http://127.0.0.1:9/nothing")
    res = create_env(req(env, channels=[str(trt_channel)]), envkit_settings)
    assert res.status == "created"


def test_unreachable_channel(tmp_path: Path, envkit_settings: Settings) -> None:
    env = make_env(tmp_path, "http://127.0.0.1:9/t/SECRET-TOKEN/ch")
    with pytest.raises(ChannelError) as ei:
        create_env(req(env), envkit_settings)
    assert "SECRET-TOKEN" not in ei.value.message and "/t/***/" in ei.value.message


def test_tokens_never_written(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                              channel_server, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    # a server that serves the channel under /t/SECRET/ch
    root = tmp_path / "srv"
    (root / "t" / "SECRET").mkdir(parents=True)
    (root / "t" / "SECRET" / "ch").symlink_to(trt_channel)
    srv = channel_server(root)
    url = f"{srv.url}/t/SECRET/ch"
    env = make_env(tmp_path, url, name="tok")
    from envkit.cli import main

    assert main(["--project", str(envkit_settings.project_dir), "create", "--file", str(env), "--name", "tok",
                 "--json"]) == 0
    out = capsys.readouterr()
    assert "SECRET" not in out.out + out.err
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "tok"
    for f in [tmp_path / "envkit.lock", tmp_path / "environment.explicit.txt", prefix / "conda-meta/envkit.json",
              prefix / "conda-meta/history"]:
        assert "SECRET" not in f.read_text(), f
    assert "/t/***/" in (tmp_path / "envkit.lock").read_text()
    # and --locked from a redacted lock restores the token from the environment file
    res = create_env(req(env, name="tok2", locked=True), envkit_settings)
    assert res.status == "created"
    own = Path(os.environ["CONDA_ENVS_PATH"]) / "tok2" / "conda-meta" / "envkit.lock"  # tok2's own lock
    assert res.lock_file == own and "SECRET" not in own.read_text()


def test_bad_env_file_exit_2(tmp_path: Path, envkit_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from envkit.cli import main

    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\ndependencies: [\n")
    assert main(["create", "--file", str(bad), "--name", "x"]) == 2
    assert main(["create", "--file", str(tmp_path / "missing.yml"), "--name", "x"]) == 2
    assert main(["create", "--file", str(bad)]) == 2  # needs --name or --prefix
    assert main(["create"]) == 2
    assert main(["create", "--file", str(bad), "--name", "../evil"]) == 2


def test_pip_section_without_python_fails_clearly(trt_channel: Path, tmp_path: Path,
                                                  envkit_settings: Settings) -> None:
    from envkit.errors import InstallError

    env = make_env(tmp_path, file_url(trt_channel), pip=["numpy"])
    with pytest.raises(InstallError, match=r"pip: section .* but no python"):
        create_env(req(env), envkit_settings)
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "demo"
    assert not prefix.exists() and not list(prefix.parent.glob(".demo.envkit-*"))


def test_failed_rebuild_keeps_previous(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit.errors import InstallError

    env = make_env(tmp_path, file_url(trt_channel))
    first = create_env(req(env), envkit_settings)
    before = sorted(p.name for p in (first.prefix / "conda-meta").iterdir())
    monkeypatch.setenv("ENVKIT_TEST_FAIL_POSTLINK", "1")
    with pytest.raises(InstallError, match="post-link"):
        create_env(req(env, force=True), envkit_settings)
    assert sorted(p.name for p in (first.prefix / "conda-meta").iterdir()) == before
    assert env_state(first.prefix) == "up to date"
    assert not list(first.prefix.parent.glob(".demo.envkit-*"))


def test_failed_create_leaves_lock_files_untouched(trt_channel: Path, tmp_path: Path, envkit_settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock files are prepared during the install but only renamed in once the build succeeded."""
    from envkit.errors import InstallError

    env = make_env(tmp_path, file_url(trt_channel))
    first = create_env(req(env), envkit_settings)
    assert first.lock_file is not None and first.explicit_file is not None
    lock, explicit = first.lock_file.read_bytes(), first.explicit_file.read_bytes()
    first.lock_file.write_bytes(lock + b"# marker\n")
    monkeypatch.setenv("ENVKIT_TEST_FAIL_POSTLINK", "1")
    with pytest.raises(InstallError, match="post-link"):
        create_env(req(env, force=True), envkit_settings)
    assert first.lock_file.read_bytes() == lock + b"# marker\n" and first.explicit_file.read_bytes() == explicit
    assert not [p for p in first.lock_file.parent.iterdir() if p.name.endswith(".envkit-tmp")]
