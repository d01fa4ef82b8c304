"""A failed `envkit create` ends with explain's diagnosis (text and --json), from a REAL rattler solve
against the local test channel; the saved real solve logs are explained with the matrix's numbers."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from channel_factory import env_yaml, file_url
from envelope import error_of

from envkit.cli import main
from envkit.context import packaged_matrix
from envkit.explain import explain_stream
from envkit.matrix.load import load_matrix

SOLVE = Path(__file__).resolve().parents[1] / "data" / "explain" / "solve"


def test_saved_rattler_logs_are_explained() -> None:
    matrix = load_matrix(packaged_matrix())
    with (SOLVE / "rattler-cuda-too-old.log").open("rb") as fh:
        d = explain_stream(fh).diagnoses[0]
    assert d.id == "solve-cuda-constraint-too-old" and d.facts["needs_cuda"] == "12" and d.facts["have_cuda"] == "11.8"
    assert d.fixes[0] == f"upgrade the driver to >= {matrix.min_driver('12.0')} (CUDA 12.0)"
    with (SOLVE / "rattler-no-cuda.log").open("rb") as fh:
        d = explain_stream(fh).diagnoses[0]
    assert d.id == "solve-no-cuda-virtual-package" and "CONDA_OVERRIDE_CUDA" in d.fixes[0]


@pytest.mark.slow
def test_failed_create_ends_with_the_diagnosis(trt_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "11.8")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["tensorrt=10.3"], name="demo")
    argv = ["create", "--file", str(env), "--prefix", str(tmp_path / "env"), "--no-smoke", "--offline"]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert err.index("error: the conda solve found no solution") < err.index("envkit explain:")
    assert "packages need a newer CUDA than the machine's driver supports" in err
    assert main([*argv, "--json"]) == 4
    out = capsys.readouterr().out
    error_of(out, "create", exit_code=4)
    notes = [m for m in json.loads(out)["messages"] if m["level"] == "note"]
    assert any(m["code"] == "solve-cuda-constraint-too-old" and m["hint"] for m in notes), notes


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="the driver layer passes on a GPU machine")
def test_failed_smoke_ends_with_the_diagnosis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real smoke run (this test venv plays the environment; no GPU here) that fails its driver layer."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "envkit.json").write_text(json.dumps({"complete": True, "stack": {"cuda": "12.4"}}))
    assert main(["smoke", "--prefix", str(prefix), "--python", sys.executable]) == 6
    out = capsys.readouterr().out
    tail = out[out.index("envkit explain:"):]
    assert "a library of the NVIDIA driver is not found" in tail and "   from: " in tail
    assert main(["smoke", "--prefix", str(prefix), "--python", sys.executable, "--json"]) == 6
    notes = [m for m in json.loads(capsys.readouterr().out)["messages"] if m["level"] == "note"]
    assert any(m["code"] == "driver-library-missing" for m in notes), notes
