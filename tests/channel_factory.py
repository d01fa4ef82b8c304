"""Build small, real, indexed conda channels for tests (offline, no solver, no network).

``build_channel(dest, packages)`` packages every ``PackageSpec`` with py-rattler-build's
``assemble_package`` (a hand-rolled ``.tar.bz2`` when the package needs a prefix placeholder,
which ``assemble_package`` cannot record) and indexes ``dest`` with ``rattler.index.index_fs``
(no zst, no shards: the stdlib HTTP server and shards do not mix, see the py-rattler notes).

``trt_stack()`` returns the specs of a channel that mirrors the TensorRT stack's real constraint
structure (cuda-version -> __cuda, cudart, cudnn, libnvinfer, tensorrt, trt-tools).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
FIXED_TIME = datetime(2025, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class PackageSpec:
    name: str
    version: str
    build: str = "h0_0"
    subdir: str = "linux-64"  # or "noarch" (noarch: generic)
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    # relative path -> text (or bytes: compiled shared objects) content; executables listed in ``executables``
    files: dict[str, str | bytes] = field(default_factory=dict)
    executables: tuple[str, ...] = ()
    # relative paths whose content contains PLACEHOLDER (replaced by the prefix at link time)
    prefix_files: tuple[str, ...] = ()
    post_link: str | None = None  # body of bin/.<name>-post-link.sh
    build_number: int = 0

    def with_(self, **kw: object) -> PackageSpec:
        return replace(self, **kw)  # type: ignore[arg-type]


def _stage(spec: PackageSpec, root: Path) -> None:
    for rel, text in spec.files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
        if rel in spec.executables:
            p.chmod(0o755)
    if spec.post_link is not None:
        p = root / "bin" / f".{spec.name}-post-link.sh"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(spec.post_link)
        p.chmod(0o755)
    if not any(root.rglob("*")):
        # an empty package is fine for conda, but give it a marker so it is visible in the prefix
        p = root / "share" / "envkit-test" / f"{spec.name}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"{spec.name} {spec.version}\n")


def _tar_bz2(spec: PackageSpec, root: Path, out_dir: Path) -> Path:
    """A hand-made .tar.bz2 (stdlib only) with prefix placeholders recorded in info/paths.json."""
    index = {
        "name": spec.name,
        "version": spec.version,
        "build": spec.build,
        "build_number": spec.build_number,
        "depends": list(spec.depends),
        "constrains": list(spec.constrains),
        "subdir": spec.subdir,
        "timestamp": int(FIXED_TIME.timestamp() * 1000),
    }
    if spec.subdir == "noarch":
        index["noarch"] = "generic"
    else:
        index["arch"] = "x86_64"
        index["platform"] = "linux"
    paths = []
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        rel = p.relative_to(root).as_posix()
        data = p.read_bytes()
        entry: dict[str, object] = {
            "_path": rel,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if rel in spec.prefix_files:
            entry["prefix_placeholder"] = PLACEHOLDER
            entry["file_mode"] = "text"
        paths.append(entry)
    out = out_dir / f"{spec.name}-{spec.version}-{spec.build}.tar.bz2"
    with tarfile.open(out, "w:bz2") as tf:

        def add_bytes(name: str, data: bytes, mode: int = 0o644) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = mode
            ti.mtime = int(FIXED_TIME.timestamp())
            tf.addfile(ti, io.BytesIO(data))

        add_bytes("info/index.json", json.dumps(index, indent=1).encode())
        add_bytes("info/paths.json", json.dumps({"paths": paths, "paths_version": 1}, indent=1).encode())
        add_bytes("info/files", ("\n".join(e["_path"] for e in paths) + "\n").encode())  # type: ignore[misc]
        if spec.prefix_files:
            lines = [f"{PLACEHOLDER} text {rel}" for rel in spec.prefix_files]
            add_bytes("info/has_prefix", ("\n".join(lines) + "\n").encode())
        for p in files:
            add_bytes(p.relative_to(root).as_posix(), p.read_bytes(), p.stat().st_mode & 0o777)
    return out


def build_package(spec: PackageSpec, channel: Path) -> Path:
    """Build one package into ``channel/<subdir>/`` and return its path (not indexed)."""
    from rattler_build import assemble_package, collect_files

    out_dir = channel / spec.subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="envkit-pkg-") as tmp:
        root = Path(tmp)
        _stage(spec, root)
        if spec.prefix_files:
            return _tar_bz2(spec, root, out_dir)
        out = assemble_package(
            spec.name,
            spec.version,
            spec.subdir,
            spec.build,
            out_dir,
            files=collect_files(root, include_hidden=True),
            depends=list(spec.depends),
            constrains=list(spec.constrains),
            noarch="generic" if spec.subdir == "noarch" else None,
            timestamp=FIXED_TIME,
            build_number=spec.build_number,
            compression_level=1,
            detect_prefix=False,
        )
        return Path(out.path)


def index_channel(channel: Path) -> None:
    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    (channel / "linux-64").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def build_channel(dest: Path, packages: Iterable[PackageSpec]) -> Path:
    """Build ``packages`` into ``dest`` and index it. Returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for spec in packages:
        build_package(spec, dest)
    index_channel(dest)
    return dest


# --------------------------------------------------------------------------- the TensorRT stack

CUDAS = {"11.8": "11", "12.2": "12", "12.6": "12", "13.0": "13"}


def _next_minor(v: str) -> str:
    major, minor = v.split(".")
    return f"{major}.{int(minor) + 1}"


def trt_stack(*, slow_post_link: bool = True) -> list[PackageSpec]:
    """Packages mirroring the TensorRT stack's constraint structure (see the py-rattler notes)."""
    specs: list[PackageSpec] = []
    for cv, major in CUDAS.items():
        specs.append(
            PackageSpec("cuda-version", cv, build="h0_0", subdir="noarch", constrains=(f"__cuda >={major}",))
        )
        full = {"11.8": "11.8.89", "12.2": "12.2.140", "12.6": "12.6.77", "13.0": "13.0.48"}[cv]
        specs.append(
            PackageSpec(
                "cuda-cudart",
                full,
                depends=(f"cuda-version >={cv},<{_next_minor(cv)}", "__cuda"),
                files={f"lib/libcudart.so.{major}": f"fake cudart {full}\n"},
            )
        )
    specs += [
        PackageSpec("cudnn", "8.9.7.29", build="cuda11_0", depends=("cuda-version >=11.8,<12", "cuda-cudart")),
        PackageSpec("cudnn", "9.3.0.75", build="cuda12_0", depends=("cuda-version >=12,<13", "cuda-cudart")),
        PackageSpec("cudnn", "9.10.1.4", build="cuda12_0", depends=("cuda-version >=12,<14", "cuda-cudart")),
        PackageSpec("libnvinfer", "8.6.1.6", build="cuda11_0", depends=("cuda-version 11.8.*", "cuda-cudart")),
        PackageSpec("libnvinfer", "10.3.0.26", build="cuda12_0", depends=("cuda-version >=12,<13", "cudnn 9.*")),
        PackageSpec("libnvinfer", "11.0.0.1", build="cuda13_0", depends=("cuda-version >=13,<14", "cuda-cudart")),
        PackageSpec("tensorrt", "8.6.1.6", build="cuda11_0", depends=("libnvinfer 8.6.1.6", "cudnn 8.*")),
        PackageSpec("tensorrt", "10.3.0.26", build="cuda12_0", depends=("libnvinfer 10.3.0.26", "cudnn 9.*")),
        PackageSpec("tensorrt", "11.0.0.1", build="cuda13_0", depends=("libnvinfer 11.0.0.1",)),
    ]
    post = "#!/bin/sh\necho linked > \"$PREFIX/share/trt-tools-linked\"\n"
    if slow_post_link:
        post += 'if [ -n "$ENVKIT_TEST_SLOW_POSTLINK" ]; then touch "$ENVKIT_TEST_SLOW_POSTLINK"; sleep 20; fi\n'
    post += 'if [ -n "$ENVKIT_TEST_FAIL_POSTLINK" ]; then exit 3; fi\n'
    specs.append(
        PackageSpec(
            "trt-tools",
            "1.0.0",
            subdir="noarch",
            build="h0_0",
            files={
                "bin/trt-hello": "#!/bin/sh\necho \"trt-hello TRT_HOME=$TRT_HOME prefix=$CONDA_PREFIX\"\n",
                "etc/conda/activate.d/trt.sh": 'export TRT_HOME="$CONDA_PREFIX/share/trt"\n',
                "share/trt/where.txt": f"prefix={PLACEHOLDER}\n",
            },
            executables=("bin/trt-hello",),
            prefix_files=("share/trt/where.txt",),
            post_link=post,
        )
    )
    return specs


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


def checksum(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def env_yaml(
    path: Path, channels: list[str], deps: list[str], *, name: str = "t", pip: list[str] | None = None
) -> Path:
    """Write a small environment.yml."""
    lines = [f"name: {name}", "channels:"] + [f"  - {c}" for c in channels] + ["dependencies:"]
    lines += [f"  - {d}" for d in deps]
    if pip:
        lines.append("  - pip:")
        lines += [f"      - {p}" for p in pip]
    path.write_text("\n".join(lines) + "\n")
    os.utime(path)
    return path
