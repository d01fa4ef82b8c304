"""Fixtures and helpers for the check / mirror-check / bundle tests (imported by tests/check/conftest.py
and by tests/commands/test_{check,mirror_check,bundle}_cmd.py).

* ``check_channel`` (session): the TensorRT stack of tests/channel_factory.trt_stack plus linux-aarch64
  builds, python and pip, so generated environments solve for linux-64 and linux-aarch64.
* ``Project``: a temp project (environments/, envkit.toml) using tests/check/data/matrix.yaml, with
  helpers to write profiles, generate, lock and run the CLI.
* ``lagging_copy`` / ``broken_copy``: mirrors missing one package / carrying a rebuilt package with the
  same name-version-build and a different sha256.
* ``build_pip_index``: a PEP 503 simple index with real (tiny) wheels.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channel_factory import PackageSpec, build_package, index_channel, trt_stack
from envelope import parsed

from envkit.cli import main

MATRIX = Path(__file__).resolve().parent / "check" / "data" / "matrix.yaml"


def stack_specs() -> list[PackageSpec]:
    specs = trt_stack(slow_post_link=False)
    arm = [s.with_(subdir="linux-aarch64") for s in specs if s.subdir == "linux-64" and not s.prefix_files]
    extra = [
        PackageSpec("python", "3.12.7", build="h0_cpython"),
        PackageSpec("python", "3.12.7", build="h0_cpython", subdir="linux-aarch64"),
        PackageSpec("pip", "24.2", build="pyh0_0", subdir="noarch"),
    ]
    return specs + arm + extra


def build_stack_channel(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for spec in stack_specs():
        build_package(spec, dest)
    (dest / "linux-aarch64").mkdir(exist_ok=True)
    index_channel(dest)
    return dest


@pytest.fixture(scope="session")
def check_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stack_channel(tmp_path_factory.mktemp("check-channel") / "channel")


def reindex(channel: Path) -> None:
    for sub in channel.iterdir():
        if sub.is_dir():
            for f in ("repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"):
                (sub / f).unlink(missing_ok=True)
    index_channel(channel)


def find_pkg(channel: Path, subdir: str, prefix: str) -> Path:
    found = sorted((channel / subdir).glob(prefix + "*"))
    assert found, f"no {prefix}* in {channel / subdir}"
    return found[0]


def lagging_copy(channel: Path, dest: Path, drop: tuple[str, str]) -> Path:
    """A copy of ``channel`` without the package file ``drop`` = (subdir, 'name-version-build')."""
    shutil.copytree(channel, dest)
    find_pkg(dest, drop[0], drop[1]).unlink()
    reindex(dest)
    return dest


def broken_copy(channel: Path, dest: Path, spec: PackageSpec) -> Path:
    """A copy where ``spec``'s name-version-build was rebuilt with other content (another sha256)."""
    shutil.copytree(channel, dest)
    find_pkg(dest, spec.subdir, f"{spec.name}-{spec.version}-{spec.build}").unlink()
    build_package(spec.with_(files={"share/broken-sync.txt": "this is not the upstream build\n"}), dest)
    reindex(dest)
    return dest


# --------------------------------------------------------------------------- pip index


def make_wheel(dest: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    dist = name.replace("-", "_")
    path = dest / f"{dist}-{version}-{tag}.whl"
    files = {
        f"{dist}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}-{version}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: envkit-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = []
    for n, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{n},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}-{version}.dist-info/RECORD,,")
    files[f"{dist}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
    return path


def build_pip_index(root: Path, wheels: dict[str, list[tuple[str, str]]]) -> Path:
    """``root/simple/<name>/index.html`` (PEP 503) linking to ``root/files/*.whl``; returns root/simple."""
    files = root / "files"
    simple = root / "simple"
    for name, versions in wheels.items():
        links = []
        for version, tag in versions:
            whl = make_wheel(files, name, version, tag)
            sha = hashlib.sha256(whl.read_bytes()).hexdigest()
            links.append(f'<a href="../../files/{whl.name}#sha256={sha}">{whl.name}</a><br/>')
        page = simple / name
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    (simple / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{n}/">{n}</a>' for n in wheels) + "</body></html>\n"
    )
    return simple


# --------------------------------------------------------------------------- projects


@dataclass
class Project:
    root: Path
    capsys: Any

    @property
    def envs(self) -> Path:
        return self.root / "environments"

    def profile(self, name: str, channels: list[str], *, tensorrt: str = ">=10.0,<11", targets: list[str] | None = None,
                conda: list[str] | None = None, platforms: list[str] | None = None) -> None:
        lines = ["schema_version: 1", f'description: "{name}"', f'tensorrt: "{tensorrt}"',
                 "channels:"] + [f'  - "{c}"' for c in channels]
        lines.append(f"platforms: {json.dumps(platforms or ['linux-64', 'linux-aarch64'])}")
        if conda:
            lines.append(f"conda: {json.dumps(conda)}")
        if targets:
            lines.append("targets:")
            lines += [f'  - "{t}"' for t in targets]
        self.envs.mkdir(parents=True, exist_ok=True)
        (self.envs / f"{name}.yaml").write_text("\n".join(lines) + "\n")

    def mirrors(self, mapping: dict[str, str]) -> None:
        body = "[mirrors]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in mapping.items())
        (self.root / "envkit.toml").write_text(body)

    def cli(self, *args: str) -> int:
        return main(["--project", str(self.root), "--matrix", str(MATRIX), *args])

    def generate(self, name: str) -> Path:
        assert self.cli("generate", name) == 0
        self.capsys.readouterr()
        return self.envs / name / "environment.yml"

    def lock(self, name: str, target: str = "linux-64:cuda=12.6") -> Path:
        """Solve the generated file and write envkit.lock next to it (what `envkit create` would lock)."""
        from envkit.engine.lockfile import lock_paths, write_lock
        from envkit.engine.rattler_engine import solve
        from envkit.envfile import read_env_file
        from envkit.host.machines import Machine

        env_path = self.envs / name / "environment.yml"
        env = read_env_file(env_path)
        tgt = Machine.from_spec(target).solve_target("12.6")
        records = solve([d.raw for d in env.conda], env.channels, tgt, cache_dir=self.root / ".solve-cache")
        lock = lock_paths(env_path)[0]
        write_lock(records, tgt, env.channels, lock)
        return lock

    def check(self, *args: str) -> tuple[int, dict[str, Any]]:
        self.capsys.readouterr()
        code = self.cli("check", *args, "--json")
        out = self.capsys.readouterr().out
        return code, parsed(out, "check")


def rows(data: dict[str, Any], *, status: str | None = None, step: str | None = None,
         env: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
    return [
        r for r in data["results"]
        if (status is None or r["status"] == status) and (step is None or r["step"] == step)
        and (env is None or r["environment"] == env) and (target is None or r["target"] == target)
    ]


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    return Project(root, capsys)
