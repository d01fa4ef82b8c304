"""`envkit matrix --gpu/--trt/--cuda/--driver`: one line each, through the CLI; overlays merged and checked."""

from __future__ import annotations

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


@pytest.mark.parametrize(("argv", "expect"), [
    (("--gpu", "RTX 5090"), "RTX 5090: compute capability 12.0; TensorRT 10.8 … 11.4; CUDA 12.8 …"),
    (("--gpu", "NVIDIA GB10"), "compute capability 12.1; TensorRT 10.14 … 11.4"),
    (("--trt", "10.13"), "TensorRT 10.13.3 (10.13.3.9): CUDA 12.0 … 13.0"),
    (("--trt", "10.13.3.9.post1"), "TensorRT 10.13.3 (10.13.3.9)"),
    (("--trt", "10.13.2.6"), "TensorRT 10.13.2 (10.13.2.6): CUDA 12.0 … 13.0"),
    (("--trt", "8.6"), "fp8 no"),
    (("--cuda", "12.4"), "CUDA 12.4: driver >= 550.54.14 (linux), 551.61 (windows); >= 525.60.13 with minor-version"),
    (("--cuda", "10.1"), "CUDA 10.1 [legacy]: driver >= 418.39 (linux), 418.96 (windows); no minor-version compat"),
    (("--driver", "535.104.05"), "driver 535.104.05 (linux): CUDA 9.0 … 12.2 fully; CUDA 12.3 … 12.9 by minor-version"),
    (("--driver", "591.86"), "driver 591.86 (windows)"),
])
def test_one_line_answers(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expect: str) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", *argv)
    assert code == 0 and expect in out and out.count("\n") == 1, out


def test_answers_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--matrix", str(REAL), "matrix", "--gpu", "H100", "--driver", "535.104.05", "--json")
    data = data_of(out, "matrix")
    assert code == 0 and [a["question"] for a in data["answers"]] == ["gpu", "driver"]
    assert data["answers"][0]["compute_capability"] == "9.0" and data["answers"][1]["newest_tensorrt_cuda"] == "12.2"


def test_unknown_or_ambiguous_gpu_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--matrix", str(REAL), "matrix", "--gpu", "NVIDIA A10...")
    assert code == 2 and "truncated name that fits several" in err


def write_project(tmp_path: Path, overlay: str, *, via_pyproject: bool = False) -> Path:
    project = tmp_path / "proj"
    (project / "environments").mkdir(parents=True)
    if via_pyproject:
        (project / "facts").mkdir()
        (project / "facts" / "site.yaml").write_text(overlay, encoding="utf-8")
        (project / "pyproject.toml").write_text('[tool.envkit]\nmatrix_overlays = ["facts/site.yaml"]\n', encoding="utf-8")
    else:
        (project / "environments" / "matrix.d").mkdir()
        (project / "environments" / "matrix.d" / "site.yaml").write_text(overlay, encoding="utf-8")
    return project


SITE = '''schema_version: 1
matrix_version: "site-1"
sources:
  SITE-POLICY: https://wiki.example.com/gpu-driver-policy
gpus:
  - {name: "ACME Accelerator X1", compute_capability: "9.0", source: SITE-POLICY}
'''
CLASH = SITE + '''  - {name: "NVIDIA RTX 5880 Ada Generation", aliases: ["RTX 5880 Ada"], compute_capability: "8.9", source: SITE-POLICY}
'''


@pytest.mark.parametrize("via_pyproject", [False, True])
def test_overlay_is_merged_with_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           via_pyproject: bool) -> None:
    project = write_project(tmp_path, SITE, via_pyproject=via_pyproject)
    code, out, _ = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--gpu", "ACME Accelerator X1")
    assert code == 0 and "compute capability 9.0" in out
    code, out, _ = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--json")
    data = data_of(out, "matrix")
    assert data["matrix_version"].endswith("+site-1") and len(data["overlays"]) == 1
    acme = next(g for g in data["gpus"] if g["name"] == "ACME Accelerator X1")
    assert acme["origin"].endswith("site.yaml") and acme["source"] == ["https://wiki.example.com/gpu-driver-policy"]
    h200 = next(g for g in data["gpus"] if g["name"] == "NVIDIA H200")
    assert h200["origin"] == str(REAL)
    code, out, _ = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--check")
    assert code == 0 and "site.yaml" in out


def test_overlay_contradiction_found_by_check_and_refused_elsewhere(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # the packaged matrix already names the RTX 5880 Ada as an alias: the overlay's own entry collides
    project = write_project(tmp_path, CLASH)
    code, out, _ = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--check")
    assert code == 1 and "site.yaml:7: gpus[" in out and "RTX 5880 Ada" in out
    code, _, err = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--gpu", "H100")
    assert code == 2 and "site.yaml" in err


def test_overlay_schema_error_names_the_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, SITE.replace("compute_capability: \"9.0\"", "compute_capabilty: \"9.0\""))
    code, _, err = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--check")
    assert code == 2 and "site.yaml:6" in err and "did you mean 'compute_capability'" in err


def test_overlay_source_clash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path, SITE.replace("SITE-POLICY: https", "CUDAGPUS: https"))
    code, _, err = run(capsys, "--project", str(project), "--matrix", str(REAL), "matrix", "--check")
    assert code == 2 and "source 'CUDAGPUS' is already defined" in err
