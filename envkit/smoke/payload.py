"""envkit smoke payload: run with the ENVIRONMENT's Python, never imported by envkit itself.

    python payload.py --config '{"prefix": ..., "pins": {...}, "model": ..., "shapes": {...}, "cache_dir": ...}'

Imports only the standard library at top level; numpy, onnx, onnxruntime, tensorrt and the CUDA
libraries (through ctypes) are loaded lazily inside the layers. Prints exactly one JSON report on
stdout; everything the libraries print goes to stderr. Siblings ``payload_model.py`` (the ONNX
model, the numpy reference, onnxruntime) and ``payload_trt.py`` (TensorRT, the engine cache) obey
the same rules and are imported from this file's directory.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import importlib
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

FIX_RECREATE = "rebuild the environment: `envkit create NAME --force`"


def sibling(name: str) -> Any:
    """payload_model / payload_trt: from this directory when run as a script, from the package in tests."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    return importlib.import_module(name)


# ---------------------------------------------------------------- versions (stdlib only)


def vtuple(text: str | None) -> tuple[int, ...]:
    """'12.4' -> (12, 4); '10.13.0.35' -> (10, 13, 0, 35); junk -> ()."""
    nums = re.findall(r"\d+", str(text or "").split("+")[0])
    return tuple(int(n) for n in nums)


def compare_pin(found: str | None, pin: str | None) -> str:
    """'ok', 'minor' (same major, other components differ) or 'major', over the components the pin names."""
    if not pin or not found:
        return "ok"
    f, p = vtuple(found), vtuple(pin)
    if not f or not p:
        return "ok"
    if f[0] != p[0]:
        return "major"
    return "ok" if f[: len(p)] == p else "minor"


def cuda_int_version(v: int) -> str:
    """CUDA's integer versions: 12040 -> '12.4', 13000 -> '13.0'."""
    return f"{v // 1000}.{(v % 1000) // 10}"


# ---------------------------------------------------------------- layers


class Layer:
    """One layer's record; ``fail``/``skip`` keep the first verdict given."""

    def __init__(self, name: str) -> None:
        self.data: dict[str, Any] = {
            "name": name, "status": "pass", "reason": "", "seconds": 0.0, "versions": {},
            "diagnosis": None, "fix": None, "warnings": [],
        }

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def fail(self, reason: str, diagnosis: str, fix: str) -> None:
        if self.data["status"] != "fail":
            self.data.update(status="fail", reason=reason, diagnosis=diagnosis, fix=fix)

    def skip(self, reason: str) -> None:
        if self.data["status"] == "pass":
            self.data.update(status="skip", reason=reason)

    def warn(self, text: str) -> None:
        self.data["warnings"].append(text)


def run_layer(name: str, fn: Callable[[Layer], None]) -> Layer:
    layer = Layer(name)
    t0 = time.perf_counter()
    try:
        fn(layer)
    except Exception as exc:  # a layer never takes the payload down
        tb = traceback.format_exc(limit=6)
        sys.stderr.write(tb)
        layer.fail(f"{type(exc).__name__}: {exc}", f"the {name} check raised unexpectedly: {tb.strip()[-600:]}",
                   "report this with the JSON output; meanwhile " + FIX_RECREATE)
    layer["seconds"] = round(time.perf_counter() - t0, 4)
    return layer


def loaded_libraries(pattern: str) -> list[str]:
    """Paths of shared objects mapped into this process whose file name contains ``pattern`` (/proc/self/maps)."""
    found: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) == 6 and pattern in os.path.basename(parts[5].strip()):
                    path = parts[5].strip()
                    if path not in found:
                        found.append(path)
    except OSError:
        pass
    return found


def ldconfig_paths(stem: str) -> list[str]:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        try:
            out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, timeout=10,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return []
    return [line.split("=>")[-1].strip() for line in out.splitlines() if stem in line and "=>" in line]


def library_candidates(prefix: str, stem: str, sonames: list[str], env_subdirs: list[str]) -> list[tuple[str, str]]:
    """(path, origin) candidates for a library: the environment's dirs first, then the system's."""
    env_dirs = [os.path.join(prefix, "lib"), os.path.join(prefix, "lib64"),
                os.path.join(prefix, "targets", "x86_64-linux", "lib")]
    for sub in env_subdirs:
        env_dirs += glob.glob(os.path.join(prefix, "lib", "python*", "site-packages", sub))
    out: list[tuple[str, str]] = []
    for d in env_dirs:
        for so in sonames:
            p = os.path.join(d, so)
            if os.path.exists(p):
                out.append((p, "environment"))
    system: list[str] = []
    for so in sonames:
        system += [p for p in ldconfig_paths(stem) if os.path.basename(p) == so]
    found = ctypes.util.find_library(stem[3:] if stem.startswith("lib") else stem)
    if found and os.path.basename(found) in sonames:
        system.append(found)
    for d in ("/usr/local/cuda/lib64", "/usr/local/cuda/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"):
        system += [os.path.join(d, so) for so in sonames if os.path.exists(os.path.join(d, so))]
    for p in system:
        if all(p != c for c, _ in out):
            out.append((p, "system"))
    return out


def load_first(cands: list[tuple[str, str]], stem: str) -> tuple[Any, str, str, list[str]]:
    """Load the first candidate that loads; (lib, loaded path per /proc/self/maps, origin, errors)."""
    errors: list[str] = []
    for path, origin in cands:
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
            continue
        mapped = loaded_libraries(stem)
        real = os.path.realpath(path)
        where = next((m for m in mapped if os.path.realpath(m) == real), mapped[0] if mapped else real)
        return lib, where, origin, errors
    return None, "", "", errors


# ---------------------------------------------------------------- python


def check_python(layer: Layer, cfg: dict[str, Any]) -> None:
    ver = platform.python_version()
    layer["versions"]["python"] = ver
    layer["executable"] = sys.executable
    for mod in ("numpy", "onnx", "onnxruntime"):
        try:
            m = importlib.import_module(mod)
            layer["versions"][mod] = str(getattr(m, "__version__", "?"))
        except Exception as exc:
            layer["versions"][mod] = None
            layer.warn(f"{mod} not importable: {type(exc).__name__}: {exc}")
    pin = cfg["pins"].get("python")
    if compare_pin(ver, pin) != "ok":
        layer.fail(f"python {ver} but pinned {pin}",
                   f"the environment's interpreter {sys.executable} is Python {ver}, the stack pins python {pin}",
                   FIX_RECREATE)
    else:
        layer["reason"] = f"Python {ver} at {sys.executable}"


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
    layer["library"] = (loaded_libraries("libcuda.so") or ["libcuda.so.1"])[0]
    v = ctypes.c_int(0)
    if cuda.cuDriverGetVersion(ctypes.byref(v)) == 0:
        layer["versions"]["cuda_driver_api"] = cuda_int_version(v.value)
        state["driver_cuda"] = cuda_int_version(v.value)
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
    if pin and drv and vtuple(drv)[:2] < vtuple(pin)[:2]:
        if vtuple(drv)[0] < vtuple(pin)[0]:
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
    want = vtuple(pin)[:1]
    sonames = [f"libcudart.so.{want[0]}"] if want else ["libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0",
                                                          "libcudart.so"]
    cands = library_candidates(cfg["prefix"], "libcudart", sonames, ["nvidia/cuda_runtime/lib"])
    lib, path, origin, errors = load_first(cands, "libcudart")
    if lib is None:
        searched = f"{cfg['prefix']}/lib, its site-packages/nvidia/cuda_runtime/lib and the system (ldconfig)"
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
    runtime = cuda_int_version(v.value)
    layer["versions"]["cudart"] = runtime
    state["cudart"] = runtime
    verdict = compare_pin(runtime, ".".join(str(x) for x in vtuple(pin)[:2]) if pin else None)
    if verdict == "major":
        layer.fail(f"libcudart {runtime} but pinned CUDA {pin}",
                   f"{path} is CUDA runtime {runtime} while the environment pins CUDA {pin}: a stray libcudart "
                   "(LD_LIBRARY_PATH or the system) shadows the environment's", FIX_RECREATE)
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
    want = vtuple(pin)[:1]
    sonames = [f"libcudnn.so.{want[0]}"] if want else ["libcudnn.so.9", "libcudnn.so.8"]
    cands = library_candidates(cfg["prefix"], "libcudnn.so", sonames, ["nvidia/cudnn/lib"])
    if not cands and not pin:
        layer.skip("cuDNN is not part of this stack (no pin, no libcudnn found)")
        return
    lib, path, origin, errors = load_first(cands, "libcudnn.so")
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
        layer["versions"]["cudnn_cudart"] = cuda_int_version(int(lib.cudnnGetCudartVersion()))
    except AttributeError:
        pass
    verdict = compare_pin(version, pin)
    if verdict == "major":
        layer.fail(f"cuDNN {version} but pinned {pin}",
                   f"{path} is cuDNN {version}, the stack pins cudnn {pin}: a stray libcudnn shadows the "
                   "environment's (check LD_LIBRARY_PATH)",
                   "remove the other cuDNN from LD_LIBRARY_PATH, or " + FIX_RECREATE)
        return
    if verdict == "minor":
        layer.warn(f"cuDNN {version} differs from pinned {pin}")
    cudart = state.get("cudart")
    built = layer["versions"].get("cudnn_cudart")
    if cudart and built and vtuple(cudart)[0] != vtuple(built)[0]:
        layer.warn(f"cuDNN {version} was built for CUDA {built}, the loaded CUDA runtime is {cudart}")
    layer["reason"] = f"cuDNN {version} from {path} ({origin})"


# ---------------------------------------------------------------- main


def run(cfg: dict[str, Any]) -> dict[str, Any]:
    cfg.setdefault("pins", {})
    cfg.setdefault("prefix", sys.prefix)
    state: dict[str, Any] = {"driver": {}, "gpu": {}}
    layers = [run_layer("python", lambda lay: check_python(lay, cfg)),
              run_layer("driver", lambda lay: check_driver(lay, cfg, state)),
              run_layer("cuda", lambda lay: check_cuda(lay, cfg, state)),
              run_layer("cudnn", lambda lay: check_cudnn(lay, cfg, state))]
    try:
        model_mod = sibling("payload_model")
        prepared = model_mod.prepare(cfg)
    except Exception as exc:  # numpy/onnx missing is reported by the layers below
        prepared = {"error": f"{type(exc).__name__}: {exc}", "missing": True}
        model_mod = None
    state["model"] = prepared
    layers.append(run_layer("onnxruntime", lambda lay: _ort(lay, model_mod, cfg, state)))
    layers.append(run_layer("tensorrt", lambda lay: sibling("payload_trt").check_tensorrt(lay, cfg, state)))
    order = {"python": 0, "driver": 1, "cuda": 2, "cudnn": 3, "tensorrt": 4, "onnxruntime": 5}
    layers.sort(key=lambda lay: order.get(str(lay["name"]), 9))
    model_info = {k: v for k, v in prepared.items() if k not in ("bytes", "bytes_fp16", "inputs", "proto", "feeds")}
    return {"layers": [lay.data for lay in layers], "driver": state["driver"], "gpu": state["gpu"],
            "model": model_info,
            "platform": {"python": platform.python_version(), "machine": platform.machine(),
                         "system": platform.system(), "release": platform.release(),
                         "ld_library_path": os.environ.get("LD_LIBRARY_PATH", "")}}


def _ort(layer: Layer, model_mod: Any, cfg: dict[str, Any], state: dict[str, Any]) -> None:
    if model_mod is None:
        layer["importable"] = False
        layer.skip(f"numpy/onnx not importable: {state['model']['error']}")
        return
    model_mod.check_onnxruntime(layer, cfg, state)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="envkit smoke payload")
    ap.add_argument("--config", default="{}", help="JSON: prefix, pins, model, shapes, cache_dir")
    args = ap.parse_args(argv)
    out = os.dup(1)
    os.dup2(2, 1)  # whatever the libraries print goes to stderr; the report alone goes to the real stdout
    sys.stdout = sys.stderr
    try:
        report = run(json.loads(args.config))
    finally:
        sys.stdout = sys.__stdout__
    with os.fdopen(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(report, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
