"""envkit libs --live payload: run with the ENVIRONMENT's Python, never imported by envkit itself.

    python payload_libs.py --info
    python payload_libs.py --probes '{"probes": [{"id": ..., "preload": ["tensorrt_libs"], "load": "libcudart.so.12"}]}'

Standard library only. ``--info`` says what envkit's static model needs to know about this
interpreter (its real executable, the ``_ctypes`` module that calls dlopen, site-packages, what is
mapped at start). ``--probes`` runs each probe in a forked child: import the preload modules, then
``ctypes.CDLL(load)`` (a soname or a path), then read ``/proc/self/maps``; it reports the files the
probe added to the process and the loader's error, if any. One JSON document on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import select
import signal
import sys
import sysconfig
import time
from typing import Any

PROBE_TIMEOUT = 60.0
MAX_PROBES = 400


def mapped_files() -> list[str]:
    """Files mapped into this process (device nodes aside), in first-mapped order (/proc/self/maps)."""
    out: list[str] = []
    seen: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].strip()
                if (path.startswith("/") and not path.startswith("/dev/") and not path.endswith("(deleted)")
                        and path not in seen):
                    seen.add(path)
                    out.append(path)
    except OSError:
        pass
    return out


def info() -> dict[str, Any]:
    try:
        import _ctypes

        ctypes_file = getattr(_ctypes, "__file__", None)
    except ImportError:
        ctypes_file = None
    paths = sysconfig.get_paths()
    return {"executable": sys.executable, "exe_real": os.path.realpath("/proc/self/exe"),
            "ctypes_file": ctypes_file, "purelib": paths.get("purelib"), "platlib": paths.get("platlib"),
            "stdlib": paths.get("stdlib"), "platstdlib": paths.get("platstdlib"), "prefix": sys.prefix,
            "base_prefix": sys.base_prefix, "version": sys.version.split()[0],
            "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""), "mapped": mapped_files()}


def _child(probe: dict[str, Any]) -> dict[str, Any]:
    import ctypes

    before = set(mapped_files())
    result: dict[str, Any] = {"id": probe.get("id"), "preload_errors": [], "error": None}
    for module in probe.get("preload") or []:
        try:
            importlib.import_module(module)
        except Exception as exc:
            result["preload_errors"].append(f"{module}: {type(exc).__name__}: {exc}")
    try:
        ctypes.CDLL(probe["load"])
    except OSError as exc:
        result["error"] = str(exc)
    result["added"] = [p for p in mapped_files() if p not in before]
    return result


def run_probe(probe: dict[str, Any], timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """One probe in a forked child (a fresh link map each time), its result through a pipe."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rfd)
        try:
            data = json.dumps(_child(probe)).encode()
        except BaseException as exc:  # report, whatever happened
            data = json.dumps({"id": probe.get("id"), "error": f"probe crashed: {exc!r}", "added": []}).encode()
        with os.fdopen(wfd, "wb") as fh:
            fh.write(data)
        os._exit(0)
    os.close(wfd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    with os.fdopen(rfd, "rb") as fh:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([fh], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"id": probe.get("id"), "error": f"probe timed out after {timeout:g}s", "added": []}
            chunk = os.read(fh.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"id": probe.get("id"), "error": f"probe died (wait status {status})", "added": []}
    out: dict[str, Any] = json.loads(b"".join(chunks))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="envkit libs --live payload")
    ap.add_argument("--info", action="store_true")
    ap.add_argument("--probes", default=None, help="JSON: {probes: [{id, preload, load}]}")
    args = ap.parse_args(argv)
    report: dict[str, Any] = {"info": info()}
    if args.probes:
        probes = json.loads(args.probes).get("probes") or []
        report["probes"] = [run_probe(p) for p in probes[:MAX_PROBES]]
    out = os.dup(1)
    with os.fdopen(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
