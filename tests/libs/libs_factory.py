"""Helpers for the envkit.libs tests: real wheels built here, pip installs, site-packages of an interpreter."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import zipfile
from pathlib import Path


def local_wheel(dest: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A real wheel (zip, METADATA, WHEEL, RECORD) of ``files``; pip installs it and writes its RECORD."""
    dist = f"{name.replace('-', '_')}-{version}"
    tag = "py3-none-linux_x86_64"
    whl = dest / f"{dist}-{tag}.whl"
    dest.mkdir(parents=True, exist_ok=True)
    meta = {f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
            f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: envkit-tests\nRoot-Is-Purelib: false\n"
                                       f"Tag: {tag}\n".encode()}
    rows = []
    with zipfile.ZipFile(whl, "w") as zf:
        for rel, data in {**files, **meta}.items():
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{rel},sha256={digest},{len(data)}")
        rows.append(f"{dist}.dist-info/RECORD,,")
        zf.writestr(f"{dist}.dist-info/RECORD", "\n".join(rows) + "\n")
    return whl


def pip_install(python: Path, *wheels: Path) -> None:
    r = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--disable-pip-version-check", *map(str, wheels)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


def site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return Path(out)
