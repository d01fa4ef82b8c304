"""Smoke payload, part 2: the driver, CUDA runtime and cuDNN layers, through ctypes only.

Runs inside the environment's Python (see payload.py): standard library only. ``CudaRuntime`` is
also what the TensorRT layer uses for device memory and streams (no pycuda / cuda-python needed).
"""

from __future__ import annotations

import ctypes
import importlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envkit.smoke.payload import payload as P
    from envkit.smoke.payload.payload import Layer
else:  # run as a script: payload.py's directory is on sys.path
    P = importlib.import_module(f"{__package__}.payload" if __package__ else "payload")

# ---------------------------------------------------------------- driver

NO_DRIVER_FIX = ("install the NVIDIA driver (or run on a GPU machine); in a container, start it with the NVIDIA "
                 "container toolkit (`--gpus all`) so libcuda.so.1 is mounted")


def _cu_error(cuda: Any, rc: int) -> str:
    name = ctypes.c_char_p()
    try:
        cuda.cuGetErrorName(rc, ctypes.byref(name))
        return f"{(name.value or b'').decode()} ({rc})"
    except Exception:
        return f"CUresult {rc}"


def check_driver(layer: Layer, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        layer.fail("no driver: libcuda.so.1 not found",
                   f"no NVIDIA driver on this machine: libcuda.so.1 cannot be loaded ({exc})", NO_DRIVER_FIX)
        return
    layer["library"] = (P.loaded_libraries("libcuda.so") or ["libcuda.so.1"])[0]
    v = ctypes.c_int(0)
    if cuda.cuDriverGetVersion(ctypes.byref(v)) == 0:
        layer["versions"]["cuda_driver_api"] = P.cuda_int_version(v.value)
        state["driver_cuda"] = P.cuda_int_version(v.value)
    nvml_version = _nvml_driver_version()
    if nvml_version:
        layer["versions"]["driver"] = nvml_version
        state["driver"]["version"] = nvml_version
    state["driver"]["cuda"] = state.get("driver_cuda")
    rc = cuda.cuInit(0)
    if rc != 0:
        layer.fail(f"cuInit failed: {_cu_error(cuda, rc)}",
                   f"the driver is installed but cuInit returned {_cu_error(cuda, rc)}: no usable GPU (no device "
                   "visible, CUDA_VISIBLE_DEVICES hides it, or driver and kernel module versions differ)",
                   "check `nvidia-smi`; reboot after a driver upgrade; check CUDA_VISIBLE_DEVICES")
        return
    count = ctypes.c_int(0)
    cuda.cuDeviceGetCount(ctypes.byref(count))
    state["gpu"]["count"] = count.value
    if count.value > 0:
        dev = ctypes.c_int(0)
        cuda.cuDeviceGet(ctypes.byref(dev), 0)
        name = ctypes.create_string_buffer(256)
        cuda.cuDeviceGetName(name, 256, dev)
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, dev)  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)
        mem = ctypes.c_size_t(0)
        cuda.cuDeviceTotalMem_v2(ctypes.byref(mem), dev)
        state["gpu"].update(name=name.value.decode(errors="replace"), compute_capability=f"{major.value}.{minor.value}",
                            memory_mib=mem.value // (1024 * 1024))
    pin = cfg["pins"].get("cuda")
    drv = state.get("driver_cuda")
    if pin and drv and P.vtuple(drv)[:2] < P.vtuple(pin)[:2]:
        if P.vtuple(drv)[0] < P.vtuple(pin)[0]:
            layer.fail(f"driver supports CUDA {drv}, environment pins CUDA {pin}",
                       f"the driver ({nvml_version or '?'}) supports CUDA up to {drv}; CUDA {pin} needs a newer "
                       "major driver branch",
                       f"upgrade the NVIDIA driver to one supporting CUDA {pin}, or create the environment for "
                       f"CUDA {drv} or older")
            return
        layer.warn(f"driver supports CUDA {drv} < pinned {pin}: runs through minor-version compatibility "
                   "(no PTX JIT of newer code)")
    layer["reason"] = f"driver {nvml_version or '?'} (CUDA {drv}), {count.value} GPU(s)"


def _nvml_driver_version() -> str | None:
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
        if nvml.nvmlInit_v2() != 0:
            return None
        buf = ctypes.create_string_buffer(96)
        rc = nvml.nvmlSystemGetDriverVersion(buf, 96)
        nvml.nvmlShutdown()
        return buf.value.decode() if rc == 0 else None
    except (OSError, AttributeError):
        return None


# ---------------------------------------------------------------- CUDA runtime


class CudaRuntime:
    """The few libcudart calls the smoke test needs (device memory and streams for TensorRT I/O)."""

    H2D, D2H = 1, 2

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        lib.cudaGetErrorString.restype = ctypes.c_char_p

    def error(self, rc: int) -> str:
        return f"{(self.lib.cudaGetErrorString(rc) or b'?').decode()} ({rc})"

    def check(self, rc: int, what: str) -> None:
        if rc != 0:
            raise RuntimeError(f"{what} failed: {self.error(rc)}")

    def malloc(self, nbytes: int) -> int:
        ptr = ctypes.c_void_p()
        self.check(self.lib.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(max(nbytes, 1))), "cudaMalloc")
        return int(ptr.value or 0)

    def free(self, ptr: int) -> None:
        self.lib.cudaFree(ctypes.c_void_p(ptr))

    def h2d(self, dst: int, src: int, nbytes: int) -> None:
        self.check(self.lib.cudaMemcpy(ctypes.c_void_p(dst), ctypes.c_void_p(src), ctypes.c_size_t(nbytes), self.H2D),
                   "cudaMemcpy H2D")

    def d2h(self, dst: int, src: int, nbytes: int) -> None:
        self.check(self.lib.cudaMemcpy(ctypes.c_void_p(dst), ctypes.c_void_p(src), ctypes.c_size_t(nbytes), self.D2H),
                   "cudaMemcpy D2H")

    def stream(self) -> int:
        s = ctypes.c_void_p()
        self.check(self.lib.cudaStreamCreate(ctypes.byref(s)), "cudaStreamCreate")
        return int(s.value or 0)

    def sync(self, stream: int) -> None:
        self.check(self.lib.cudaStreamSynchronize(ctypes.c_void_p(stream)), "cudaStreamSynchronize")

    def destroy_stream(self, stream: int) -> None:
        self.lib.cudaStreamDestroy(ctypes.c_void_p(stream))


def check_cuda(layer: Layer, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    pin = cfg["pins"].get("cuda")
    want = P.vtuple(pin)[:1]
    sonames = [f"libcudart.so.{want[0]}"] if want else ["libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0",
                                                          "libcudart.so"]
    # pip wheels: nvidia-cuda-runtime-cu12 installs nvidia/cuda_runtime/lib; the CUDA 13 wheel
    # (nvidia-cuda-runtime 13.x) installs nvidia/cu13/lib (seen on the GPU machine, docs/gpu-validation.md)
    cands = P.library_candidates(cfg["prefix"], "libcudart", sonames, ["nvidia/cuda_runtime/lib", "nvidia/cu[0-9]*/lib"])
    lib, path, origin, errors = P.load_first(cands, "libcudart")
    if lib is None:
        searched = f"{cfg['prefix']}/lib, its site-packages/nvidia/{{cuda_runtime,cu13}}/lib and the system (ldconfig)"
        layer.fail(f"{sonames[0]} not found",
                   f"{' or '.join(sonames)} not found in {searched}"
                   + (f"; load errors: {'; '.join(errors)}" if errors else "")
                   + ": the environment lacks cuda-cudart" + (f" {pin}" if pin else ""),
                   f"run `envkit create NAME --force` (the cuda-cudart{f' {pin}' if pin else ''} package provides it)")
        return
    layer["library"], layer["origin"] = path, origin
    if origin == "system" and pin:
        layer.warn(f"the environment has no libcudart of its own; loaded the system's {path}")
    rt = CudaRuntime(lib)
    v = ctypes.c_int(0)
    rt.check(lib.cudaRuntimeGetVersion(ctypes.byref(v)), "cudaRuntimeGetVersion")
    runtime = P.cuda_int_version(v.value)
    layer["versions"]["cudart"] = runtime
    state["cudart"] = runtime
    verdict = P.compare_pin(runtime, ".".join(str(x) for x in P.vtuple(pin)[:2]) if pin else None)
    if verdict == "major":
        layer.fail(f"libcudart {runtime} but pinned CUDA {pin}",
                   f"{path} is CUDA runtime {runtime} while the environment pins CUDA {pin}: a stray libcudart "
                   "(LD_LIBRARY_PATH or the system) shadows the environment's", P.FIX_RECREATE)
        return
    if verdict == "minor":
        layer.warn(f"CUDA runtime {runtime} differs from pinned {pin} in the minor version")
    n = ctypes.c_int(0)
    rc = lib.cudaGetDeviceCount(ctypes.byref(n))
    if rc != 0:
        no_driver = rc in (35, 100, 999)  # insufficient driver, no device, unknown
        layer.fail(f"cudaGetDeviceCount: {rt.error(rc)}",
                   (f"no driver / no GPU: the CUDA runtime {runtime} ({path}) loads, but "
                    if no_driver else f"the CUDA runtime {runtime} ({path}) loads, but ")
                   + f"cudaGetDeviceCount returned {rt.error(rc)}",
                   NO_DRIVER_FIX if no_driver else "check `nvidia-smi` and that the driver supports CUDA " + runtime)
        return
    layer["devices"] = n.value
    if n.value == 0:
        layer.fail("no CUDA device", "cudaGetDeviceCount found 0 devices", NO_DRIVER_FIX)
        return
    layer["roundtrip"] = memory_roundtrip(rt)
    if not layer["roundtrip"]["ok"]:
        layer.fail("device memory round trip returned different bytes",
                   "cudaMemcpy host->device->host did not return the bytes written: a broken GPU or driver",
                   "check `nvidia-smi -q` for ECC/Xid errors and reboot")
        return
    state["cuda"] = rt
    rtp = layer["roundtrip"]
    layer["reason"] = (f"CUDA runtime {runtime} from {path} ({origin}); {n.value} device(s); "
                       f"{rtp['bytes'] // (1 << 20)} MiB round trip ok")


def memory_roundtrip(rt: CudaRuntime, nbytes: int = 16 << 20) -> dict[str, Any]:
    pattern = bytes(range(256)) * (nbytes // 256)
    src = ctypes.create_string_buffer(pattern, nbytes)
    dst = ctypes.create_string_buffer(nbytes)
    ptr = rt.malloc(nbytes)
    try:
        t0 = time.perf_counter()
        rt.h2d(ptr, ctypes.addressof(src), nbytes)
        t1 = time.perf_counter()
        rt.d2h(ctypes.addressof(dst), ptr, nbytes)
        t2 = time.perf_counter()
    finally:
        rt.free(ptr)
    return {"bytes": nbytes, "ok": dst.raw == pattern, "h2d_gbps": round(nbytes / max(t1 - t0, 1e-9) / 1e9, 2),
            "d2h_gbps": round(nbytes / max(t2 - t1, 1e-9) / 1e9, 2)}


# ---------------------------------------------------------------- cuDNN


def cudnn_version_string(v: int) -> str:
    """cudnnGetVersion: 8907 -> '8.9.7' (8.x: M*1000+m*100+p); 90100 -> '9.1.0' (9.x: M*10000+m*100+p)."""
    if v >= 90000:
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"


def check_cudnn(layer: Layer, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    pin = cfg["pins"].get("cudnn")
    want = P.vtuple(pin)[:1]
    sonames = [f"libcudnn.so.{want[0]}"] if want else ["libcudnn.so.9", "libcudnn.so.8"]
    cands = P.library_candidates(cfg["prefix"], "libcudnn.so", sonames, ["nvidia/cudnn/lib"])
    if not cands and not pin:
        layer.skip("cuDNN is not part of this stack (no pin, no libcudnn found)")
        return
    lib, path, origin, errors = P.load_first(cands, "libcudnn.so")
    if lib is None:
        layer.fail(f"{sonames[0]} not found" if not errors else f"{sonames[0]} failed to load",
                   f"{' or '.join(sonames)} not loadable from {cfg['prefix']}/lib or the system"
                   + (f": {'; '.join(errors)}" if errors else "") + f" (the stack pins cudnn {pin})",
                   f"run `envkit create NAME --force` (the cudnn {pin} package provides it)")
        return
    lib.cudnnGetVersion.restype = ctypes.c_size_t
    version = cudnn_version_string(int(lib.cudnnGetVersion()))
    layer["library"], layer["origin"] = path, origin
    layer["versions"]["cudnn"] = version
    try:
        lib.cudnnGetCudartVersion.restype = ctypes.c_size_t
        layer["versions"]["cudnn_cudart"] = P.cuda_int_version(int(lib.cudnnGetCudartVersion()))
    except AttributeError:
        pass
    verdict = P.compare_pin(version, pin)
    if verdict == "major":
        layer.fail(f"cuDNN {version} but pinned {pin}",
                   f"{path} is cuDNN {version}, the stack pins cudnn {pin}: a stray libcudnn shadows the "
                   "environment's (check LD_LIBRARY_PATH)",
                   "remove the other cuDNN from LD_LIBRARY_PATH, or " + P.FIX_RECREATE)
        return
    if verdict == "minor":
        layer.warn(f"cuDNN {version} differs from pinned {pin}")
    cudart = state.get("cudart")
    built = layer["versions"].get("cudnn_cudart")
    if cudart and built and P.vtuple(cudart)[0] != P.vtuple(built)[0]:
        layer.warn(f"cuDNN {version} was built for CUDA {built}, the loaded CUDA runtime is {cudart}")
    layer["reason"] = f"cuDNN {version} from {path} ({origin})"
