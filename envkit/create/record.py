"""What ``envkit create`` writes besides the packages: the lock files, ``conda-meta/envkit.json``, ``conda-meta/history``.

* ``PendingLock``: the lock (``envkit.lock``) and the ``@EXPLICIT`` file are written on a worker thread
  while rattler installs (they depend only on the solved records), to temporary names beside their
  final paths; ``commit()`` renames them into place after the install succeeded (so a failed create
  never leaves a lock that disagrees with the environment), ``discard()`` removes them.
* ``write_record(staging, result, request, ...)``: history, then the record with ``"complete": true``,
  written last and fsync'd (an environment without it is never reported as good).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from envkit import __version__
from envkit.config import redact
from envkit.envs import RECORD
from envkit.fsutil import sha256_file, write_atomic

SCHEMA = "envkit.env/1"
STACK_PACKAGES = {
    "tensorrt": ("tensorrt", "libnvinfer"),
    "cuda": ("cuda-version", "cuda-cudart"),
    "cudnn": ("cudnn",),
    "python": ("python",),
}


def stack_of(records: list[Any]) -> dict[str, str | None]:
    by = {r.name: r.version for r in records}
    stack: dict[str, str | None] = {}
    for key, names in STACK_PACKAGES.items():
        stack[key] = next((by[n] for n in names if n in by), None)
    return stack


def host_summary(request: Any, target: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"target": target.to_json() if target is not None else None, "host_file": request.host_file}
    h = request.machine.host_facts() if request.machine is not None else None
    if h is not None:
        for k in ("driver_version", "cuda_version", "arch", "glibc"):
            out[k] = getattr(h, k, None)
    return out


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.envkit-tmp")


class PendingLock:
    """Lock + explicit file prepared on a worker thread; renamed into place by ``commit``."""

    def __init__(self, records: list[Any], target: Any, channels: list[str], lock_file: Path, explicit_file: Path,
                 *, write_lock: bool) -> None:
        self.lock_file, self.explicit_file = lock_file, explicit_file
        self._write_lock = write_lock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="envkit-lock")
        self._future: Future[str | None] = self._pool.submit(self._prepare, records, target, channels)

    def _prepare(self, records: list[Any], target: Any, channels: list[str]) -> str | None:
        from envkit.engine.lockfile import write_explicit, write_lock

        write_explicit(records, target.platform, _tmp(self.explicit_file))
        if self._write_lock:
            return write_lock(records, target, channels, _tmp(self.lock_file))
        return None

    def commit(self) -> str:
        """Wait for the files, rename them into place; returns the lock's sha256."""
        try:
            lock_hash = self._future.result()
        finally:
            self._pool.shutdown(wait=True)
        if lock_hash is not None:
            os.replace(_tmp(self.lock_file), self.lock_file)
        else:
            lock_hash = sha256_file(self.lock_file)
        os.replace(_tmp(self.explicit_file), self.explicit_file)
        return lock_hash

    def discard(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for p in (self.lock_file, self.explicit_file):
            _tmp(p).unlink(missing_ok=True)


def write_record(staging: Path, result: Any, request: Any, target: Any, *, spec_hash: str, lock_hash: str,
                 install: dict[str, Any], timings: dict[str, float]) -> None:
    """Append to ``conda-meta/history``, then write ``conda-meta/envkit.json`` (complete) into ``staging``."""
    record = {
        "schema": SCHEMA,
        "complete": True,
        "name": result.name,
        "prefix": str(result.prefix),
        "env_file": str(result.env_file),
        "spec_hash": spec_hash,
        "lock_file": str(result.lock_file),
        "lock_hash": lock_hash,
        "stack": result.stack,
        "packages": result.packages,
        "host": host_summary(request, target),
        "machine": result.machine,  # the machine the environment was built for (Machine.to_json)
        "envkit_version": __version__,
        "channels": result.channels,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "locked": request.locked,
        "install": install,
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }
    meta = staging / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    with (meta / "history").open("a", encoding="utf-8") as fh:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        fh.write(f"==> {stamp} <==\n# cmd: envkit create {result.name or ''} (envkit {__version__})\n")
        fh.write(f"# envkit: spec {spec_hash[:12]} lock {lock_hash[:12]}\n")
        for d in result.packages:
            fh.write(f"+{redact(d)}\n")
    write_atomic(meta / RECORD, json.dumps(record, indent=2) + "\n", fsync=True)
