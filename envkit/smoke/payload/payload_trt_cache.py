"""Smoke payload, the TensorRT engine cache (runs inside the environment's Python; standard library only).

An engine is cached under a key naming the model, its sha256, the GPU's compute capability and model, the
driver's major version, the TensorRT version, the input shapes and the precision; its ``.json`` sidecar
repeats what the engine must match, and a mismatch or a corrupted file rebuilds it (payload_trt.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from typing import Any


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:limit]


def driver_major(version: str | None) -> str:
    """'580.95.05' -> '580'; unknown -> '' (the key and the sidecar then say so)."""
    m = re.match(r"\s*(\d+)", str(version or ""))
    return m.group(1) if m else ""


def engine_key(name: str, sha256: str, cc: str, trt_version: str, shapes: list[list[int]], precision: str,
               device: str = "", driver: str = "") -> str:
    """<model>-<sha12>-<GPU model>-sm90-drv580-trt10.13.0.35-1x3x224x224-fp16.engine.

    One shape per input, joined by '_'. An engine is specific to the GPU model, not only its SM
    (TensorRT: "Using an engine plan file across different models of devices is not recommended"),
    so an A100 and an A30 (both sm_80) sharing a cache get different keys; and to the driver branch.
    """
    safe = _slug(name, 40) or "model"
    shape = "_".join("x".join(str(d) for d in s) for s in shapes)
    gpu = _slug(device, 32) or "gpu"
    return (f"{safe}-{sha256[:12]}-{gpu}-sm{cc.replace('.', '')}-drv{driver_major(driver) or 'unknown'}-"
            f"trt{trt_version}-{shape}-{precision}.engine")


def cache_expect(trt_version: str, cc: str, sha256: str, precision: str, device: str, driver: str
                 ) -> dict[str, Any]:
    """What a cached engine's sidecar must say to be reused."""
    return {"trt_version": trt_version, "compute_capability": cc, "model_sha256": sha256, "precision": precision,
            "device": device, "driver_major": driver_major(driver)}


def load_cached_engine(path: str, expect: dict[str, Any]) -> tuple[bytes | None, str]:
    """(engine bytes, 'hit') for a valid cached engine; (None, 'miss') or (None, 'rebuilt (reason)') otherwise.

    Valid: the engine file and its ``.json`` sidecar exist, the sidecar's trt_version / compute_capability /
    model sha256 / precision equal ``expect``, and the engine's sha256 equals the sidecar's (a truncated or
    corrupted file is never handed to TensorRT).
    """
    if not os.path.exists(path):
        return None, "miss"
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        with open(path + ".json", encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as exc:
        return None, f"rebuilt (unreadable cache entry: {type(exc).__name__})"
    if not isinstance(meta, dict):
        return None, "rebuilt (bad sidecar)"
    for key, value in expect.items():
        if meta.get(key) != value:
            return None, f"rebuilt ({key} {meta.get(key)} != {value})"
    if not data:
        return None, "rebuilt (empty engine file)"
    if hashlib.sha256(data).hexdigest() != meta.get("engine_sha256"):
        return None, "rebuilt (corrupted: sha256 mismatch)"
    return data, "hit"


def store_engine(path: str, data: bytes, meta: dict[str, Any]) -> None:
    """Write engine and sidecar atomically (temp file + replace)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = {**meta, "engine_sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for target, blob in ((path, data), (path + ".json", json.dumps(meta, indent=1).encode())):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, target)
