"""The real payload, run with this venv's Python on this machine (no GPU, no libcuda, no TensorRT)."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from smoke_helpers import layer, write_stack

from envkit.smoke import load_saved_report, smoke_prefix
from envkit.smoke.payload.payload import ldconfig_paths


def _has_libcuda() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(_has_libcuda(), reason="these tests assert the no-driver outcomes")


def test_no_gpu_machine_outcomes(prefix: Path, env_python: Path) -> None:
    report = smoke_prefix(prefix, python=env_python, pins={})
    data = report.to_json()
    assert data["schema"] == "envkit.smoke/1"
    names = [lay["name"] for lay in data["layers"]]
    assert names == ["python", "driver", "cuda", "cudnn", "tensorrt", "onnxruntime"]

    driver = layer(data["layers"], "driver")
    assert driver["status"] == "fail"
    assert "no NVIDIA driver" in driver["diagnosis"] and "libcuda.so.1" in driver["diagnosis"]
    assert driver["fix"]

    cuda = layer(data["layers"], "cuda")
    assert cuda["status"] == "fail"
    assert "not found" in cuda["reason"] or "no driver" in cuda["diagnosis"]

    trt = layer(data["layers"], "tensorrt")
    assert trt["status"] == "fail" and trt["importable"] is False
    assert "tensorrt not importable" in trt["reason"]
    assert "envkit create" in trt["fix"]

    ort = layer(data["layers"], "onnxruntime")
    assert ort["status"] == "pass", ort
    ref = ort["numpy_reference"]
    assert ref["ok"] and ref["max_abs_err"] < 1e-4 and ref["atol"] == 1e-4
    assert ort["outputs"]["logits"]["shape"] == [2, 10]
    assert ort["latency_ms_median"] > 0

    # nothing pinned: only onnxruntime (importable) is needed, and it passed
    assert report.passed and report.exit_code == 0
    assert [lay["name"] for lay in data["layers"] if lay["needed"]] == ["onnxruntime"]
    saved = load_saved_report(prefix)
    assert saved is not None and saved["passed"] is True
    assert saved["layers"][5]["numpy_reference"]["ok"] is True


def test_numerics_are_deterministic(prefix: Path, env_python: Path) -> None:
    a = smoke_prefix(prefix, python=env_python, pins={}, save=False)
    b = smoke_prefix(prefix, python=env_python, pins={}, save=False)
    ca = layer(a.layers, "onnxruntime")["outputs"]["logits"]
    cb = layer(b.layers, "onnxruntime")["outputs"]["logits"]
    assert ca["sha256_rounded"] == cb["sha256_rounded"]


def test_pinned_gpu_stack_fails_without_gpu(prefix: Path, env_python: Path) -> None:
    write_stack(prefix, tensorrt="10.13.0.35", cuda="12.4", cudnn="9.1.0", python=None)
    report = smoke_prefix(prefix, python=env_python)  # pins read from conda-meta/envkit.json
    assert report.pins["tensorrt"] == "10.13.0.35"
    assert not report.passed and report.exit_code == 6
    assert {"driver", "cuda", "cudnn", "tensorrt"} <= set(report.failed)
    cuda = layer(report.layers, "cuda")
    if not any(os.path.basename(p) == "libcudart.so.12" for p in ldconfig_paths("libcudart")):
        assert cuda["reason"] == "libcudart.so.12 not found"
        assert "the environment lacks cuda-cudart 12.4" in cuda["diagnosis"]
        assert "envkit create" in cuda["fix"]
    cudnn = layer(report.layers, "cudnn")
    if ctypes.util.find_library("cudnn") is None:
        assert cudnn["status"] == "fail" and "libcudnn.so.9" in cudnn["reason"]


def test_wrong_python_pin_is_diagnosed(prefix: Path, env_python: Path) -> None:
    report = smoke_prefix(prefix, python=env_python, pins={"python": "3.9"})
    py = layer(report.layers, "python")
    assert py["status"] == "fail" and py["needed"]
    assert py["reason"] == f"python {'.'.join(map(str, sys.version_info[:3]))} but pinned 3.9"
    assert report.failed == ["python"]


def test_missing_interpreter_is_a_failed_layer(tmp_path: Path) -> None:
    report = smoke_prefix(tmp_path, pins={})
    assert [lay["name"] for lay in report.layers] == ["payload"]
    assert "no Python interpreter" in report.layers[0]["reason"]
    assert "envkit create" in report.layers[0]["fix"]
    assert report.exit_code == 6


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def test_payload_crash_without_json(prefix: Path, tmp_path: Path) -> None:
    fake = _script(tmp_path / "python", "echo 'Segmentation fault' >&2; echo not json; exit 139")
    report = smoke_prefix(prefix, python=fake, pins={})
    lay = report.layers[0]
    assert lay["name"] == "payload" and lay["status"] == "fail"
    assert "exited with 139 and no JSON report" in lay["reason"]
    assert "Segmentation fault" in lay["stderr_tail"]
    assert not report.passed


def test_payload_timeout(prefix: Path, tmp_path: Path) -> None:
    fake = _script(tmp_path / "python", "exec sleep 30")
    report = smoke_prefix(prefix, python=fake, pins={}, timeout=1)
    assert report.layers[0]["reason"] == "timed out after 1s"
    assert "--timeout" in report.layers[0]["fix"]
    assert report.exit_code == 6


def test_unrunnable_interpreter(prefix: Path, tmp_path: Path) -> None:
    report = smoke_prefix(prefix, python=tmp_path / "nope" / "python", pins={})
    assert report.layers[0]["reason"].startswith("cannot run ")


@pytest.mark.slow
def test_bare_venv_without_numpy(tmp_path: Path) -> None:
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (venv / "conda-meta").mkdir()
    report = smoke_prefix(venv, pins={"tensorrt": "10.13.0.35"})  # finds venv/bin/python by itself
    names = [lay["name"] for lay in report.layers]
    assert "payload" not in names, report.to_json()
    py = layer(report.layers, "python")
    assert py["status"] == "pass" and py["versions"]["numpy"] is None
    assert any("numpy not importable" in w for w in py["warnings"])
    ort = layer(report.layers, "onnxruntime")
    assert ort["status"] == "skip" and ort["importable"] is False and not ort["needed"]
    trt = layer(report.layers, "tensorrt")
    assert trt["status"] == "fail" and "No module named 'tensorrt'" in trt["diagnosis"] and trt["needed"]
    assert report.exit_code == 6
    assert json.loads((venv / "conda-meta" / "envkit-smoke.json").read_text())["failed"] == ["driver", "cuda", "tensorrt"]


@pytest.mark.parametrize("layout", ["nvidia/cu13/lib", "nvidia/cuda_runtime/lib"])
def test_environment_libcudart_is_preferred_and_named(tmp_path: Path, env_python: Path, layout: str) -> None:
    """pip's CUDA runtime inside the environment (CUDA 13 wheel: nvidia/cu13/lib; CUDA 12: nvidia/cuda_runtime/lib)
    is loaded before the system's, and the report says which one was loaded."""
    system = [p for p in ldconfig_paths("libcudart") if os.path.basename(p) == "libcudart.so.13"]
    if not system:
        pytest.skip("no system libcudart.so.13 to copy on this machine")
    lib = tmp_path / "lib" / "python3.11" / "site-packages" / layout
    lib.mkdir(parents=True)
    (lib / "libcudart.so.13").write_bytes(Path(system[0]).read_bytes())
    report = smoke_prefix(tmp_path, python=env_python, pins={}, save=False)
    cuda = layer(report.to_json()["layers"], "cuda")
    assert cuda["origin"] == "environment", cuda
    assert cuda["library"] == str(lib / "libcudart.so.13")
    assert str(lib) in cuda["diagnosis"]  # no driver here: the loaded runtime is named in the diagnosis


def test_environment_without_python_says_so_and_how_to_add_one(trt_channel: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: `smoke --prefix` on a fresh environment without Python said "missing or incomplete, fix:
    create it" right after create succeeded."""
    from channel_factory import env_yaml, file_url
    from envkit_cli import envkit

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["tensorrt"], name="nopy")
    prefix = tmp_path / "nopy"
    assert envkit("create", "--file", str(env), "--prefix", str(prefix), "--no-smoke").returncode == 0
    r = envkit("smoke", "--prefix", str(prefix))
    assert r.returncode == 6
    assert f"the environment {prefix} has no Python" in r.stdout
    assert f"add `- python` to the dependencies of {env}" in r.stdout
    assert "missing or incomplete" not in r.stdout
