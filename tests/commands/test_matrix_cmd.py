"""`envkit matrix` through the CLI entry point: exit codes and the JSON contract."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from envelope import data_of

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "matrix.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--check")
    assert code == 0 and "ok (0 error(s)" in out


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--check", "--json")
    data = data_of(out, "matrix")
    assert code == 0 and data["ok"] is True and data["file"] == str(REAL)
    assert all({"severity", "key", "line", "message"} <= set(f) for f in data["findings"])


def test_check_findings_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = REAL.read_text(encoding="utf-8").replace('cuda: ["11.8", ">=12.0,<12.9"]', 'cuda: ["11.8", ">=14.0"]', 1)
    bad = tmp_path / "matrix.yaml"
    bad.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "--matrix", str(bad), "matrix", "--check")
    assert code == 1 and "no CUDA release matches '>=14.0'" in out and f"{bad}:" in out
    code, out, _ = run(capsys, "--matrix", str(bad), "matrix", "--check", "--json")
    data = data_of(out, "matrix")
    assert code == 1 and data["ok"] is False
    assert any(f["severity"] == "error" and f["key"].endswith(".cuda[1]") and f["line"] for f in data["findings"])
    # any other verb refuses the broken matrix as a bad input file
    code, _, err = run(capsys, "--matrix", str(bad), "matrix")
    assert code == 2 and "no CUDA release matches" in err


def test_schema_error_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "matrix.yaml"
    bad.write_text(REAL.read_text(encoding="utf-8").replace("  - version: \"12.9\"\n", "  - verison: \"12.9\"\n"),
                   encoding="utf-8")
    code, _, err = run(capsys, "--matrix", str(bad), "matrix", "--check")
    assert code == 2 and re.search(r"cuda\[\d+\]\.verison: unknown key", err) and "did you mean 'version'" in err


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--json")
    data = data_of(out, "matrix")
    assert code == 0
    c = next(x for x in data["cuda"] if x["version"] == "12.8")
    assert c["min_driver"]["linux"] == "570.26" and c["minor_compat_min_driver"]["linux"] == "525.60.13"
    assert c["min_compute_capability"] == "5.0" and c["source"]
    t = next(x for x in data["tensorrt"] if x["version"] == "10.0")
    assert {"version", "cuda", "min_compute_capability", "max_compute_capability", "python", "cudnn", "source"} <= set(t)
    assert data["cudnn"] and data["gpus"][0]["compute_capability"] and data["ngc"]


def test_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix")
    assert code == 0 and "TensorRT" in out and "570.26" in out and "24.05-py3" in out


def test_ngc(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--ngc", "24.05", "--json")
    data = data_of(out, "matrix")
    assert code == 0 and data["tensorrt"] == "10.0.1.6" and data["tensorrt_line"] == "10.0"
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--ngc", "24.05-py3")
    assert code == 0 and "TensorRT 10.0.1.6, CUDA 12.4.1" in out


def test_ngc_unknown_tag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--matrix", str(REAL), "matrix", "--ngc", "24.5")
    assert code == 2 and "unknown NGC TensorRT tag '24.5'" in err and "did you mean '24.05-py3'" in err


@pytest.mark.slow
def test_wheel_ships_identical_matrix(tmp_path: Path) -> None:
    uv = [sys.executable, "-m", "uv"]
    if subprocess.run([*uv, "--version"], capture_output=True).returncode != 0:
        pytest.skip("uv not installed in the test venv")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "dist",
                                                             "build", ".mypy_cache", ".ruff_cache", ".pytest_cache"))
    proc = subprocess.run([*uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and ("hatchling" in proc.stderr and "connect" in proc.stderr.lower()):
        pytest.skip("cannot fetch the build backend (offline)")
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("envkit-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("envkit/matrix.yaml") == REAL.read_bytes()
