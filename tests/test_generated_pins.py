"""Every PyPI pin in every committed environments/NAME/environment.yml exists on pypi.org as a wheel for the
file's Python and platform (read from PyPI's PEP 691 JSON index).

Platform linux-64 means x86_64 with glibc >= 2.28 (manylinux_2_28 and older tags). The `tensorrt-cuNN`
frontends of the pypi-nvidia route are sdists on pypi.org whose `-libs` part downloads from pypi.nvidia.com
(matrix.yaml routes: pypi-nvidia), which is unreachable here: for those the test checks that the sdist exists
at the pinned version, that the file names NVIDIA's index, and that the Python-specific half, the
`tensorrt-cuNN-bindings` wheel, exists for the file's Python and platform.
"""

from __future__ import annotations

import json
import re
import urllib.request
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
GENERATED = sorted((ROOT / "environments").glob("*/environment.yml"))
SDIST_FRONTENDS = re.compile(r"tensorrt-cu\d+")  # wheels (libs) on pypi.nvidia.com, bindings on pypi.org

pytestmark = pytest.mark.network  # skipped with ENVKIT_OFFLINE_TESTS=1 (tests/conftest.py)


@cache
def files_of(project: str) -> tuple[tuple[str, bool], ...]:
    req = urllib.request.Request(f"https://pypi.org/simple/{project}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        data = json.load(resp)
    return tuple((f["filename"], bool(f.get("yanked"))) for f in data["files"])


def linux64_tags(python: str) -> set[Tag]:
    major, minor = (int(x) for x in python.split(".")[:2])
    plats = [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)]
    plats += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    return set(cpython_tags((major, minor), platforms=plats)) | set(compatible_tags((major, minor), platforms=plats))


def wheels_for(req: Requirement, tags: set[Tag]) -> list[str]:
    out = []
    for name, yanked in files_of(req.name):
        if yanked or not name.endswith(".whl"):
            continue
        _, version, _, wtags = parse_wheel_filename(name)
        if req.specifier.contains(version, prereleases=True) and wtags & tags:
            out.append(name)
    return out


def sdists_for(req: Requirement) -> list[str]:
    out = []
    for name, yanked in files_of(req.name):
        if not yanked and name.endswith(".tar.gz") and req.specifier.contains(parse_sdist_filename(name)[1],
                                                                              prereleases=True):
            out.append(name)
    return out


def read_generated(path: Path) -> tuple[str, list[str], list[str]]:
    """(python version, pip requirement lines, pip option lines) of a generated file."""
    text = path.read_text(encoding="utf-8")
    python = re.search(r"^  - python=([0-9.]+)$", text, re.M)
    assert python, f"{path}: no python= pin"
    pip = re.findall(r"^      - (.+)$", text, re.M)
    return python.group(1), [p for p in pip if not p.startswith("-")], [p for p in pip if p.startswith("-")]


def test_there_are_generated_files() -> None:
    assert {p.parent.name for p in GENERATED} >= {"trt-yolo", "trt-bert", "trt-legacy", "ngc-like"}


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.parent.name)
def test_every_pip_pin_has_a_wheel(path: Path) -> None:
    python, reqs, options = read_generated(path)
    tags = linux64_tags(python)
    missing = []
    for line in reqs:
        req = Requirement(line)
        if wheels_for(req, tags):
            continue
        if SDIST_FRONTENDS.fullmatch(req.name) and sdists_for(req):
            assert any("pypi.nvidia.com" in o for o in options), f"{path}: {line} needs NVIDIA's index"
            bindings = Requirement(f"{req.name}-bindings{req.specifier}")
            if wheels_for(bindings, tags):
                continue
            missing.append(f"{bindings} (cp{python.replace('.', '')}, linux x86_64)")
            continue
        missing.append(f"{line} (cp{python.replace('.', '')}, linux x86_64)")
    assert not missing, f"{path.relative_to(ROOT)}: no wheel on pypi.org for: {missing}"


def test_legacy_tensorrt_wheel_is_a_cuda_11_build() -> None:
    """trt-legacy's TensorRT 8.5.3.1: full wheels for cp36-cp310 only, none for 3.11 (why the profile says <3.11)."""
    req = Requirement("tensorrt==8.5.3.1")
    assert wheels_for(req, linux64_tags("3.10"))
    assert not wheels_for(req, linux64_tags("3.11"))
    assert Version("8.5.3.1") in req.specifier
