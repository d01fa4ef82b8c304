"""Smoke payload, part 5: running a TensorRT engine (inputs, outputs, data-dependent shapes).

Runs inside the environment's Python (see payload.py): standard library at top level; numpy and
tensorrt imported inside the functions. Used by payload_trt.py. Handles what real models need beyond
the built-in one: ``set_input_shape`` is checked (False when a shape is outside the optimization
profile); inputs whose location is the host (shape tensors) are given host memory; outputs with a -1
dimension after the input shapes are set (NonZero, NMS: the size depends on the input values) get an
``IOutputAllocator`` and are copied back with the shape TensorRT reports.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorrt as trt


class EngineIOError(Exception):
    """The engine cannot be run with these inputs; ``fix`` says what to change."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def dims_tuple(dims: Any) -> tuple[int, ...]:
    """A TensorRT Dims (or any sequence) as a tuple of ints."""
    return tuple(int(dims[i]) for i in range(len(dims)))


def data_dependent(shape: tuple[int, ...] | list[Any]) -> bool:
    """True when a dimension is unknown after the input shapes are set (-1, or symbolic in ONNX terms):
    the output's size depends on the input values (NonZero, NMS...) and needs an output allocator."""
    return any(not isinstance(d, int) or d < 0 for d in shape)


def shape_rejected(name: str, shape: tuple[int, ...], profile: list[list[int]] | None) -> EngineIOError:
    where = (f" (the optimization profile allows min {profile[0]}, max {profile[2]})"
             if profile and len(profile) == 3 else "")
    return EngineIOError(f"TensorRT rejected input '{name}' shape {list(shape)}{where}",
                         f"pass a shape within the profile: --shape {name}:{'x'.join(map(str, shape))} must fit")


class OutputBuffers:
    """Device buffers of outputs whose size TensorRT learns only while running (the IOutputAllocator logic).

    TensorRT calls ``reallocate`` with the byte size it needs (the buffer is reused when large enough) and
    ``notify`` with the real shape; ``fetch`` copies exactly that shape back to the host.
    """

    def __init__(self, cuda: Any) -> None:
        self.cuda = cuda
        self.buffers: dict[str, tuple[int, int]] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.errors: list[str] = []

    def reallocate(self, name: str, size: int) -> int:
        """The device address for ``size`` bytes of output ``name``; 0 (TensorRT's "failed") on error."""
        ptr, capacity = self.buffers.get(name, (0, 0))
        if ptr and size <= capacity:
            return ptr
        try:
            new = self.cuda.malloc(size)
        except Exception as exc:  # never raise into TensorRT's callback
            self.errors.append(f"{name}: {exc}")
            return 0
        if ptr:
            self.cuda.free(ptr)
        self.buffers[name] = (new, max(int(size), 1))
        return new

    def notify(self, name: str, shape: Any) -> None:
        self.shapes[name] = dims_tuple(shape)

    def fetch(self, name: str, dtype: Any) -> Any:
        import numpy as np

        if name not in self.shapes:
            raise EngineIOError(f"TensorRT never reported the shape of output '{name}'",
                                "report this with the JSON output (IOutputAllocator.notify_shape was not called)")
        host = np.empty(self.shapes[name], dtype=dtype)
        ptr, capacity = self.buffers.get(name, (0, 0))
        if host.nbytes > capacity or (host.nbytes and not ptr):
            raise EngineIOError(f"output '{name}' of shape {list(host.shape)} does not fit its {capacity}-byte buffer",
                                "report this with the JSON output")
        if host.nbytes:
            self.cuda.d2h(host.ctypes.data, ptr, host.nbytes)
        return host

    def free(self) -> None:
        for ptr, _ in self.buffers.values():
            self.cuda.free(ptr)
        self.buffers.clear()


def make_output_allocator(buffers: OutputBuffers) -> Any:
    """A trt.IOutputAllocator handing TensorRT the buffers of ``buffers`` (8.5+; both callback spellings)."""
    import tensorrt as trt

    class Allocator(trt.IOutputAllocator):
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)

        def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
            return buffers.reallocate(tensor_name, size)

        def reallocate_output_async(self, tensor_name: str, memory: int, size: int, alignment: int,
                                    stream: int) -> int:
            return buffers.reallocate(tensor_name, size)

        def notify_shape(self, tensor_name: str, shape: Any) -> None:
            buffers.notify(tensor_name, shape)

    return Allocator()


def input_on_host(engine: trt.ICudaEngine, name: str) -> bool:
    """True for inputs TensorRT reads from host memory (shape tensors): get_tensor_location, else
    is_shape_inference_io where the bindings have it."""
    import tensorrt as trt

    location = getattr(engine, "get_tensor_location", None)
    if location is not None:
        return bool(location(name) == trt.TensorLocation.HOST)
    shape_io = getattr(engine, "is_shape_inference_io", None)
    return bool(shape_io(name)) if shape_io is not None else False


def _bind_inputs(engine: trt.ICudaEngine, context: trt.IExecutionContext, cuda: Any, feeds: dict[str, Any],
                 profile: dict[str, list[list[int]]], buffers: list[int]) -> dict[str, Any]:
    """Set shapes and addresses of the inputs; host arrays (kept alive by the caller) by name."""
    import numpy as np
    import tensorrt as trt

    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    host_in: dict[str, Any] = {}
    for n in names:
        if engine.get_tensor_mode(n) != trt.TensorIOMode.INPUT:
            continue
        dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(n)))
        arr = np.ascontiguousarray(feeds[n].astype(dtype))
        host_in[n] = arr
        if input_on_host(engine, n):  # a shape tensor: TensorRT reads its values from host memory
            if data_dependent(dims_tuple(engine.get_tensor_shape(n))) and not context.set_input_shape(
                    n, tuple(arr.shape)):
                raise shape_rejected(n, tuple(arr.shape), profile.get(n))
            context.set_tensor_address(n, arr.ctypes.data)
            continue
        if not context.set_input_shape(n, tuple(arr.shape)):
            raise shape_rejected(n, tuple(arr.shape), profile.get(n))
        ptr = cuda.malloc(arr.nbytes)
        buffers.append(ptr)
        cuda.h2d(ptr, arr.ctypes.data, arr.nbytes)
        context.set_tensor_address(n, ptr)
    return host_in


def run_engine(engine: trt.ICudaEngine, cuda: Any, feeds: dict[str, Any], runs: int,
               profile: dict[str, list[list[int]]] | None = None) -> tuple[dict[str, Any], float, list[str]]:
    """Outputs (numpy), median latency in ms of ``runs`` executions with execute_async_v3, and the names of
    the outputs whose shape depended on the input values (served by an IOutputAllocator)."""
    import numpy as np
    import tensorrt as trt

    context: trt.IExecutionContext = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    buffers: list[int] = []
    dynamic = OutputBuffers(cuda)
    allocator = None
    try:
        _host_in = _bind_inputs(engine, context, cuda, feeds, profile or {}, buffers)  # alive until the end
        outs: dict[str, tuple[Any, int]] = {}
        dyn_names: list[str] = []
        for n in names:
            if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT:
                continue
            shape = dims_tuple(context.get_tensor_shape(n))
            dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(n)))
            if data_dependent(shape):
                allocator = allocator or make_output_allocator(dynamic)
                if not context.set_output_allocator(n, allocator):
                    raise EngineIOError(f"output '{n}' has a data-dependent shape {list(shape)} and TensorRT refused "
                                        "the output allocator", "report this with the JSON output")
                dyn_names.append(n)
                continue
            host = np.empty(shape, dtype=dtype)
            ptr = cuda.malloc(host.nbytes)
            buffers.append(ptr)
            context.set_tensor_address(n, ptr)
            outs[n] = (host, ptr)
        stream = cuda.stream()
        try:
            times = []
            for _ in range(runs + 1):
                t0 = time.perf_counter()
                if not context.execute_async_v3(stream):
                    raise RuntimeError("execute_async_v3 returned False" +
                                       (f" ({'; '.join(dynamic.errors)})" if dynamic.errors else ""))
                cuda.sync(stream)
                times.append(time.perf_counter() - t0)
        finally:
            cuda.destroy_stream(stream)
        for host, ptr in outs.values():
            cuda.d2h(host.ctypes.data, ptr, host.nbytes)
        result = {n: v[0] for n, v in outs.items()}
        for n in dyn_names:
            result[n] = dynamic.fetch(n, np.dtype(trt.nptype(engine.get_tensor_dtype(n))))
        del _host_in
        return result, statistics.median(times[1:]) * 1000, dyn_names
    finally:
        for ptr in buffers:
            cuda.free(ptr)
        dynamic.free()
