"""Diagnosis logic that needs TensorRT or a GPU to reach for real, exercised on real files and versions."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from envkit.smoke.payload.payload import compare_pin, cuda_int_version, loaded_libraries, vtuple
from envkit.smoke.payload.payload_cuda import cudnn_version_string
from envkit.smoke.payload.payload_trt import libnvinfer_mismatch, pin_mismatch
from envkit.smoke.payload.payload_trt_cache import engine_key, load_cached_engine, store_engine
from envkit.smoke.report import SmokeReport, layer_needed, load_saved_report, save_report
from envkit.smoke.runner import activation_env, parse_payload_output, read_pins

# ---------------------------------------------------------------- versions and pins


@pytest.mark.parametrize(
    ("found", "pin", "expected"),
    [
        ("10.13.0.35", "10.13.0.35", None),
        ("10.13.0.35", "10.13", None),
        ("10.3.0", "10.13.0.35", "tensorrt 10.3.0 imported but pinned 10.13.0.35"),
        ("8.6.1.post1", "10.0.1", "tensorrt 8.6.1.post1 imported but pinned 10.0.1"),
        ("10.13.0.35", None, None),
    ],
)
def test_tensorrt_pin_mismatch(found: str, pin: str | None, expected: str | None) -> None:
    assert pin_mismatch(found, pin) == expected


def test_compare_pin_major_minor() -> None:
    assert compare_pin("12.4", "12.4") == "ok"
    assert compare_pin("12.6", "12.4") == "minor"
    assert compare_pin("13.0", "12.4") == "major"
    assert compare_pin("9.14.0", "9") == "ok"
    assert compare_pin(None, "12.4") == "ok"
    assert vtuple("10.13.0.35") == (10, 13, 0, 35)


def test_cuda_and_cudnn_integer_versions() -> None:
    assert cuda_int_version(12040) == "12.4"
    assert cuda_int_version(13000) == "13.0"
    assert cudnn_version_string(8907) == "8.9.7"
    assert cudnn_version_string(91400) == "9.14.0"
    assert cudnn_version_string(90100) == "9.1.0"


# ---------------------------------------------------------------- stray libnvinfer


def test_stray_libnvinfer_is_named_by_path(tmp_path: Path) -> None:
    real = tmp_path / "usr-lib" / "libnvinfer.so.8.6.1"
    real.parent.mkdir()
    real.write_bytes(b"\x7fELF")
    link = real.parent / "libnvinfer.so.8"
    link.symlink_to(real.name)
    msg = libnvinfer_mismatch([str(link)], "10.13.0.35")
    assert msg is not None
    assert f"libnvinfer from {link} is 8.6.1 while the tensorrt bindings are 10.13.0.35" in msg
    assert libnvinfer_mismatch([str(link)], "8.6.1.6") is None


def test_matching_libnvinfer_passes(tmp_path: Path) -> None:
    real = tmp_path / "libnvinfer.so.10.13.0"
    real.write_bytes(b"\x7fELF")
    assert libnvinfer_mismatch([str(real)], "10.13.0.35") is None
    assert libnvinfer_mismatch([], "10.13.0.35") is None


def test_loaded_libraries_reads_proc_maps() -> None:
    import ctypes

    ctypes.CDLL("libm.so.6")
    assert any("libm" in os.path.basename(p) for p in loaded_libraries("libm"))


# ---------------------------------------------------------------- engine cache


def _expect() -> dict[str, str]:
    return {"trt_version": "10.13.0.35", "compute_capability": "9.0", "model_sha256": "ab" * 32, "precision": "fp16"}


def test_engine_key_format() -> None:
    key = engine_key("envkit-smoke", "de64c77f5fc657178c930d9e", "9.0", "10.13.0.35", [[1, 3, 224, 224]], "fp16",
                     device="NVIDIA H200", driver="580.95.05")
    assert key == "envkit-smoke-de64c77f5fc6-NVIDIA_H200-sm90-drv580-trt10.13.0.35-1x3x224x224-fp16.engine"
    two = engine_key("my model/v2", "f" * 64, "8.6", "8.6.1", [[1, 3, 640, 640], [1, 4]], "fp32")
    assert two == "my_model_v2-ffffffffffff-gpu-sm86-drvunknown-trt8.6.1-1x3x640x640_1x4-fp32.engine"


def test_engine_cache_hit_then_corruption_forces_rebuild(tmp_path: Path) -> None:
    path = str(tmp_path / "cache" / "m.engine")
    assert load_cached_engine(path, _expect()) == (None, "miss")
    blob = os.urandom(4096)
    store_engine(path, blob, _expect())
    assert load_cached_engine(path, _expect()) == (blob, "hit")
    sidecar = json.loads(Path(path + ".json").read_text())
    assert sidecar["bytes"] == 4096 and sidecar["trt_version"] == "10.13.0.35"

    damaged = bytearray(blob)
    damaged[100] ^= 0xFF
    Path(path).write_bytes(bytes(damaged))
    assert load_cached_engine(path, _expect()) == (None, "rebuilt (corrupted: sha256 mismatch)")

    Path(path).write_bytes(b"")
    assert load_cached_engine(path, _expect())[1] in ("rebuilt (empty engine file)",
                                                      "rebuilt (corrupted: sha256 mismatch)")


def test_engine_from_other_tensorrt_or_gpu_is_never_loaded(tmp_path: Path) -> None:
    path = str(tmp_path / "m.engine")
    store_engine(path, b"engine-bytes", _expect())
    other_trt = {**_expect(), "trt_version": "10.3.0"}
    assert load_cached_engine(path, other_trt) == (None, "rebuilt (trt_version 10.13.0.35 != 10.3.0)")
    other_gpu = {**_expect(), "compute_capability": "8.9"}
    assert load_cached_engine(path, other_gpu) == (None, "rebuilt (compute_capability 9.0 != 8.9)")


def test_engine_without_sidecar_or_with_garbage_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "m.engine"
    path.write_bytes(b"x" * 10)
    assert load_cached_engine(str(path), _expect()) == (None, "rebuilt (unreadable cache entry: FileNotFoundError)")
    Path(str(path) + ".json").write_text("{not json")
    assert load_cached_engine(str(path), _expect()) == (None, "rebuilt (unreadable cache entry: JSONDecodeError)")


# ---------------------------------------------------------------- runner pieces


def test_parse_payload_output_ignores_noise() -> None:
    good = {"layers": [{"name": "python", "status": "pass"}]}
    assert parse_payload_output(json.dumps(good)) == good
    assert parse_payload_output("[W] TensorRT says hi\n" + json.dumps(good) + "\n") == good
    assert parse_payload_output("Segmentation fault") is None
    assert parse_payload_output('{"no": "layers"}') is None


def test_activation_env(tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": "/opt/stray/lib", "HOME": "/root"}
    env = activation_env(tmp_path, base)
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "bin")
    assert env["CONDA_PREFIX"] == str(tmp_path)
    assert env["LD_LIBRARY_PATH"] == "/opt/stray/lib"  # unchanged: stray libraries must be seen
    os.environ["PYTHONPATH"] = "/somewhere"
    try:
        assert "PYTHONPATH" not in activation_env(tmp_path)
    finally:
        del os.environ["PYTHONPATH"]


def test_read_pins(tmp_path: Path) -> None:
    assert read_pins(tmp_path) == {}
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "envkit.json").write_text(
        json.dumps({"stack": {"tensorrt": "10.13.0.35", "cuda": "12.9", "cudnn": None, "python": "3.11"}}))
    assert read_pins(tmp_path) == {"tensorrt": "10.13.0.35", "cuda": "12.9", "cudnn": None, "python": "3.11"}
    (tmp_path / "conda-meta" / "envkit.json").write_text("garbage")
    assert read_pins(tmp_path) == {}


def test_needed_rules() -> None:
    assert layer_needed("driver", {}, {"tensorrt": "10.13"})
    assert not layer_needed("driver", {}, {})
    assert layer_needed("cudnn", {}, {"cudnn": "9.1"}) and not layer_needed("cudnn", {}, {"cuda": "12.4"})
    assert layer_needed("onnxruntime", {"importable": True}, {})
    assert not layer_needed("onnxruntime", {"importable": False}, {})
    assert layer_needed("tensorrt", {"importable": True}, {}, model=True)
    assert not layer_needed("tensorrt", {"importable": False}, {}, model=True)
    assert layer_needed("payload", {}, {})


def test_report_save_load_render(tmp_path: Path) -> None:
    layers = [
        {"name": "driver", "status": "fail", "reason": "no driver", "seconds": 0.01, "needed": True,
         "diagnosis": "no NVIDIA driver", "fix": "install it", "versions": {}},
        {"name": "onnxruntime", "status": "pass", "reason": "ok", "seconds": 0.02, "needed": True,
         "versions": {"onnxruntime": "1.31.1"}, "warnings": ["slow"]},
    ]
    report = SmokeReport(prefix=str(tmp_path), python="/x/python", layers=layers)
    assert save_report(report, tmp_path) is None  # no conda-meta: nothing written
    (tmp_path / "conda-meta").mkdir()
    assert save_report(report, tmp_path) == tmp_path / "conda-meta" / "envkit-smoke.json"
    assert not list((tmp_path / "conda-meta").glob(".envkit-smoke.*"))  # the temp file was renamed
    loaded = load_saved_report(tmp_path)
    assert loaded is not None and loaded["failed"] == ["driver"] and loaded["passed"] is False
    buf = io.StringIO()
    report.render(Console(file=buf, width=160, color_system=None))
    text = buf.getvalue()
    assert "no NVIDIA driver" in text and "fix: install it" in text and "failed (driver)" in text
    (tmp_path / "conda-meta" / "envkit-smoke.json").write_text("{}")
    assert load_saved_report(tmp_path) is None


def test_activation_runs_activate_d_scripts(tmp_path: Path) -> None:
    pytest.importorskip("rattler")
    act = tmp_path / "etc" / "conda" / "activate.d"
    act.mkdir(parents=True)
    (act / "envkit-test.sh").write_text('export ENVKIT_ACT_TEST="from activate.d"\n')
    env = activation_env(tmp_path, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LD_LIBRARY_PATH": "/opt/x"})
    assert env["ENVKIT_ACT_TEST"] == "from activate.d"
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "bin")
    assert env["PATH"].split(os.pathsep).count("/usr/bin") == 1
    assert env["CONDA_PREFIX"] == str(tmp_path) and env["LD_LIBRARY_PATH"] == "/opt/x"
