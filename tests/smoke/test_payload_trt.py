"""The TensorRT layer's branches (issue 14), against what exists here for real.

TensorRT itself cannot load here (no libnvinfer, no GPU), so the branches are exercised through:
* the real ``tensorrt-cu12-bindings`` wheels 10.16.1.11 and 11.4.0.106 from PyPI: the names their
  extension module registers (read from its ELF ``.rodata`` with pyelftools) and their Python parts;
* ``tensorrt-stubs`` (the enums' real member values, read from the stub's ``# value = <...: N>`` notes);
* a real ONNX model with NonZero, run through onnxruntime for the reference of a data-dependent output.
What only a GPU can show is listed in docs/gpu-validation.md ("TensorRT layer: what to run").
"""

from __future__ import annotations

import ast
import ctypes
import enum
import importlib.util
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypi_wheels import pypi_wheel

from envkit.smoke.payload import payload_model, payload_trt
from envkit.smoke.payload.payload_trt import fp32_flags_to_clear, network_flags, register_plugins
from envkit.smoke.payload.payload_trt_cache import (
    cache_expect,
    driver_major,
    engine_key,
    load_cached_engine,
    store_engine,
)
from envkit.smoke.payload.payload_trt_io import EngineIOError, OutputBuffers, data_dependent, shape_rejected

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD_TRT = [ROOT / "envkit/smoke/payload/payload_trt.py", ROOT / "envkit/smoke/payload/payload_trt_io.py"]
VERSIONS = ("10.16.1.11", "11.4.0.106")


# ---------------------------------------------------------------- the real bindings and the stubs


class Names:
    """The NUL-terminated strings of the extension's .rodata (pybind11 registers every name as one). The
    linker merges a string into the tail of a longer one ("Runtime" inside "IRuntime"), so a name is
    present when some string ends with it."""

    def __init__(self, blob: bytes, extra: set[str]) -> None:
        self.blob = b"\0" + blob
        self.extra = extra

    def __contains__(self, name: object) -> bool:
        return name in self.extra or (str(name).encode() + b"\0") in self.blob


def _rodata(so: Path) -> bytes:
    from elftools.elf.elffile import ELFFile

    with so.open("rb") as fh:
        return bytes(ELFFile(fh).get_section_by_name(".rodata").data())


@pytest.fixture(scope="module", params=VERSIONS)
def bindings(request: pytest.FixtureRequest) -> tuple[str, Names]:
    """(version, every name the real bindings define: the extension's registered names + the Python parts)."""
    version = str(request.param)
    wheel = pypi_wheel("tensorrt-cu12-bindings", version)
    with zipfile.ZipFile(wheel) as zf, __import__("tempfile").TemporaryDirectory() as tmp:
        so = Path(zf.extract("tensorrt_bindings/tensorrt.so", tmp))
        blob = _rodata(so)
        init = zf.read("tensorrt_bindings/__init__.py").decode()
    return version, Names(blob, set(re.findall(r"^def (\w+)", init, re.M)))


def _stub_source() -> str:
    spec = importlib.util.find_spec("tensorrt_stubs")
    if spec is None or spec.origin is None:
        pytest.skip("tensorrt-stubs is not installed")
    text = (Path(spec.origin).resolve().parents[1] / "tensorrt_bindings" / "tensorrt.pyi").read_text()
    # the same repairs as test_payload_types: parameters named `in`, a non-default parameter after defaults
    return re.sub(r"\bin: ", "in_: ", text).replace(", channel_axis: int)", ", channel_axis: int = ...)")


def _stub_enum(cls: str, drop: tuple[str, ...] = ()) -> Any:
    """An IntEnum with the members and values tensorrt-stubs records for ``cls`` (minus ``drop``)."""
    values = dict(re.findall(rf"(\w+): typing\.ClassVar\[{cls}\]  # value = <{cls}\.\w+: (\d+)>", _stub_source()))
    assert values, cls
    return enum.IntEnum(cls, {k: int(v) for k, v in values.items() if k not in drop})


def _payload_api() -> tuple[set[str], set[str]]:
    """(TensorRT names the payload uses directly, names it only reaches through getattr/hasattr)."""
    tree = ast.parse(_stub_source())
    api: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            api.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            api.add(node.target.id)
    api -= {"name", "__init__", "value"}  # generic names every module has
    used: set[str] = set()
    guarded: set[str] = set()
    for path in PAYLOAD_TRT:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
                guarded.add(str(node.args[1].value))
    return (used & api) - guarded, guarded & api


@pytest.mark.slow
@pytest.mark.network
def test_every_unguarded_tensorrt_name_exists_in_the_real_bindings(bindings: tuple[str, Names]) -> None:
    version, names = bindings
    used, guarded = _payload_api()
    assert {"IOutputAllocator", "set_output_allocator", "TensorLocation", "set_input_shape", "clear_flag",
            "deserialize_cuda_engine", "execute_async_v3"} <= used
    assert sorted(n for n in used if n not in names) == [], f"tensorrt {version} lacks names the payload uses unguarded"
    assert {"TF32", "FP16", "STRONGLY_TYPED", "EXPLICIT_BATCH", "init_libnvinfer_plugins", "get_tensor_location",
            "is_shape_inference_io"} <= guarded


@pytest.mark.slow
@pytest.mark.network
def test_what_the_guards_are_for(bindings: tuple[str, Names]) -> None:
    """TF32 still exists in 11.x (issue 14: it was cleared only below 11); EXPLICIT_BATCH and the weak-typing
    BuilderFlag.FP16 are gone in 11.4."""
    version, names = bindings
    assert "TF32" in names and "STRONGLY_TYPED" in names
    assert all(n in names for n in ("init_libnvinfer_plugins", "get_tensor_location", "is_shape_inference_io", "HOST"))
    assert ("EXPLICIT_BATCH" in names) == version.startswith("10.")
    assert ("FP16" in names) == version.startswith("10.")


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.parametrize(("version", "tag", "path"), [
    ("10.16.1.11", "DT_RUNPATH", "$ORIGIN:$ORIGIN/../_libs):$ORIGIN/../lib:$ORIGIN/../../../Release/lib"),
    ("11.4.0.106", "DT_RPATH", "$ORIGIN"),
])
def test_bindings_search_path_as_trt_fixup_says(version: str, tag: str, path: str, tmp_path: Path) -> None:
    """envkit/create/trt_fixup.py's docstring: no version's search path reaches $PREFIX/lib."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    wheel = pypi_wheel("tensorrt-cu12-bindings", version)
    with zipfile.ZipFile(wheel) as zf:
        so = Path(zf.extract("tensorrt_bindings/tensorrt.so", tmp_path))
    with so.open("rb") as fh:
        dyn = next(s for s in ELFFile(fh).iter_sections() if isinstance(s, DynamicSection))
        tags = {t.entry.d_tag: getattr(t, "runpath", None) or getattr(t, "rpath", None) for t in dyn.iter_tags()}
    assert tags.get(tag) == path
    assert {"DT_RPATH", "DT_RUNPATH"} - {tag} - set(tags) == {"DT_RPATH", "DT_RUNPATH"} - {tag}
    from envkit.create import trt_fixup

    assert path.replace("$", "") in (trt_fixup.__doc__ or "").replace("$", "")


# ---------------------------------------------------------------- builder flags


def test_tf32_is_cleared_for_fp32_on_every_version_that_has_it() -> None:
    flags = _stub_enum("BuilderFlag")
    assert fp32_flags_to_clear(flags, "fp32") == [flags.TF32]
    assert fp32_flags_to_clear(flags, "fp16") == []
    assert fp32_flags_to_clear(_stub_enum("BuilderFlag", drop=("TF32",)), "fp32") == []
    src = Path(payload_trt.__file__).read_text()
    assert "major < 11 and hasattr(trt.BuilderFlag" not in src  # the old version gate is gone


def test_network_flags_only_use_members_that_exist() -> None:
    full = _stub_enum("NetworkDefinitionCreationFlag")  # 10.x: EXPLICIT_BATCH=0, STRONGLY_TYPED=1
    assert network_flags(full, 8, strongly_typed=False) == 1 << full.EXPLICIT_BATCH
    assert network_flags(full, 10, strongly_typed=False) == 0
    assert network_flags(full, 11, strongly_typed=True) == 1 << full.STRONGLY_TYPED
    eleven = _stub_enum("NetworkDefinitionCreationFlag", drop=("EXPLICIT_BATCH",))  # as in the 11.4 wheel
    assert network_flags(eleven, 11, strongly_typed=True) == 1 << eleven.STRONGLY_TYPED
    future = _stub_enum("NetworkDefinitionCreationFlag", drop=("EXPLICIT_BATCH", "STRONGLY_TYPED"))
    assert network_flags(future, 12, strongly_typed=True) == 0


def test_plugins_are_registered_before_any_engine_is_deserialized() -> None:
    calls: list[tuple[Any, str]] = []

    class Bindings:  # the one function register_plugins looks up, as the bindings define it
        @staticmethod
        def init_libnvinfer_plugins(logger: Any, namespace: str) -> bool:
            calls.append((logger, namespace))
            return True

    assert register_plugins(Bindings, "LOGGER") is True and calls == [("LOGGER", "")]
    assert register_plugins(object(), "LOGGER") is None
    src = Path(payload_trt.__file__).read_text()
    body = src[src.index("def check_tensorrt"):]
    assert body.index("register_plugins(trt_mod, logger)") < body.index("_one_engine(")
    assert src.index("def _one_engine") < src.index("runtime.deserialize_cuda_engine(data)")


# ---------------------------------------------------------------- engine cache: GPU model and driver


def test_engine_key_names_the_gpu_model_and_driver_major() -> None:
    args = ("m", "ab" * 32, "8.0", "10.13.0.35", [[1, 3, 224, 224]], "fp16")
    a100 = engine_key(*args, device="NVIDIA A100-SXM4-80GB", driver="580.95.05")
    a30 = engine_key(*args, device="NVIDIA A30", driver="580.95.05")
    assert a100 == "m-abababababab-NVIDIA_A100-SXM4-80GB-sm80-drv580-trt10.13.0.35-1x3x224x224-fp16.engine"
    assert a30 != a100 and "-NVIDIA_A30-sm80-" in a30
    assert engine_key(*args, device="NVIDIA A30", driver="570.86.15") != a30
    assert "-gpu-sm80-drvunknown-" in engine_key(*args)
    assert driver_major("580.95.05") == "580" and driver_major(None) == ""


def test_cached_engine_of_another_gpu_model_or_driver_is_rebuilt(tmp_path: Path) -> None:
    path = str(tmp_path / "e.engine")
    a100 = cache_expect("10.13.0.35", "8.0", "ab" * 32, "fp32", "NVIDIA A100-SXM4-80GB", "580.95.05")
    store_engine(path, b"plan", a100)
    meta = json.loads(Path(path + ".json").read_text())
    assert meta["device"] == "NVIDIA A100-SXM4-80GB" and meta["driver_major"] == "580"
    assert load_cached_engine(path, a100) == (b"plan", "hit")
    a30 = {**a100, "device": "NVIDIA A30"}
    assert load_cached_engine(path, a30) == (None, "rebuilt (device NVIDIA A100-SXM4-80GB != NVIDIA A30)")
    newer = {**a100, "driver_major": "590"}
    assert load_cached_engine(path, newer) == (None, "rebuilt (driver_major 580 != 590)")


# ---------------------------------------------------------------- data-dependent outputs (NonZero)


def _nonzero_model(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])),
             helper.make_node("Greater", ["x", "zero"], ["mask"]),
             helper.make_node("NonZero", ["mask"], ["idx"])]
    graph = helper.make_graph(nodes, "nonzero", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 5])],
                              [helper.make_tensor_value_info("idx", TensorProto.INT64, [2, "K"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


class HostMemory:
    """payload.CudaRuntime's memory calls over host memory (no GPU here); frees are recorded."""

    def __init__(self, fail_over: int | None = None) -> None:
        self.blocks: dict[int, Any] = {}
        self.freed: list[int] = []
        self.fail_over = fail_over

    def malloc(self, nbytes: int) -> int:
        if self.fail_over is not None and nbytes > self.fail_over:
            raise RuntimeError("cudaMalloc failed: out of memory (2)")
        buf = ctypes.create_string_buffer(max(nbytes, 1))
        self.blocks[ctypes.addressof(buf)] = buf
        return ctypes.addressof(buf)

    def free(self, ptr: int) -> None:
        self.freed.append(ptr)

    def d2h(self, dst: int, src: int, nbytes: int) -> None:
        ctypes.memmove(dst, src, nbytes)


def test_nonzero_output_is_detected_and_collected_at_its_real_shape(tmp_path: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    path = _nonzero_model(tmp_path / "nonzero.onnx")
    prepared = payload_model.prepare_user_model(str(path), {})
    assert "error" not in prepared and list(prepared["feeds"]) == ["x"]
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    out_dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert data_dependent(out_dims) and not data_dependent(prepared["inputs"]["x"][0])
    assert data_dependent((2, -1)) and not data_dependent((2, 7))
    sess = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    (ref,) = sess.run(None, prepared["feeds"])
    k = int((prepared["feeds"]["x"] > 0).sum())
    assert ref.shape == (2, k) and 0 < k < 20

    mem = HostMemory()
    buffers = OutputBuffers(mem)
    first = buffers.reallocate("idx", 8)  # TensorRT first asks small, then for the real size
    ptr = buffers.reallocate("idx", ref.nbytes)
    assert ptr != first and mem.freed == [first]
    assert buffers.reallocate("idx", ref.nbytes // 2) == ptr  # large enough: reused
    ctypes.memmove(ptr, ref.ctypes.data, ref.nbytes)  # what the engine writes
    buffers.notify("idx", (2, k))
    got = buffers.fetch("idx", np.dtype(np.int64))
    assert got.shape == (2, k) and np.array_equal(got, ref)
    assert payload_model.compare(got, ref, atol=0, rtol=0)["ok"]
    buffers.free()
    assert ptr in mem.freed and buffers.buffers == {}


def test_output_allocator_failures_are_reported_not_raised_into_tensorrt() -> None:
    import numpy as np

    buffers = OutputBuffers(HostMemory(fail_over=64))
    assert buffers.reallocate("idx", 1 << 20) == 0  # TensorRT's "allocation failed"
    assert buffers.errors == ["idx: cudaMalloc failed: out of memory (2)"]
    with pytest.raises(EngineIOError, match="never reported the shape of output 'idx'"):
        buffers.fetch("idx", np.dtype(np.int64))
    buffers.reallocate("idx", 16)
    buffers.notify("idx", (2, 5))
    with pytest.raises(EngineIOError, match=r"shape \[2, 5\] does not fit its 16-byte buffer"):
        buffers.fetch("idx", np.dtype(np.int64))


def test_input_shape_outside_the_profile_is_a_clear_error() -> None:
    err = shape_rejected("images", (1, 3, 1280, 1280), [[1, 3, 320, 320], [1, 3, 640, 640], [1, 3, 640, 640]])
    assert str(err) == ("TensorRT rejected input 'images' shape [1, 3, 1280, 1280] (the optimization profile allows "
                        "min [1, 3, 320, 320], max [1, 3, 640, 640])")
    assert err.fix.startswith("pass a shape within the profile")
