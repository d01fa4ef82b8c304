"""envkit smoke payload: run with the ENVIRONMENT's Python, never imported by envkit itself.

    python payload.py --config '{"prefix": ..., "pins": {...}, "model": ..., "shapes": {...}, "cache_dir": ...}'

Imports only the standard library at top level; numpy, onnx, onnxruntime, tensorrt and the CUDA
libraries (through ctypes) are loaded lazily inside the layers. Prints exactly one JSON report on
stdout; everything the libraries print goes to stderr. Siblings ``payload_model.py`` (the ONNX
model, the numpy reference, onnxruntime) and ``payload_trt.py`` (TensorRT, the engine cache) obey
the same rules and are imported from this file's directory, as is ``payload_cuda.py`` (driver,
CUDA runtime, cuDNN through ctypes).
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


# ---------------------------------------------------------------- main


def run(cfg: dict[str, Any]) -> dict[str, Any]:
    cfg.setdefault("pins", {})
    cfg.setdefault("prefix", sys.prefix)
    state: dict[str, Any] = {"driver": {}, "gpu": {}}
    cuda_mod = sibling("payload_cuda")
    layers = [run_layer("python", lambda lay: check_python(lay, cfg)),
              run_layer("driver", lambda lay: cuda_mod.check_driver(lay, cfg, state)),
              run_layer("cuda", lambda lay: cuda_mod.check_cuda(lay, cfg, state)),
              run_layer("cudnn", lambda lay: cuda_mod.check_cudnn(lay, cfg, state))]
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
