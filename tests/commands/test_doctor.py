"""`envkit doctor` end to end through envkit.cli.main, and once through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from envelope import data_of, parsed

from envkit.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi"
RUN = DATA / "gpu-run-2026-11-22"
CORPUS = DATA / "corpus"
H200 = DATA / "h200-driver-580.159.04"
FACTS = ("driver_version", "cuda_version", "gpus", "gpu_count", "os", "glibc", "arch", "memory", "disk", "tools",
         "conda_override_cuda", "status")
CONTRACT = ("driver_version", "cuda_version", "gpus", "os", "glibc", "arch", "memory", "disk", "tools", "status")
GPU_CONTRACT = ("index", "name", "compute_capability", "memory_total_mib", "uuid", "mig_mode")


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\nPATH=/usr/bin:/bin; export PATH\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ENVKIT_NVIDIA_SMI", raising=False)
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    return tmp_path


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["doctor", *args, "--json"])
    out = capsys.readouterr().out
    return code, parsed(out, "doctor")


def replay_smi(tmp_path: Path) -> Path:
    return script(tmp_path / "nvidia-smi",
                  f'case "$*" in *query-gpu*) cat "{RUN / "query-gpu.csv"}" ;; *) cat "{RUN / "q.xml"}" ;; esac')


def test_host_capture_json_contract(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--host", str(H200 / "q.xml"))
    assert code == 0
    for key in CONTRACT:
        assert key in data
    assert data["schema"] == "envkit.host/1"
    assert data["status"] == "capture" and data["format"] == "xml"
    assert (data["driver_version"], data["cuda_version"]) == ("580.159.04", "13.0")
    assert [k for k in GPU_CONTRACT if k in data["gpus"][0]] == list(GPU_CONTRACT)
    assert data["gpus"][0]["name"] == "NVIDIA H200" and data["gpus"][0]["memory_total_mib"] == 143771


def test_probe_json_round_trip(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVKIT_NVIDIA_SMI", str(replay_smi(env)))
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.8")
    code, first = doctor(capsys)
    assert code == 0 and first["status"] == "ok"
    assert first["gpus"][0]["compute_capability"] == "9.0" and first["effective_cuda"] == "12.8"
    saved = env / "doctor.json"
    saved.write_text(json.dumps(first))
    monkeypatch.delenv("ENVKIT_NVIDIA_SMI")
    code, again = doctor(capsys, "--host", str(saved))
    assert code == 0
    assert {k: again[k] for k in FACTS} == {k: first[k] for k in FACTS}
    assert again["format"] == "envkit-json" and again["source"] == str(saved)


def test_no_driver_exit_3(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smi = script(env / "nvidia-smi", f'cat "{DATA / "errors" / "no-driver.txt"}"; exit 9')
    code, data = doctor(capsys, "--nvidia-smi", str(smi))
    assert code == 3
    assert data["status"] == "no-driver" and data["gpus"] == []
    assert any("couldn't communicate" in m for m in data["messages"])
    # what it usually means (the kernel module is not loaded) and the checks to run, status kept
    text = " ".join(data["messages"])
    assert "kernel module is not loaded" in text and "DKMS" in text and "Secure Boot" in text
    for check in ("lsmod | grep nvidia", "dkms status", "mokutil --sb-state"):
        assert check in text


def test_no_driver_capture_explains_the_kernel_module(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--host", str(DATA / "errors" / "no-driver.txt"))
    assert code == 3 and data["status"] == "no-driver"
    assert any("lsmod | grep nvidia" in m for m in data["messages"])
    main(["doctor", "--host", str(DATA / "errors" / "no-driver.txt")])
    out = capsys.readouterr().out
    assert "not installed, or its kernel module not loaded" in out and "mokutil --sb-state" in out


def test_missing_exit_3(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--nvidia-smi", str(env / "nope" / "nvidia-smi"))
    assert code == 3 and data["status"] == "nvidia-smi-missing"


def test_timeout_exit_3(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smi = script(env / "nvidia-smi", "sleep 30")
    code, data = doctor(capsys, "--nvidia-smi", str(smi), "--timeout", "1")
    assert code == 3 and data["status"] == "nvidia-smi-timeout"


def test_capture_of_an_error_exit_3(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--host", str(DATA / "errors" / "driver-mismatch.txt"))
    assert code == 3 and data["status"] == "driver-mismatch"
    # the NVML library version line of nvidia-smi's output is kept (the user-space side of the mismatch)
    assert any(m.startswith("NVML library version: 580.173") for m in data["messages"]), data["messages"]
    assert any("/proc/driver/nvidia/version" in m for m in data["messages"])


def test_live_mismatch_keeps_the_nvml_library_version(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smi = script(env / "nvidia-smi", f'cat "{DATA / "errors" / "driver-mismatch.txt"}"; exit 18')
    code, data = doctor(capsys, "--nvidia-smi", str(smi))
    assert code == 3 and data["status"] == "driver-mismatch"
    assert any(m.startswith("NVML library version: 580.173") for m in data["messages"])


def test_error_logs_are_not_captures(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Real error texts (shared/corpus/errors): never read as a headerless CSV; said to be no capture, with
    `envkit explain`. nvidia-smi's own failure texts in that corpus are read as the state they report."""
    from shared_data import require_shared

    errors = require_shared() / "corpus" / "errors"
    for name in ("4-libnvinfer-so8-error-loading-shared-libraries__NVIDIA-TensorRT-2596.txt",
                 "2-sm86-not-compatible-rtx3090__pytorch-pytorch-51850.txt",
                 "6-no-importer-registered-for-op-mish-opset9__onnx-onnx-tensorrt-465.txt",
                 "7-libmamba-unsatisfiable-pytorch-cuda-121-vs-torchaudio-cu117__mhpi-hydroDL-24.txt"):
        code, data = doctor(capsys, "--host", str(errors / name))
        assert code == 2 and "not an nvidia-smi capture" in data["text"], (name, data)
        assert "envkit explain" in (data["hint"] or "") and "without a header" not in data["text"]
    code, data = doctor(capsys, "--host", str(
        errors / "1-nvml-driver-library-mismatch-ci-log__mozilla-translations-1167.txt"))
    assert code == 3 and data["status"] == "driver-mismatch"
    assert any(m.startswith("NVML library version: 550.144") for m in data["messages"])


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        (RUN / "query-noheader.csv", "without a header"),
        (DATA / "SOURCES.md", "not a recognised nvidia-smi capture"),
    ],
)
def test_bad_capture_exit_2(env: Path, capsys: pytest.CaptureFixture[str], path: Path, expect: str) -> None:
    code, data = doctor(capsys, "--host", str(path))
    assert code == 2
    assert data["code"] == "InputError" and expect in data["text"] and str(path) in data["text"]


def test_bad_timeout(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--timeout", "0")
    assert code == 2 and "--timeout" in data["text"]


def test_text_output(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--host", str(CORPUS / "thamada-2x-h100-nvl-550.54.14-q.txt")])
    out = capsys.readouterr().out
    assert code == 0
    assert "2x NVIDIA H100 NVL" in out and "driver 550.54.14, CUDA 12.4" in out
    assert "GPU-" in out  # UUIDs in the GPU table
    assert out.count("NVIDIA H100 NVL") >= 3  # summary + one table row per GPU


def test_installed_console_script(env: Path) -> None:
    exe = shutil.which("envkit", path=str(Path(sys.executable).parent)) or shutil.which("envkit")
    if exe is None:
        pytest.skip("the envkit console script is not installed")
    r = subprocess.run([exe, "doctor", "--host", str(RUN / "table.txt"), "--json"], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "ENVKIT_CACHE_DIR": str(env / "cache")})
    assert r.returncode == 0, r.stderr
    data = data_of(r.stdout, "doctor")
    assert data["driver_version"] == "580.159.04" and data["gpus"][0]["name"] == "NVIDIA H200"
    r = subprocess.run([exe, "doctor", "--host", str(env / "missing.txt")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr
