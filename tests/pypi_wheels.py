"""Real wheels from PyPI for tests, downloaded once into the repository's ignored ``.whl/`` folder.

``.whl/`` also travels to the GPU machine (the ``run`` tool's ``carry``), which has no network:
tests there find the wheels already present. ``ENVKIT_TEST_WHEELS`` points elsewhere if needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
       "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_27_x86_64")


def wheel_dir() -> Path:
    return Path(os.environ.get("ENVKIT_TEST_WHEELS") or ROOT / ".whl")


def pypi_wheel(name: str, version: str) -> Path:
    """The wheel file of ``name==version`` for CPython 3.11 on x86_64 Linux; skips without network."""
    dest = wheel_dir()
    stem = name.replace("-", "_").lower()
    have = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))
    if have:
        return have[0]
    if os.environ.get("ENVKIT_OFFLINE_TESTS") == "1":
        pytest.skip(f"{name}=={version} not in {dest} and ENVKIT_OFFLINE_TESTS=1")
    dest.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "--disable-pip-version-check", *TAG, "-d", str(dest), f"{name}=={version}"],
                       capture_output=True, text=True, timeout=600, check=False)
    have = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))
    if not have:
        pytest.skip(f"cannot download {name}=={version} from PyPI: {r.stderr.strip()[-300:]}")
    return have[0]


def extract(wheel: Path, member: str, dest: Path) -> Path:
    """One file of a wheel, written under ``dest`` (keeping its path)."""
    with zipfile.ZipFile(wheel) as zf:
        return Path(zf.extract(member, dest))
