"""What ``envkit create`` writes besides the packages, and when: the lock files and ``conda-meta/history``.

* ``PendingLock``: the lock (``envkit.lock``) and the ``@EXPLICIT`` file are written on a worker thread
  while rattler installs (they depend only on the solved records), to temporary names beside their
  final paths; ``commit()`` renames them into place after the install succeeded (so a failed create
  never leaves a lock that disagrees with the environment), ``discard()`` removes them.
* ``append_history``: conda's ``conda-meta/history`` entry for the build.

The record (``conda-meta/envkit.json``) itself is ``envkit.create.record``.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from envkit import __version__
from envkit.config import redact
from envkit.fsutil import sha256_file


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


def append_history(prefix: Path, name: str | None, packages: list[str], spec_hash: str, lock_hash: str) -> None:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    with (meta / "history").open("a", encoding="utf-8") as fh:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        fh.write(f"==> {stamp} <==\n# cmd: envkit create {name or ''} (envkit {__version__})\n")
        fh.write(f"# envkit: spec {spec_hash[:12]} lock {lock_hash[:12]}\n")
        for d in packages:
            fh.write(f"+{redact(d)}\n")
