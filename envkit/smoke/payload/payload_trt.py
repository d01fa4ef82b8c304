"""Smoke payload, part 4: the TensorRT layer and the engine cache.

Runs inside the environment's Python (see payload.py). Uses only the API the found TensorRT has
(8.5+): build_serialized_network, set_memory_pool_limit, named tensors with set_input_shape /
set_tensor_address / execute_async_v3. Version branches (``trt_major``):
  8.x   EXPLICIT_BATCH network flag, FP16 through BuilderFlag.FP16;
  10.x  no flag needed, FP16 through BuilderFlag.FP16;
  11+   no weak typing: FP16 comes from the FP16 variant of the model (STRONGLY_TYPED is the default
        there and the flag is deprecated: it is set only where it exists).
Every version: TF32 is cleared for FP32 builds where the flag exists (on by default, 11.x included);
plugins are registered (init_libnvinfer_plugins) before an engine is deserialized; inputs whose
location is the host (shape tensors) get host buffers; outputs whose shape depends on the input
values (-1 after the input shapes are set, e.g. NonZero) get an IOutputAllocator. The engine cache
key and sidecar name the GPU model and the driver's major version (engines are specific to both).
Device memory for the I/O comes from payload.CudaRuntime (libcudart through ctypes).
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorrt as trt

FIX_RECREATE = "rebuild the environment: `envkit create NAME --force`"
WORKSPACE = 1 << 30


def _sibling(name: str) -> Any:
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    return importlib.import_module(name)


# ---------------------------------------------------------------- pure helpers (tested without TensorRT)


def _vt(text: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(text or "")))


def pin_mismatch(found: str, pin: str | None) -> str | None:
    """A diagnosis when the imported tensorrt differs from the pin in any component the pin names; else None."""
    if not pin:
        return None
    f, p = _vt(found), _vt(pin)
    if f[: len(p)] == p:
        return None
    return f"tensorrt {found} imported but pinned {pin}"


def libnvinfer_mismatch(mapped: list[str], trt_version: str) -> str | None:
    """A diagnosis when a mapped libnvinfer's version (from its real file name) differs from the bindings'."""
    want = _vt(trt_version)
    for path in mapped:
        base = os.path.basename(os.path.realpath(path))
        m = re.match(r"libnvinfer\.so\.([\d.]+)$", base)
        if not m or not want:
            continue
        have = _vt(m.group(1))
        n = min(len(have), 2)
        if have[:n] != want[:n]:
            return (f"libnvinfer from {path} is {m.group(1)} while the tensorrt bindings are {trt_version}: a stray "
                    "libnvinfer (LD_LIBRARY_PATH or the system) shadows the environment's")
    return None


# ---------------------------------------------------------------- TensorRT API by version


def trt_major(trt_mod: Any) -> int:
    v = _vt(getattr(trt_mod, "__version__", ""))
    return v[0] if v else 0


def network_flags(creation_flags: Any, major: int, strongly_typed: bool) -> int:
    """Bit mask for ``create_network`` from ``trt.NetworkDefinitionCreationFlag``, each flag only where it exists.

    EXPLICIT_BATCH: 8.x only (the default since 10, gone in 11). STRONGLY_TYPED: asked for on 11+ where
    it still exists (deprecated and ignored there: strong typing is the only mode), never assumed.
    """
    flags = 0
    explicit = getattr(creation_flags, "EXPLICIT_BATCH", None)
    if major < 10 and explicit is not None:
        flags |= 1 << int(explicit)
    strong = getattr(creation_flags, "STRONGLY_TYPED", None)
    if strongly_typed and strong is not None:
        flags |= 1 << int(strong)
    return flags


def fp32_flags_to_clear(builder_flags: Any, precision: str) -> list[Any]:
    """The BuilderFlag members to clear so an FP32 engine computes in FP32: TF32, on every version that has it.

    TF32 is on by default (8.x, 10.x and 11.x alike); left on, Ampere and later GPUs run FP32 convolutions and
    matmuls in TF32 and the comparison with the float64 reference fails falsely (Polygraphy clears it too).
    """
    tf32 = getattr(builder_flags, "TF32", None)
    return [tf32] if precision == "fp32" and tf32 is not None else []


def register_plugins(trt_mod: Any, logger: Any) -> bool | None:
    """trt.init_libnvinfer_plugins(logger, ""): needed before deserializing an engine that uses TensorRT's plugins
    (NVIDIA's samples do it first). None when the bindings have no such function."""
    init = getattr(trt_mod, "init_libnvinfer_plugins", None)
    if init is None:
        return None
    return bool(init(logger, ""))


def make_logger() -> Any:
    import tensorrt as trt

    class Collect(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.messages: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if int(severity) <= int(trt.ILogger.Severity.WARNING):  # INTERNAL_ERROR, ERROR, WARNING
                self.messages.append(f"{severity.name}: {msg}")

    return Collect()


def parse_onnx(builder: trt.Builder, logger: trt.ILogger, model: bytes, flags: int
               ) -> tuple[trt.INetworkDefinition, trt.OnnxParser, list[str]]:
    import tensorrt as trt

    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    errors: list[str] = []
    if not parser.parse(model):
        for i in range(parser.num_errors):
            err = parser.get_error(i)
            try:
                node = err.node_name() or f"node #{err.node()}"
            except AttributeError:  # 8.x parsers: index only
                node = f"node #{err.node()}"
            errors.append(f"parser: {node}: {err.desc()}")
    return network, parser, errors  # the parser must outlive the network's use


def build_engine(model: bytes, profile_shapes: dict[str, list[list[int]]], precision: str,
                 major: int, logger: Any) -> tuple[bytes | None, list[str]]:
    """Serialized engine bytes, or None and the errors (parser errors name the nodes)."""
    import tensorrt as trt

    builder: trt.Builder = trt.Builder(logger)
    flags = network_flags(trt.NetworkDefinitionCreationFlag, major, strongly_typed=major >= 11)
    network, _parser, errors = parse_onnx(builder, logger, model, flags)
    if errors:
        return None, errors
    config: trt.IBuilderConfig = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE)
    fp16 = getattr(trt.BuilderFlag, "FP16", None)  # weak typing: 8.x / 10.x only (gone in the 11.4 bindings)
    if precision == "fp16" and major < 11 and fp16 is not None:
        config.set_flag(fp16)
    for flag in fp32_flags_to_clear(trt.BuilderFlag, precision):
        config.clear_flag(flag)  # compare FP32 with FP32, not TF32
    profile = builder.create_optimization_profile()
    for name, (lo, opt, hi) in profile_shapes.items():
        profile.set_shape(name, trt.Dims(lo), trt.Dims(opt), trt.Dims(hi))
    config.add_optimization_profile(profile)
    try:
        serialized = builder.build_serialized_network(network, config)
    except Exception as exc:  # some versions raise instead of returning None
        return None, [*logger.messages[-10:], f"{type(exc).__name__}: {exc}"]
    if serialized is None:
        return None, list(logger.messages[-10:]) or ["build_serialized_network returned None"]
    return bytes(memoryview(serialized)), []


# ---------------------------------------------------------------- the layer


def import_tensorrt(layer: Any) -> Any:
    """The real tensorrt module, or None with the layer failed and diagnosed."""
    try:
        trt_mod = importlib.import_module("tensorrt")
    except ImportError as exc:
        text = str(exc)
        layer["importable"] = False
        if "libnvinfer" in text or ".so" in text:
            # the library the loader (or envkit's tensorrt_libs shim) named, e.g. libnvonnxparser.so.11
            m = re.search(r"\b(lib[A-Za-z0-9_+\-]+\.so(?:\.[0-9]+)*)", text)
            lib = m.group(1) if m else "libnvinfer"
            # envkit's shim says what to install ("...: install conda-forge libnvinfer=11.3.0.99 (...)")
            shim = re.search(r"((?:install|reinstall) conda-forge [A-Za-z0-9_\-]+=[^\s()]+)", text)
            stem = lib.split(".so")[0]
            package = {"libnvinfer_plugin": "libnvinfer-plugin"}.get(stem, stem)
            fix = (shim.group(1) if shim else
                   f"install the TensorRT library {lib} in the environment (conda-forge {package} at the version of "
                   "the tensorrt bindings), or " + FIX_RECREATE)
            layer.fail(f"tensorrt bindings cannot load {lib}",
                       f"`import tensorrt` failed: {text}: the bindings are installed but {lib} (TensorRT's C++ "
                       "library) is missing from the environment or cannot be loaded", fix)
        else:
            layer.fail("tensorrt not importable",
                       f"`import tensorrt` failed: {text}: the environment has no TensorRT Python bindings",
                       "install the stack's TensorRT: " + FIX_RECREATE)
        return None
    where = getattr(trt_mod, "__file__", None) or list(getattr(trt_mod, "__path__", []))
    if not hasattr(trt_mod, "Builder") or not getattr(trt_mod, "__version__", None):
        layer["importable"] = False
        layer.fail("tensorrt not importable (only a stub/namespace package)",
                   f"`import tensorrt` found {where}, which is not the TensorRT bindings (no __version__/Builder): "
                   "type stubs (tensorrt-stubs) or a half-installed pip package without its libraries",
                   "install the real TensorRT bindings: " + FIX_RECREATE)
        return None
    layer["importable"] = True
    layer["module"] = str(where)
    return trt_mod


def check_tensorrt(layer: Any, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    payload = _sibling("payload")
    trt_mod = import_tensorrt(layer)
    if trt_mod is None:
        return
    version = str(trt_mod.__version__)
    layer["versions"]["tensorrt"] = version
    pin = cfg["pins"].get("tensorrt")
    problem = pin_mismatch(version, pin)
    if problem:
        layer.fail(problem, f"{problem}: the bindings at {layer['module']} are not the stack's TensorRT",
                   "remove other tensorrt installs (pip) from the environment, or " + FIX_RECREATE)
        return
    mapped = payload.loaded_libraries("libnvinfer.so")
    layer["libnvinfer"] = mapped
    stray = libnvinfer_mismatch(mapped, version)
    if stray:
        layer.fail("stray libnvinfer", stray, "remove that directory from LD_LIBRARY_PATH (or uninstall the other "
                   "TensorRT), then run the smoke test again")
        return
    cuda, gpu, prepared = state.get("cuda"), state.get("gpu") or {}, state["model"]
    if prepared.get("error"):
        layer.fail(prepared["error"].split(" (")[0], prepared["error"], prepared.get("fix") or "check the model")
        return
    if cuda is None or not gpu.get("compute_capability"):
        layer.skip(f"tensorrt {version} imports; engine build skipped: no usable CUDA device (see driver/cuda)")
        return
    major = trt_major(trt_mod)
    cc = str(gpu["compute_capability"])
    precisions = ["fp32"] + (["fp16"] if _vt(cc) >= (5, 3) else [])
    logger = make_logger()
    layer["plugins_registered"] = register_plugins(trt_mod, logger)  # before any deserialize_cuda_engine
    runtime = trt_mod.Runtime(logger)
    model_mod = _sibling("payload_model")
    layer["engines"] = {}
    device = {"name": str(gpu.get("name") or ""), "driver": str((state.get("driver") or {}).get("version") or ""),
              "cc": cc}
    for precision in precisions:
        info = _one_engine(runtime, logger, cuda, cfg, prepared, precision, major, device, version, model_mod,
                           state.get("ort_outputs") or {})
        layer["engines"][precision] = info
        if info.get("error"):
            if prepared.get("builtin") or precision == "fp32":
                layer.fail(f"{precision} engine: {info['error'][:200]}", info["error"],
                           info.get("fix") or "see the TensorRT log in the report")
            else:
                layer.warn(f"{precision}: {info['error']}")
        elif not info["compare"]["ok"]:
            msg = (f"TensorRT {precision} output differs from {info['reference']} beyond atol "
                   f"{info['compare']['atol']} rtol {info['compare']['rtol']} (max abs err "
                   f"{info['compare'].get('max_abs_err')})")
            if prepared.get("builtin") or precision == "fp32":
                layer.fail(f"{precision} numerics differ", msg, "check the GPU (nvidia-smi -q) and the TensorRT build")
            else:
                layer.warn(msg)
    if layer.status == "pass":
        e = layer["engines"]
        layer["reason"] = f"tensorrt {version}: " + "; ".join(
            f"{p} engine {v['engine_cache']}, {v['latency_ms_median']:.3f} ms" for p, v in e.items()
            if not v.get("error"))


def _one_engine(runtime: trt.Runtime, logger: Any, cuda: Any, cfg: dict[str, Any],
                prepared: dict[str, Any], precision: str, major: int, device: dict[str, str], version: str,
                model_mod: Any, ort_out: dict[str, Any]) -> dict[str, Any]:
    strongly_fp16 = precision == "fp16" and major >= 11 and prepared.get("bytes_fp16") is not None
    model = prepared["bytes_fp16"] if strongly_fp16 else prepared["bytes"]
    if precision == "fp16" and major >= 11 and not strongly_fp16:
        return {"error": "TensorRT 11 has no FP16 flag and the user model is not FP16: skipped", "skipped": True}
    shapes = [prepared["profile"][n][1] for n in prepared["inputs"]]
    cache_mod = _sibling("payload_trt_cache")
    key = cache_mod.engine_key(prepared["name"], prepared["sha256"], device["cc"], version, shapes, precision,
                     device=device["name"], driver=device["driver"])
    path = os.path.join(cfg.get("cache_dir") or tempfile.gettempdir(), key)
    expect = cache_mod.cache_expect(version, device["cc"], prepared["sha256"], precision, device["name"], device["driver"])
    data, cache = cache_mod.load_cached_engine(path, expect)
    info: dict[str, Any] = {"engine_path": path, "strongly_typed": major >= 11}
    engine = None
    if data:
        try:
            engine = runtime.deserialize_cuda_engine(data)
        except Exception:  # TensorRT refuses engines of another version/GPU; some versions raise
            engine = None
    if data and engine is None:
        cache = "rebuilt (TensorRT refused to deserialize it)"
    if engine is None:
        t0 = time.perf_counter()
        data, errors = build_engine(model, prepared["profile"], precision, major, logger)
        info["build_seconds"] = round(time.perf_counter() - t0, 3)
        if data is None:
            info["error"] = ("TensorRT could not parse/build the model: " + "; ".join(errors[:20]))
            parsed = any(e.startswith("parser: ") for e in errors)
            info["fix"] = ("the nodes named are not supported by this TensorRT: replace the operators, provide a "
                           "plugin, or re-export the model") if parsed else "see the TensorRT errors above"
            return info
        engine = runtime.deserialize_cuda_engine(data)
        if engine is None:
            info["error"] = "TensorRT could not deserialize the engine it just built"
            return info
        cache_mod.store_engine(path, data, expect)
        cache = "built" if cache == "miss" else cache
    info["engine_cache"] = cache
    info["engine_bytes"] = len(data or b"")
    feeds = prepared["feeds"]
    io_mod = _sibling("payload_trt_io")
    try:
        outputs, latency, info["data_dependent_outputs"] = io_mod.run_engine(engine, cuda, feeds, model_mod.RUNS,
                                                                             prepared.get("profile"))
    except io_mod.EngineIOError as exc:
        info["error"], info["fix"] = str(exc), exc.fix
        return info
    info["latency_ms_median"] = round(latency, 4)
    info["runs"] = model_mod.RUNS
    tol = model_mod.TOLERANCE[precision]
    if prepared.get("builtin"):
        ref, info["reference"] = model_mod.numpy_forward(feeds["input"]), "numpy reference"
        got = outputs.get("logits")
    else:
        name = next(iter(ort_out), None)
        if name is None:
            info["compare"] = {"ok": True, "note": "no onnxruntime outputs to compare with"}
            info["reference"] = "none"
            return info
        ref, got, info["reference"] = ort_out[name], outputs.get(name), "onnxruntime"
    info["compare"] = model_mod.compare(got, ref, **tol)
    info["output_checksum"] = model_mod.checksum(got)
    return info
