"""The payload's TensorRT code type-checks against the tensorrt-stubs package from PyPI.

tensorrt-stubs installs ``tensorrt/__init__.pyi`` and ``tensorrt_bindings/*.pyi`` without a
py.typed marker (mypy skips them) and with a few syntax errors (parameters named ``in``, a
non-default parameter after defaults). The test copies them into a stub directory, repairs those
lines, points MYPYPATH at it and runs mypy on the payload modules.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = sorted((ROOT / "envkit" / "smoke" / "payload").glob("payload*.py"))


def _stub_dir(tmp: Path) -> Path | None:
    spec = importlib.util.find_spec("tensorrt_stubs")
    if spec is None or spec.origin is None:
        return None
    site = Path(spec.origin).resolve().parents[1]
    if not (site / "tensorrt_bindings" / "tensorrt.pyi").is_file():
        return None
    out = tmp / "stubs"
    for pkg in ("tensorrt", "tensorrt_bindings"):
        (out / pkg).mkdir(parents=True)
        for f in (site / pkg).glob("*.pyi"):
            text = f.read_text(encoding="utf-8")
            text = re.sub(r"\bin: ", "in_: ", text)
            text = text.replace(", channel_axis: int)", ", channel_axis: int = ...)")
            ast.parse(text)  # the repaired stub must be valid Python
            (out / pkg / f.name).write_text(text, encoding="utf-8")
    (out / "tensorrt_libs.pyi").write_text("", encoding="utf-8")
    return out


MYPY_INI = """[mypy]
python_version = 3.10
disallow_untyped_defs = True
check_untyped_defs = True
no_implicit_optional = True
warn_unused_ignores = True
warn_redundant_casts = True

[mypy-tensorrt.*,tensorrt_bindings.*,tensorrt_libs]
ignore_errors = True

[mypy-onnx.*,onnxruntime.*]
ignore_missing_imports = True
"""


def _mypy(files: list[Path], stubs: Path) -> subprocess.CompletedProcess[str]:
    """mypy with the project's strictness; errors inside the (imperfect) stubs themselves are ignored."""
    ini = stubs.parent / "mypy.ini"
    ini.write_text(MYPY_INI, encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(stubs)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ini), "--no-incremental", "--hide-error-context",
         "--no-error-summary", *map(str, files)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.slow
def test_payload_typechecks_against_tensorrt_stubs(tmp_path: Path) -> None:
    stubs = _stub_dir(tmp_path)
    if stubs is None:
        pytest.skip("tensorrt-stubs is not installed")
    r = _mypy(PAYLOAD, stubs)
    payload_errors = [line for line in r.stdout.splitlines() if "envkit/smoke/" in line]
    assert not payload_errors, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_stubs_do_catch_removed_tensorrt_api(tmp_path: Path) -> None:
    """Guard: the stubs really are used, so build_engine / max_workspace_size would be caught."""
    stubs = _stub_dir(tmp_path)
    if stubs is None:
        pytest.skip("tensorrt-stubs is not installed")
    bad = tmp_path / "bad_trt.py"
    bad.write_text(
        "import tensorrt as trt\n"
        "def f(b: trt.Builder, n: trt.INetworkDefinition, c: trt.IBuilderConfig) -> None:\n"
        "    b.build_engine(n, c)\n"
        "    c.max_workspace_size = 1\n",
        encoding="utf-8",
    )
    r = _mypy([bad], stubs)
    assert "build_engine" in r.stdout and "max_workspace_size" in r.stdout, r.stdout
