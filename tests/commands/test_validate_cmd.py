"""`envkit validate` through the CLI: table, JSON contract, exit codes, bad input, --host, import speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from envelope import data_of, error_of

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "envfiles"
HOSTS = DATA / "hosts"
REAL = ROOT / "matrix.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--matrix", str(REAL), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_classic_clean_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(DATA / "classic-trt86.yml"))
    # verdict first: the counts and the stack on the first line, then the findings by line
    first = out.splitlines()[0]
    assert code == 0 and first.endswith("0 errors, 2 warnings, 0 info; stack: CUDA 11.8 (line 8), cuDNN 8.9 "
                                         "(line 9), TensorRT 8.6 (line 10, conda), Python 3.9 (line 7)"), first
    assert "route-expected-to-fail" in out and "eol-python" in out  # Python 3.9 reached end of life in 2025


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--json", str(DATA / "trt10-cu12-with-cudatoolkit118.yml"))
    data = data_of(out, "validate")
    assert code == 1
    assert data["file"] == str(DATA / "trt10-cu12-with-cudatoolkit118.yml") and data["host"] is None
    assert set(data["stack"]) == {"cuda", "cudnn", "tensorrt", "python"}
    assert data["stack"]["cuda"]["version"] == "11.8" and data["stack"]["tensorrt"]["route"] == "pip"
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert errors == [
        {
            "severity": "error",
            "line": 12,
            "code": "trt-cuda-mismatch",
            "message": errors[0]["message"],
            "hint": errors[0]["hint"],
        }
    ]
    assert [f["code"] for f in data["findings"] if f["severity"] != "error"] == ["eol-python"]  # Python 3.10
    assert data["summary"] == {"error": 1, "warning": 1, "info": 0}


def test_warnings_only_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "corpus" / "nv-morpheus__Morpheus__conda_environments_all_cuda-128_arch-x86_64.yaml"
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "cuda-minor-mismatch" in out and "warning" in out and "155" in out


def test_table_shows_codes_lines_and_hints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(DATA / "unpinned.yml"))
    assert code == 0
    for text in ("unpinned-critical", "pip-stub-needs-nvidia-index", "hint:", "0 errors, 4 warnings, 0 info"):
        assert text in out


def test_host_driver_too_old(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--json", str(DATA / "cuda128-trt108.yml"), "--host",
                       str(HOSTS / "netdata-geforce-rtx-3060-laptop-515.65.01.xml"))
    data = data_of(out, "validate")
    assert code == 1 and [f["code"] for f in data["findings"]] == ["driver-too-old"]
    assert data["host"]["driver_version"] == "515.65.01"


def test_host_gpu_too_old_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(DATA / "trt105-cuda126.yml"), "--host",
                       str(HOSTS / "netdata-tesla-p100-pcie-16gb-510.47.03.xml"))
    assert code == 1 and "gpu-too-old" in out and "driver-too-old" in out and "host" in out


def test_host_name_lookup_fills_compute_capability(capsys: pytest.CaptureFixture[str]) -> None:
    # the table format has no compute capability: the matrix's GPU table gives the L4's 8.9
    code, out, _ = run(capsys, "validate", "--json", str(DATA / "classic-trt86.yml"), "--host",
                       str(HOSTS / "thamada-l4-550.90.07.txt"))
    data = data_of(out, "validate")
    assert code == 0 and [f["code"] for f in data["findings"]] == ["eol-python", "route-expected-to-fail"]
    assert data["host"]["gpus"][0]["compute_capability"] == "8.9"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("invalid-yaml.yml", "invalid-yaml.yml:5: not valid YAML"),
        ("deps-not-list.yml", "deps-not-list.yml:2: dependencies: expected a list, got the string 'python=3.9'"),
        ("dep-number.yml", "dep-number.yml:4: dependencies[1]: expected a package spec string, got the number 3.9"),
        ("empty.yml", "empty.yml: the file is empty"),
    ],
)
def test_bad_files_exit_2(capsys: pytest.CaptureFixture[str], name: str, message: str) -> None:
    code, out, err = run(capsys, "validate", str(DATA / "bad" / name))
    assert code == 2 and message in err and out == ""
    code, out, _ = run(capsys, "validate", "--json", str(DATA / "bad" / name))
    err = error_of(out, "validate", exit_code=2)
    assert code == 2 and message in err["text"]


def test_unknown_top_level_key_is_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    # conda warns about an unknown section and goes on: so does validate, with the likely intended key
    code, out, _ = run(capsys, "validate", "--json", str(DATA / "bad" / "unknown-key.yml"))
    data = data_of(out, "validate")
    found = [f for f in data["findings"] if f["code"] == "unknown-key"]
    assert code == 0 and [(f["severity"], f["line"]) for f in found] == [("warning", 2)]
    assert "channels" in (found[0]["hint"] or "")


def test_missing_file_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.yml"))
    assert code == 2 and "file not found" in err


def test_specs_create_refuses_are_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """What create refuses, validate refuses the same way (exit 2, file:line: key), not as an info finding."""
    p = tmp_path / "env.yml"
    p.write_text("channels: [conda-forge]\ndependencies:\n  - 'foo bar baz'\n  - pip:\n    - 'a ==== b'\n")
    code, out, _ = run(capsys, "validate", "--json", str(p))
    assert code == 2 and error_of(out, "validate", exit_code=2)["text"].endswith(
        "env.yml:3: dependencies[0]: cannot read the version part 'bar baz' of 'foo bar baz'")


def test_validate_does_not_import_rattler_or_onnx() -> None:
    code = (
        "import sys; from envkit.cli import main; "
        f"rc = main(['--matrix', {str(REAL)!r}, 'validate', '--json', {str(DATA / 'classic-trt86.yml')!r}]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rattler', 'onnx', 'onnxruntime', 'tensorrt')]; "
        "print('BAD', bad, file=sys.stderr); sys.exit(rc or (1 if bad else 0))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "BAD []" in proc.stderr
