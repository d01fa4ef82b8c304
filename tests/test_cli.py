"""The CLI edge: help, lazy imports, list, error rendering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from envelope import data_of, error_of

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"

PROBE = """
import sys
from envkit.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ("rattler", "rattler_build", "onnx", "onnxruntime", "numpy", "tensorrt") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["resolve", "trt-yolo", "--host", str(H200)],
        ["validate", str(ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml")],
        ["matrix", "--json"],
    ],
)
def test_no_heavy_imports(argv: list[str]) -> None:
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    line = [x for x in r.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line == ["HEAVY="], r.stderr[-2000:]


def test_console_script_help() -> None:
    exe = Path(sys.executable).parent / "envkit"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert r.returncode == 0
    assert "exit codes" in r.stdout and "resolve" in r.stdout


def test_no_verb_is_usage() -> None:
    assert main([]) == 2


def test_list_shows_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(ROOT), "list", "--json"]) == 0
    data = data_of(capsys.readouterr().out, "list")
    names = {p["name"] for p in data["profiles"]}
    assert {"trt-yolo", "trt-bert", "trt-legacy", "ngc-like"} <= names


def test_error_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "resolve", "nope", "--json"])
    err = error_of(capsys.readouterr().out, "resolve", exit_code=2)
    assert code == 2
    assert err["code"] == "ProfileError" and "nope" in err["text"]


def test_usable_outside_the_repo(tmp_path: Path) -> None:
    """From an unrelated directory the packaged matrix and built-in profiles are found."""
    r = subprocess.run(
        [sys.executable, "-m", "envkit", "resolve", "trt-legacy", "--host", str(H200), "--json"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert r.returncode in (0, 1), r.stderr
    assert data_of(r.stdout, "resolve")["profile"] == "trt-legacy"
