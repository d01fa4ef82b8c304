"""create solves for exactly the machine resolve answered for (real subprocesses, --json).

On a machine without a GPU, resolve answers for the profile's targets; create's solve must get the same
machine's ``__cuda`` (before, it re-detected this machine and solved without ``__cuda``). The profile is
the shipped ``environments/trt-yolo.yaml``; conda-forge is mirrored to a local channel holding every
package the generated file asks for, with the TensorRT-like stack's real ``__cuda`` dependency.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from channel_factory import PackageSpec, build_channel, file_url, trt_stack
from envelope import validate

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def envkit(project: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    """Run envkit as a real process; with --json, the envelope (validated) and its data."""
    proc = subprocess.run([sys.executable, "-m", "envkit", "--project", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    doc: dict[str, Any] = {}
    if "--json" in args:
        doc = validate(json.loads(proc.stdout), args[0])
        assert doc["exit_code"] == proc.returncode
    return proc.returncode, doc, proc.stderr


def channel_for(env_file: Path, dest: Path) -> Path:
    """The TensorRT-like stack plus a package for every other conda dependency of ``env_file``."""
    stack = trt_stack(slow_post_link=False)
    extra: list[PackageSpec] = []
    deps = re.findall(r"^  - ([A-Za-z0-9_.-]+)(?:=([0-9.]+))?\s*$", env_file.read_text(), re.M)
    for name, version in deps:
        if not any(s.name == name and s.version.startswith(version) for s in stack):
            cudart = ("cuda-cudart",) if name.startswith("libnv") else ()
            extra.append(PackageSpec(name, version or "1.0", depends=cudart))
    return build_channel(dest, stack + extra)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    shutil.copy(ROOT / "environments" / "trt-yolo.yaml", root / "environments")
    env = dict(os.environ)
    env["ENVKIT_NVIDIA_SMI"] = str(tmp_path / "no-nvidia-smi")  # this machine has no GPU, on any test machine
    env.pop("CONDA_OVERRIDE_CUDA", None)
    return root, env


def test_create_dry_run_solves_for_the_machine_resolve_used(project: tuple[Path, dict[str, str]],
                                                            tmp_path: Path) -> None:
    root, env = project
    code, doc, _ = envkit(root, env, "resolve", "trt-yolo", "--json")
    assert code == 0, doc
    resolved = doc["data"]
    machine = resolved["machine"]
    assert machine["kind"] == "targets" and not machine["this_machine"] and machine["cuda"]
    assert resolved["chosen"]["cuda"] == machine["cuda"]

    code, _, err = envkit(root, env, "generate", "trt-yolo")
    assert code == 0, err
    channel = channel_for(root / "environments" / "trt-yolo" / "environment.yml", tmp_path / "channel")
    (root / "envkit.toml").write_text(f'[mirrors]\nconda-forge = "{file_url(channel)}"\n')

    code, doc, err = envkit(root, env, "create", "trt-yolo", "--dry-run", "--json")
    assert code == 0, (doc, err)
    created = doc["data"]
    assert any("not this machine" in m["text"] for m in doc["messages"])
    assert created["status"] == "dry run" and created["machine"] == machine
    assert created["target"]["virtual_packages"] == machine["virtual_packages"]
    assert f"__cuda={machine['cuda']}=0" in created["target"]["virtual_packages"]
    assert any(p.startswith(f"cuda-version-{machine['cuda']}-") for p in created["packages"])

    # without --json, create says in one line, before it starts, which machine it builds for
    code, _, err = envkit(root, env, "create", "trt-yolo", "--dry-run")
    assert code == 0, err
    first = err.splitlines()[0]
    assert "not this machine (no GPU here)" in first and f"__cuda={machine['cuda']}" in first
    assert "skip the GPU layers" in first
