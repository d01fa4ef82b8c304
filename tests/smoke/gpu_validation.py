"""GPU validation steps recorded in docs/gpu-validation.md (run on a GPU machine from the repo root).

    PYTHONPATH=. python3 tests/smoke/gpu_validation.py OUTDIR

Not a pytest module: it prints what each step showed and writes the JSON reports to OUTDIR.
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

from envkit.smoke import smoke_prefix


def summary(title: str, report_json: dict) -> None:  # type: ignore[type-arg]
    print(f"== {title}: passed={report_json['passed']} failed={report_json['failed']}")
    for lay in report_json["layers"]:
        print(f"   {lay['name']:<12} {lay['status']:<5} needed={lay['needed']!s:<5} {lay['reason']}")
        if lay["status"] == "fail":
            print(f"   {'':<12} diagnosis: {lay['diagnosis']}")
            print(f"   {'':<12} fix: {lay['fix']}")


def cuda_plumbing() -> None:
    """The device-memory/stream calls the TensorRT layer uses for its I/O, with numpy buffers."""
    import numpy as np

    from envkit.smoke.payload import payload_cuda

    lib = None
    for name in ("libcudart.so.13", "libcudart.so.12", "libcudart.so"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    assert lib is not None
    rt = payload_cuda.CudaRuntime(lib)
    a = np.arange(1 << 20, dtype=np.float32)
    b = np.empty_like(a)
    ptr = rt.malloc(a.nbytes)
    stream = rt.stream()
    rt.h2d(ptr, a.ctypes.data, a.nbytes)
    rt.sync(stream)
    rt.d2h(b.ctypes.data, ptr, b.nbytes)
    rt.destroy_stream(stream)
    rt.free(ptr)
    print(f"== TensorRT I/O plumbing (cudaMalloc/Memcpy/StreamCreate/Synchronize, numpy buffers): "
          f"{a.nbytes} bytes equal={bool((a == b).all())}")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    py = Path(sys.executable)
    runs = {
        "pinned-cuda13-cudnn9": {"cuda": "13.0", "cudnn": "9.14", "tensorrt": None, "python": None},
        "wrong-pins-cuda12-cudnn8-trt10": {"cuda": "12.4", "cudnn": "8.9", "tensorrt": "10.13.0.35"},
    }
    for title, pins in runs.items():
        r = smoke_prefix(Path("/usr"), python=py, pins=pins, cache_dir=out / "engines", save=False)
        data = r.to_json()
        (out / f"{title}.json").write_text(json.dumps(data, indent=2))
        summary(f"{title} pins={pins}", data)
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["r"], name="relu"),
         helper.make_node("Frobnicate", ["r"], ["out"], name="frob_1", domain="com.example")], "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3, "H", "W"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    m.ir_version = 8
    onnx.save(m, str(out / "custom.onnx"))
    r = smoke_prefix(Path("/usr"), python=py, pins={}, model=out / "custom.onnx", shapes={"images": (1, 3, 8, 8)},
                     save=False)
    summary("user model with a custom operator", r.to_json())
    cuda_plumbing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
