"""What each read-only verb may import (issue 11: start-up). Whole processes, no timing: the modules are the cost.

Every verb: no rattler / onnx / numpy / psutil / asyncio / thread pools, not explain's module (create and smoke
only). With --json: no rich either, and no PyYAML once the files were read before (the matrix cache and
envkit.yamlcache). --help: none of the matrix, yaml or rich.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envkit.cli import EXPLAINED_VERBS

ROOT = Path(__file__).resolve().parents[1]
H200 = str(ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml")
ENVFILE = str(ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml")

PROBE = """
import contextlib, io, json, sys
from envkit.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

NEVER = ("rattler", "rattler_build", "onnx", "onnxruntime", "numpy", "tensorrt", "psutil", "elftools",
         "ahocorasick_rs", "asyncio", "concurrent.futures", "subprocess", "envkit.engine.solve",
         "envkit.commands.explain", "envkit.explain")
NO_RICH = ("rich",)
NO_YAML = ("yaml",)  # the parsed matrix and YAML files are cached by content (envkit.yamlcache)

CASES = [
    (["resolve", "trt-yolo", "--host", H200, "--json"], NO_RICH + NO_YAML),
    (["resolve", "trt-yolo", "--host", H200], ()),
    (["validate", ENVFILE, "--json"], NO_RICH + NO_YAML),
    (["validate", ENVFILE], ()),
    (["matrix", "--json"], NO_RICH + NO_YAML),
    (["doctor", "--host", H200, "--json"], NO_RICH + NO_YAML),
    (["list", "--json"], NO_RICH + NO_YAML),
    (["--help"], NO_RICH + NO_YAML + ("envkit.matrix", "packaging")),
]


def _imported(argv: list[str]) -> tuple[int, set[str]]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True, cwd=ROOT,
                       check=False, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["code"], set(out["modules"])


@pytest.mark.parametrize(("argv", "forbidden"), CASES, ids=[" ".join(a[:1] + a[-1:]) for a, _ in CASES])
def test_verb_imports_only_what_it_uses(argv: list[str], forbidden: tuple[str, ...]) -> None:
    _imported(argv)  # the first run fills the matrix cache, as any earlier envkit run has
    code, modules = _imported(argv)
    assert code in (0, 1)
    loaded = sorted(m for m in modules for f in (*NEVER, *forbidden) if m == f or m.startswith(f + "."))
    assert loaded == [], f"envkit {' '.join(argv)} imported {loaded}"


def test_explained_verbs_agree() -> None:
    from envkit.commands.explain import EXPLAINED_VERBS as in_explain

    assert in_explain == EXPLAINED_VERBS
