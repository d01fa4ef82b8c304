"""`envkit explain`: exit codes, --json, `-- CMD` (streams, keeps the exit code, never a shell), and
facts of the machine (--host) and the environment (--prefix) turning generic diagnoses specific."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from envelope import data_of, error_of
from shared_data import require_shared

from envkit.cli import main
from envkit.context import packaged_matrix
from envkit.matrix.load import load_matrix
from envkit.versions import V


def corpus(name: str) -> Path:
    return next((require_shared() / "corpus" / "errors").glob(f"{name}__*.txt"))


def h200_capture() -> Path:
    return require_shared() / "fixtures" / "nvidia-smi" / "h200-driver-580.159.04" / "q.txt"


def test_exit_1_with_a_diagnosis_0_without(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["explain", str(corpus("1-nvml-driver-library-mismatch-gt640"))]) == 1
    out = capsys.readouterr().out
    assert "[certain]" in out and "reboot" in out and "line 2:" in out
    clean = tmp_path / "clean.log"
    clean.write_bytes((require_shared() / "fixtures" / "nvidia-smi" / "h200-driver-580.159.04" / "table.txt").read_bytes())
    assert main(["explain", str(clean)]) == 0
    assert "no known failure" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "fifo"])
def test_exit_2_for_unreadable_input(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "input"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(Path(sys.executable).read_bytes()[:65536])
    elif kind == "fifo":
        os.mkfifo(path)
    assert main(["explain", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_json_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(corpus("5-plan-incompatible-device-compute-61-vs-75")), "--json"]) == 1
    data = data_of(capsys.readouterr().out, "explain", exit_code=1)
    assert data["schema"] == "envkit.explain/1"
    d = data["diagnoses"][0]
    assert {"id", "class", "severity", "certainty", "title", "cause", "fix", "facts", "lines", "quotes", "count",
            "sources"} <= set(d)
    assert d["class"] == "trt-engine" and d["facts"]["plan_cc"] == "7.5" and d["lines"] == [1]


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    data = corpus("7-mamba-nothing-provides-cuda-cpu-builder").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["explain", "-"]) == 1
    assert "CONDA_OVERRIDE_CUDA=11.2" in capsys.readouterr().out


def _error_line(name: str) -> str:
    return corpus(name).read_text().strip().splitlines()[0]


def test_command_streams_keeps_exit_code_and_explains(capfd: pytest.CaptureFixture[str]) -> None:
    line = _error_line("2-libcudart-so-11-0-missing-paddle")
    code = f"import sys; print('before'); print({line!r}, file=sys.stderr); sys.exit(7)"
    assert main(["explain", "--", sys.executable, "-c", code]) == 7
    out = capfd.readouterr().out
    assert out.index("before") < out.index(line) < out.index("a CUDA runtime library is not found")


def test_command_success_prints_only_its_output(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--", sys.executable, "-c", "print('all good')"]) == 0
    assert capfd.readouterr().out == "all good\n"


def test_command_is_never_run_through_a_shell(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    assert main(["explain", "--", sys.executable, "-c", "import sys; print(sys.argv[1:])", f"x; touch {marker}"]) == 0
    assert not marker.exists()
    assert f"x; touch {marker}" in capfd.readouterr().out


def test_command_not_found(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["explain", "--", str(tmp_path / "no-such-program")]) == 2
    assert "command not found" in capsys.readouterr().err


def test_command_json_keeps_stdout_for_the_record(capfd: pytest.CaptureFixture[str]) -> None:
    line = _error_line("4-libnvinfer-so8-error-loading-shared-libraries")
    assert main(["explain", "--json", "--", sys.executable, "-c", f"print({line!r}); raise SystemExit(1)"]) == 1
    captured = capfd.readouterr()
    data = data_of(captured.out, "explain", exit_code=1)
    assert data["command"]["exit_code"] == 1
    assert data["diagnoses"][0]["id"] == "trt-library-missing"
    assert line in captured.err


def _env(tmp_path: Path, stack: dict[str, str]) -> Path:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "envkit.json").write_text(json.dumps({"schema": "envkit.env/1", "complete": True,
                                                                  "name": "demo", "stack": stack}))
    return prefix


def test_machine_and_environment_make_the_fix_specific(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = load_matrix(packaged_matrix())
    driver = "580.159.04"  # the H200 capture's driver
    newer = max((c for c in matrix.cuda if c.min_driver.get("linux") and V(c.min_driver["linux"]) > V(driver)),
                key=lambda c: V(c.version))
    runnable = max((c for c in matrix.cuda if c.min_driver.get("linux") and V(c.min_driver["linux"]) <= V(driver)),
                   key=lambda c: V(c.version))
    prefix = _env(tmp_path, {"cuda": newer.version, "tensorrt": "10.16.1.11", "python": "3.12"})
    log = corpus("2-cuda-driver-insufficient-bladebit")
    bare = tmp_path / "bare.log"  # the same error without the nvidia-smi header of the reporter's machine
    bare.write_text("\n".join(ln for ln in log.read_text().splitlines() if "NVIDIA-SMI" not in ln))
    assert main(["explain", str(bare), "--host", str(h200_capture()), "--prefix", str(prefix), "--json"]) == 1
    d = data_of(capsys.readouterr().out, "explain", exit_code=1)["diagnoses"][0]
    assert d["id"] == "cuda-driver-insufficient"
    assert f"driver {driver} runs CUDA up to {runnable.version} (matrix); CUDA {newer.version}" in d["cause"]
    assert f">= {newer.min_driver['linux']} (CUDA {newer.version}" in d["fix"][0]
    assert f"cuda-version={runnable.version}" in d["fix"][1]
    assert {"machine", "environment", "matrix"} <= set(d["used"])


def test_no_fix_pins_a_cuda_the_machine_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Never propose what envkit expects to fail: every cuda-version=X in a fix runs on the machine's driver."""
    matrix = load_matrix(packaged_matrix())
    driver = "580.159.04"
    for path in sorted((require_shared() / "corpus" / "errors").glob("*.txt")):
        main(["explain", str(path), "--host", str(h200_capture()), "--json"])
        for d in data_of(capsys.readouterr().out, "explain")["diagnoses"]:
            for fix in d["fix"]:
                for pin in re.findall(r"cuda-version=(\d+\.\d+)", fix):
                    need = matrix.min_driver(pin)
                    assert need is not None and V(need) <= V(driver), (path.name, fix)


def test_json_error_envelope_for_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "core"
    path.write_bytes(Path(sys.executable).read_bytes()[:65536])
    assert main(["explain", str(path), "--json"]) == 2
    err = error_of(capsys.readouterr().out, "explain", exit_code=2)
    assert err["code"] == "UnreadableInput" and "binary" in err["text"]


def test_json_clean_log_and_check_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "ok.log"
    log.write_text("Successfully installed packaging-24.0\n")
    assert main(["explain", str(log), "--json"]) == 0
    assert data_of(capsys.readouterr().out, "explain", exit_code=0)["diagnoses"] == []
    assert main(["explain", "--check-catalogue", "--json"]) == 0
    assert data_of(capsys.readouterr().out, "explain", exit_code=0)["entries"] >= 40
