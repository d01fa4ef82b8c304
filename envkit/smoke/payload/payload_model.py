"""Smoke payload, part 3: the smoke ONNX model, its numpy reference and the onnxruntime layer.

Runs inside the environment's Python (see payload.py): standard library at top level, numpy/onnx/
onnxruntime imported lazily.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import statistics
import time
from typing import Any

SEED = 20240607
BUILTIN_SHAPE = (2, 3, 32, 32)  # (batch, channels, H, W) fed to the built-in model
PROFILE_BATCH = (1, 2, 8)  # min / opt / max batch of the optimization profile
TOLERANCE = {"fp32": {"atol": 1e-3, "rtol": 1e-3}, "fp16": {"atol": 2e-2, "rtol": 2e-2}}
ORT_VS_NUMPY = {"atol": 1e-4, "rtol": 1e-4}
RUNS = 20


def weights(seed: int = SEED) -> dict[str, Any]:
    """Deterministic weights of the smoke model (seeded numpy RNG)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    f = np.float32
    return {
        "conv_w": (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(f),
        "conv_b": (rng.standard_normal(8) * 0.1).astype(f),
        "bn_scale": (1.0 + rng.standard_normal(8) * 0.1).astype(f),
        "bn_bias": (rng.standard_normal(8) * 0.1).astype(f),
        "bn_mean": (rng.standard_normal(8) * 0.1).astype(f),
        "bn_var": (1.0 + rng.random(8) * 0.5).astype(f),
        "fc_w": (rng.standard_normal((10, 8)) * 0.3).astype(f),
        "fc_b": (rng.standard_normal(10) * 0.1).astype(f),
    }


def make_model(dtype: str = "float32", seed: int = SEED) -> Any:
    """Conv + BatchNormalization + Relu + MaxPool + GlobalAveragePool + Flatten + Gemm; batch dim "N".

    ``dtype="float16"`` gives the FP16 variant (FP16 I/O and weights) for strongly typed TensorRT 11 builds.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    np_type = np.float16 if dtype == "float16" else np.float32
    elem = TensorProto.FLOAT16 if dtype == "float16" else TensorProto.FLOAT
    inits = [numpy_helper.from_array(v.astype(np_type), name=k) for k, v in weights(seed).items()]
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["b"],
                         name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["b"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["m"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["m"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "envkit_smoke",
        [helper.make_tensor_value_info("input", elem, ["N", 3, BUILTIN_SHAPE[2], BUILTIN_SHAPE[3]])],
        [helper.make_tensor_value_info("logits", elem, ["N", 10])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="envkit-smoke", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by older onnxruntime / TensorRT parsers
    return model


def numpy_forward(x: Any, seed: int = SEED) -> Any:
    """The smoke model's forward pass in numpy (float64), to verify onnxruntime itself."""
    import numpy as np

    w = {k: v.astype(np.float64) for k, v in weights(seed).items()}
    x = np.asarray(x, dtype=np.float64)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # N,C,H,W,3,3
    c = np.einsum("nchwij,ocij->nohw", win, w["conv_w"]) + w["conv_b"][None, :, None, None]
    bn = (c - w["bn_mean"][None, :, None, None]) / np.sqrt(w["bn_var"][None, :, None, None] + 1e-5)
    bn = bn * w["bn_scale"][None, :, None, None] + w["bn_bias"][None, :, None, None]
    r = np.maximum(bn, 0.0)
    n, ch, h, wd = r.shape
    m = r[:, :, : h // 2 * 2, : wd // 2 * 2].reshape(n, ch, h // 2, 2, wd // 2, 2).max(axis=(3, 5))
    g = m.mean(axis=(2, 3))
    return g @ w["fc_w"].T + w["fc_b"]


def compare(got: Any, ref: Any, atol: float, rtol: float) -> dict[str, Any]:
    import numpy as np

    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return {"ok": False, "shape": list(got.shape), "expected_shape": list(ref.shape), "atol": atol, "rtol": rtol}
    err = np.abs(got - ref)
    return {"ok": bool(np.all(err <= atol + rtol * np.abs(ref))), "max_abs_err": float(err.max(initial=0.0)),
            "atol": atol, "rtol": rtol}


def checksum(a: Any) -> dict[str, Any]:
    import numpy as np

    arr = np.asarray(a)
    return {"sum": float(arr.astype(np.float64).sum()),
            "sha256_rounded": hashlib.sha256(np.round(arr.astype(np.float64), 3).tobytes()).hexdigest()[:16]}


# ---------------------------------------------------------------- preparing the model (built-in or --model)


def prepare(cfg: dict[str, Any]) -> dict[str, Any]:
    """The model every layer uses: bytes, sha256, inputs {name: (shape, dtype)}, random feeds; or an error."""
    import numpy as np

    if not cfg.get("model"):
        model = make_model("float32")
        data = model.SerializeToString()
        x = np.random.default_rng(SEED + 1).standard_normal(BUILTIN_SHAPE).astype(np.float32)
        return {"builtin": True, "name": "envkit-smoke", "bytes": data, "sha256": hashlib.sha256(data).hexdigest(),
                "bytes_fp16": make_model("float16").SerializeToString(),
                "inputs": {"input": (list(BUILTIN_SHAPE), "float32")}, "feeds": {"input": x},
                "profile": {"input": [[b, *BUILTIN_SHAPE[1:]] for b in PROFILE_BATCH]}}
    return prepare_user_model(cfg["model"], cfg.get("shapes") or {})


def prepare_user_model(path: str, shapes: dict[str, list[int]]) -> dict[str, Any]:
    import numpy as np
    import onnx
    from onnx import helper

    name = os.path.splitext(os.path.basename(path))[0]
    info: dict[str, Any] = {"builtin": False, "name": name, "path": path}
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        model = onnx.load_from_string(data)
        if not model.graph.node:
            raise ValueError("the graph has no nodes")
    except Exception as exc:
        info["error"] = f"{path} is not a readable ONNX model ({type(exc).__name__}: {str(exc)[:200]})"
        info["fix"] = "pass an .onnx file exported by torch.onnx.export / tf2onnx, not another format"
        return info
    info.update(bytes=data, sha256=hashlib.sha256(data).hexdigest(), opsets={o.domain or "ai.onnx": o.version
                                                                                for o in model.opset_import})
    info["unknown_ops"] = unknown_ops(model)
    init_names = {i.name for i in model.graph.initializer}
    inputs: dict[str, Any] = {}
    rng = np.random.default_rng(SEED + 2)
    feeds: dict[str, Any] = {}
    for inp in model.graph.input:
        if inp.name in init_names:
            continue
        tt = inp.type.tensor_type
        dims: list[int | str] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
                                 for d in tt.shape.dim]
        dynamic = [d for d in dims if not isinstance(d, int)]
        if inp.name in shapes:
            given = [int(v) for v in shapes[inp.name]]
            if len(given) != len(dims) or any(isinstance(d, int) and d != g for d, g in zip(dims, given)):  # noqa: B905 (payload runs on Python 3.8+)
                info["error"] = f"--shape {inp.name}:{'x'.join(map(str, given))} does not fit the model's {dims}"
                info["fix"] = f"give {len(dims)} dimensions matching the fixed ones of {dims}"
                return info
            shape = given
        elif dynamic:
            info["error"] = (f"input '{inp.name}' has dynamic dimensions {dims} and no --shape "
                             f"({', '.join(map(str, dynamic))} unknown)")
            info["fix"] = f"pass --shape {inp.name}:{'x'.join(str(d) if isinstance(d, int) else '1' for d in dims)}"
            return info
        else:
            shape = [int(d) for d in dims]
        dtype = _np_dtype(helper, tt.elem_type)
        inputs[inp.name] = (shape, dtype.name)
        if dtype.kind == "f":
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind in "iu":
            feeds[inp.name] = rng.integers(0, 10, size=shape).astype(dtype)
        else:
            feeds[inp.name] = rng.integers(0, 2, size=shape).astype(dtype)
    info.update(inputs=inputs, feeds=feeds, profile={k: [v[0]] * 3 for k, v in inputs.items()},
                input_shapes={k: v[0] for k, v in inputs.items()})
    return info


def _np_dtype(helper: Any, elem_type: int) -> Any:
    """numpy dtype of an ONNX element type (onnx >= 1.13 has the helper; older ones a mapping table)."""
    import numpy as np

    if hasattr(helper, "tensor_dtype_to_np_dtype"):
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    mapping: Any = importlib.import_module("onnx.mapping")  # gone from recent onnx
    return np.dtype(mapping.TENSOR_TYPE_TO_NP_TYPE[elem_type])


def unknown_ops(model: Any) -> list[str]:
    """'node name (domain::op)' for every node whose operator ONNX does not define (custom domains)."""
    import onnx.defs

    out = []
    for node in model.graph.node:
        if not onnx.defs.has(node.op_type, node.domain or ""):
            out.append(f"{node.name or '<unnamed>'} ({node.domain or 'ai.onnx'}::{node.op_type})")
    return out


# ---------------------------------------------------------------- onnxruntime layer


def check_onnxruntime(layer: Any, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    try:
        import onnxruntime as ort
    except Exception as exc:
        layer["importable"] = False
        layer.skip(f"onnxruntime not installed ({type(exc).__name__}: {exc})")
        return
    layer["importable"] = True
    layer["versions"]["onnxruntime"] = ort.__version__
    layer["providers"] = list(ort.get_available_providers())
    prepared = state["model"]
    if prepared.get("error"):
        layer.fail(prepared["error"].split(" (")[0], prepared["error"], prepared.get("fix") or "check the model")
        return
    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sess = ort.InferenceSession(prepared["bytes"], sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        unknown = prepared.get("unknown_ops") or []
        msg = str(exc).strip().splitlines()[0][:400] if str(exc).strip() else type(exc).__name__
        layer["unsupported_nodes"] = unknown
        layer.fail("onnxruntime cannot load the model" + (f": unsupported operators {unknown}" if unknown else ""),
                   f"onnxruntime {ort.__version__} rejected the model: {msg}"
                   + (f"; nodes with operators onnxruntime does not know: {', '.join(unknown)}" if unknown else ""),
                   "replace or register the custom operators (onnxruntime custom op library), or re-export the "
                   "model with standard ONNX operators")
        return
    feeds = prepared["feeds"]
    outputs = sess.run(None, feeds)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    names = [o.name for o in sess.get_outputs()]
    state["ort_outputs"] = dict(zip(names, outputs))  # noqa: B905
    layer["outputs"] = {n: {"shape": list(o.shape), **checksum(o)} for n, o in zip(names, outputs)}  # noqa: B905
    layer["latency_ms_median"] = round(statistics.median(times) * 1000, 4)
    layer["runs"] = RUNS
    if prepared.get("builtin"):
        ref = numpy_forward(feeds["input"])
        cmp = compare(outputs[0], ref, **ORT_VS_NUMPY)
        layer["numpy_reference"] = cmp
        if not cmp["ok"]:
            layer.fail("onnxruntime output differs from the numpy reference",
                       f"onnxruntime {ort.__version__} (CPU) differs from the numpy forward pass beyond "
                       f"atol {cmp['atol']} rtol {cmp['rtol']}: {cmp}",
                       "a broken onnxruntime or numpy build: reinstall them (" + "envkit create NAME --force)")
            return
        layer["reason"] = (f"onnxruntime {ort.__version__} CPU matches numpy (max abs err "
                           f"{cmp['max_abs_err']:.2e}), median {layer['latency_ms_median']} ms")
    else:
        layer["reason"] = f"onnxruntime {ort.__version__} CPU ran {prepared['name']}: outputs {layer['outputs']}"
