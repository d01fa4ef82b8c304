"""smoke and `doctor NAME` show the loaded-library table of envkit libs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from envelope import data_of
from so_factory import build_so

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"


@pytest.fixture
def named_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A venv named `gpu` in the envs directory (conda-meta/ makes it an environment), with a libcublas in lib/
    and a decoy of it on LD_LIBRARY_PATH."""
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "gpu"
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
    (prefix / "conda-meta").mkdir()
    build_so(prefix / "lib/libcublas.so.12", "libcublas.so.12")
    decoy = build_so(tmp_path / "decoy/libcublas.so.12", "libcublas.so.12")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(decoy.parent))
    return prefix


@pytest.mark.slow
def test_doctor_name_shows_the_library_table(named_env: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(ROOT), "doctor", "gpu", "--host", str(H200), "--json"]) == 0
    data = data_of(capsys.readouterr().out, "doctor", exit_code=0)
    libs = data["libraries"]
    assert libs["prefix"] == str(named_env)
    row = next(r for r in libs["loaded"] if r["soname"] == "libcublas.so.12")
    assert row["loaded"] == str(tmp_path / "decoy/libcublas.so.12") and row["via"] == "LD_LIBRARY_PATH"
    assert any(f["code"] == "shadowed" and f["message"].startswith("libcublas.so.12") for f in libs["findings"])
    assert main(["--project", str(ROOT), "doctor", "gpu", "--host", str(H200)]) == 0
    out = capsys.readouterr().out
    assert f"libcublas.so.12                    {tmp_path}/decoy/libcublas.so.12 [LD_LIBRARY_PATH]" in out
    assert "error: libcublas.so.12 is loaded from" in out


@pytest.mark.slow
def test_smoke_shows_the_library_table(named_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--project", str(ROOT), "smoke", "gpu", "--json"])
    doc = json.loads(capsys.readouterr().out)
    rows = doc["data"]["libraries"]
    row = next(r for r in rows if r["soname"] == "libcublas.so.12")  # the system's GPU libraries may be listed too
    assert row["loaded"] == str(tmp_path / "decoy/libcublas.so.12")
    assert any(m["text"].startswith("envkit libs found ") for m in doc["messages"])
