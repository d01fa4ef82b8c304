"""Package-cache integrity: stamps of extracted cache entries and their verification.

rattler trusts an extracted package directory in its cache once it was validated; a file changed
afterwards (for instance edited in place through a hardlink in some environment) would be linked
into every new environment. envkit keeps a stamp per cache entry (``<cache>/envkit-verified/<dist>.json``:
size, mtime, inode and ctime of every file, taken right after rattler extracted and validated it, and again
after the install linked it: a hard link changes a file's ctime, and so does any write, even one that puts the
size and mtime back with ``touch -r``).

* ``verify_cache(records, cache_dir)`` runs before an install, on the entries about to be linked: an
  entry whose stamped files still match costs one ``lstat`` per stamped file (no directory walk); an
  entry without a stamp (extracted by another tool) is checked against the sha256 of every file in its
  ``info/paths.json`` and stamped. Corrupted entries are deleted so that rattler fetches them again.
  Files added to an entry after it was stamped are ignored: rattler links only what ``paths.json``
  lists, and ``paths.json`` itself is stamped.
* ``VerifyAhead`` runs ``verify_cache`` on the packages of the environment's previous lock while the
  solve runs (the solve is rattler work outside the GIL), so a re-solve to the same packages has its
  cache already checked.
* ``CacheStamper`` stamps the entries an install extracts *while the install runs* (the installer's
  reporter calls ``package_ready`` as soon as rattler has populated an entry), on one worker thread;
  ``finish()`` stamps whatever is left and waits.

A stamp is written to a per-process temporary name and renamed into place; a torn or foreign stamp
does not parse and only costs a sha256 check next time.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from envkit.engine.types import Record
from envkit.fsutil import sha256_file

STAMPS = "envkit-verified"


def verify_cache(
    records: Sequence[Record],
    cache_dir: Path,
    *,
    skip: Collection[tuple[str, str | None]] = (),
    verified: set[tuple[str, str | None]] | None = None,
) -> list[str]:
    """Drop package-cache entries whose extracted files no longer match the package (returns their dists).

    ``skip``: ``(dist, sha256)`` pairs already verified (by ``VerifyAhead``); ``verified`` collects the
    pairs this call found intact.
    """
    dropped: list[str] = []
    pkgs = os.path.join(cache_dir, "pkgs")
    stamps = os.path.join(cache_dir, STAMPS)
    for r in records:
        if (r.dist, r.sha256) in skip:
            continue
        d = os.path.join(pkgs, r.dist)
        if not os.path.isdir(d):
            continue
        stamp_file = os.path.join(stamps, f"{r.dist}.json")
        stamp = _read_stamp(stamp_file, r)
        fast = stamp is not None and _matches_stamp(d, stamp)
        ok = fast or _hash_check(Path(d))  # a changed ctime (another install's link, or an edit): sha256 decides
        if not ok:
            shutil.rmtree(d, ignore_errors=True)
            for ext in (".conda", ".tar.bz2"):
                Path(f"{d}{ext}").unlink(missing_ok=True)
            Path(stamp_file).unlink(missing_ok=True)
            dropped.append(r.dist)
        else:
            if not fast:
                _write_stamp(cache_dir, r)
            if verified is not None:
                verified.add((r.dist, r.sha256))
    return dropped


def verify_for_install(
    records: Sequence[Record], cache_dir: Path, ahead: VerifyAhead | None = None
) -> tuple[set[tuple[str, str | None]], list[str], list[str]]:
    """Check the cache entries about to be linked, skipping those ``ahead`` verified during the solve.

    Returns (``(dist, sha256)`` of the entries found intact and stamped, dropped entries among
    ``records``, dropped entries of the previous lock that this install does not need).
    """
    wanted = {r.dist for r in records}
    verified: set[tuple[str, str | None]] = set()
    dropped: list[str] = []
    others: list[str] = []
    if ahead is not None:
        ahead.wait()
        verified |= ahead.verified
        dropped = [d for d in ahead.dropped if d in wanted]
        others = [d for d in ahead.dropped if d not in wanted]
    dropped += verify_cache(records, cache_dir, skip=verified, verified=verified)
    return verified, dropped, others


class VerifyAhead:
    """Verify the cache entries of the environment's previous lock on a worker thread while the solve runs.

    A re-solve almost always picks the locked packages again; those found intact here are not checked
    a second time (``verify_cache(..., skip=ahead.verified)``), the rest are checked after the solve.
    """

    def __init__(self, lock_file: Path, cache_dir: Path) -> None:
        self.verified: set[tuple[str, str | None]] = set()
        self.dropped: list[str] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="envkit-verify")
        self._future = self._pool.submit(self._run, lock_file, cache_dir)

    def _run(self, lock_file: Path, cache_dir: Path) -> None:
        from envkit.engine.lockfile import read_lock

        records = read_lock(lock_file).records
        self.dropped = verify_cache(records, cache_dir, verified=self.verified)

    def wait(self) -> VerifyAhead:
        """Wait for the worker; an unreadable lock just means nothing was verified ahead."""
        try:
            self._future.result()
        except Exception:
            self.verified.clear()
        finally:
            self._pool.shutdown(wait=True)
        return self


def stamp_cache(records: Sequence[Record], cache_dir: Path) -> None:
    """Stamp the extracted cache entries of ``records`` that have none yet (synchronously)."""
    for r in records:
        stamp_entry(cache_dir, r)


def stamp_entry(cache_dir: Path, r: Record) -> bool:
    """Stamp one entry if it is extracted and not stamped yet; True if a stamp was written."""
    if os.path.exists(_stamp_path(cache_dir, r)) or not os.path.isdir(os.path.join(cache_dir, "pkgs", r.dist)):
        return False
    return _write_stamp(cache_dir, r)


class CacheStamper:
    """Stamps freshly extracted cache entries on a worker thread, concurrently with the install."""

    def __init__(self, records: Sequence[Record], cache_dir: Path,
                 stamped: Collection[tuple[str, str | None]] | None = None) -> None:
        """``stamped``: ``(dist, sha256)`` of entries known to carry a valid stamp (``verify_cache``'s
        ``verified``); without it, each record's stamp file is looked for."""
        self.cache_dir = cache_dir
        self.records = list(records)
        if stamped is None:
            self._todo = {r.name: r for r in records if not os.path.exists(_stamp_path(cache_dir, r))}
        else:
            self._todo = {r.name: r for r in records if (r.dist, r.sha256) not in stamped}
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[bool]] = []

    @property
    def needed(self) -> bool:
        """Are there entries left to stamp (False on a warm cache: no install callbacks needed)?"""
        return bool(self._todo)

    def package_ready(self, name: str) -> None:
        """rattler has extracted and validated ``name``'s cache entry (called from installer threads)."""
        r = self._todo.pop(name, None)
        if r is None:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="envkit-stamp")
        self._futures.append(self._pool.submit(stamp_entry, self.cache_dir, r))

    def finish(self) -> None:
        """Stamp whatever the install did not report, wait for all stamps, then stamp every entry again: the
        install's hard links changed the files' ctimes, and the next create must find them matching."""
        for name in list(self._todo):
            self.package_ready(name)
        self.close()
        for r in self.records:
            if os.path.isdir(os.path.join(self.cache_dir, "pkgs", r.dist)):
                _write_stamp(self.cache_dir, r)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for f in self._futures:
            if f.done() and not f.cancelled():
                f.exception()  # a failed stamp only means a sha256 check next time
        self._futures.clear()


def _stamp_path(cache_dir: Path | str, r: Record) -> str:
    return os.path.join(cache_dir, STAMPS, f"{r.dist}.json")


def _scan(d: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    cut = len(d) + 1
    stack = [d]
    while stack:
        top = stack.pop()
        try:
            it = os.scandir(top)
        except OSError:
            continue
        with it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                out[e.path[cut:]] = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
    return out


def _write_stamp(cache_dir: Path | str, r: Record) -> bool:
    p = _stamp_path(cache_dir, r)
    data = json.dumps({"sha256": r.sha256, "files": _scan(os.path.join(cache_dir, "pkgs", r.dist))})
    tmp = f"{p}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
    return True


def _read_stamp(path: str, r: Record) -> dict[str, list[int]] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("sha256") != r.sha256 or not isinstance(data.get("files"), dict):
        return None
    files: dict[str, list[int]] = data["files"]
    return files


def _matches_stamp(d: str, stamp: dict[str, list[int]]) -> bool:
    """Every stamped file still has its stamped size, mtime, inode and ctime (one lstat each)."""
    if not stamp:
        return False
    lstat = os.lstat
    base = d + os.sep
    for rel, want in stamp.items():
        try:
            st = lstat(base + rel)
        except OSError:
            return False
        if [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns] != want:
            return False
    return True


def _hash_check(d: Path) -> bool:
    try:
        entries = json.loads((d / "info" / "paths.json").read_text())["paths"]
    except (OSError, ValueError, KeyError):
        return False
    for e in entries:
        sha = e.get("sha256")
        if not sha or e.get("path_type", "hardlink") != "hardlink":
            continue
        f = d / e["_path"]
        try:
            size = f.stat().st_size
            if size != e.get("size_in_bytes", size) or sha256_file(f) != sha:
                return False
        except OSError:
            return False
    return True
