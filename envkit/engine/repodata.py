"""Repodata: each channel subdir's ``repodata.json`` fetched once per run, cached on disk between runs,
opened once as rattler ``SparseRepoData`` (the one repodata path: create's and check's solves, check's lock
lookups, mirror-check's comparisons all read it).

``RepodataCache.get(channel, subdir)`` returns a ``Repodata`` whose file is the channel's own
``repodata.json`` for ``file://`` channels and plain paths, otherwise a copy under ``<cache_dir>/repodata/``
kept by ``envkit.httpcache.HttpCache`` (revalidated; a 304, ``offline`` and an unreachable channel fall back
to the cached copy and mark it ``from_cache``; an unreachable channel also records ``error``). A missing
platform subdir is an empty one (as conda treats it); a missing ``noarch`` is an error. Each
(channel, subdir) is fetched at most once per ``RepodataCache`` (thread-safe).

rattler is imported inside functions only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.config import redact
from envkit.engine.channels import channel_url, local_path
from envkit.engine.types import Record
from envkit.errors import ChannelError
from envkit.fsutil import write_atomic
from envkit.httpcache import Fetched, HttpCache


def name_of(filename: str) -> str:
    """Package name of 'cuda-version-12.6-h0_0.conda'."""
    stem = filename.removesuffix(".conda").removesuffix(".tar.bz2")
    return stem.rsplit("-", 2)[0]


@dataclass
class Repodata:
    """The repodata of one channel subdir, as seen in this run."""

    channel: str  # URL without trailing slash
    subdir: str
    fetched: Fetched
    _sparse: Any = None
    _parsed: dict[str, Any] | str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def available(self) -> bool:
        return self.fetched.path is not None

    @property
    def from_cache(self) -> bool:
        return self.fetched.from_cache and self.available

    @property
    def error(self) -> str | None:
        return self.fetched.error

    def sparse(self) -> Any:
        """rattler ``SparseRepoData`` over the local file (opened once)."""
        with self._lock:
            if self._sparse is None:
                from rattler import Channel, SparseRepoData

                assert self.fetched.path is not None
                self._sparse = SparseRepoData(Channel(self.channel + "/"), self.subdir, str(self.fetched.path))
            return self._sparse

    def records(self, name: str) -> list[Record]:
        """Every record of package ``name`` the subdir lists."""
        if not self.available:
            return []
        from rattler import PackageName

        sparse = self.sparse()
        with self._lock:
            try:
                return [Record.from_rattler(r) for r in sparse.load_records(PackageName(name))]
            except (OSError, ValueError) as exc:  # rattler's parse error on a broken repodata.json
                raise ChannelError(f"{redact(self.channel)}/{self.subdir}: unreadable repodata ({str(exc)[:120]})",
                                   "the channel or mirror serves broken repodata.json; fix or resync it") from None

    def lookup(self, filename: str) -> Record | None:
        """The record of package file ``filename``, or None when the channel does not list it."""
        return next((r for r in self.records(name_of(filename)) if r.file_name == filename), None)

    def _json(self) -> dict[str, Any] | str:
        """The repodata as a JSON object, or why it is not one (mirror-check only: a full parse)."""
        with self._lock:
            if self._parsed is None:
                assert self.fetched.path is not None
                try:
                    data = json.loads(self.fetched.path.read_bytes())
                except (OSError, ValueError, RecursionError) as exc:
                    self._parsed = f"not JSON repodata ({str(exc)[:80]})"
                else:
                    self._parsed = _shape_problem(data) or data
            return self._parsed

    def problem(self) -> str | None:
        """Why the fetched repodata cannot be used (None when it can, or when nothing was fetched)."""
        if not self.available:
            return None
        parsed = self._json()
        return parsed if isinstance(parsed, str) else None

    def newest_timestamp(self) -> float | None:
        """Newest package ``timestamp`` (seconds) listed, from the JSON (mirror-check only); records with a
        timestamp that is not a number are skipped."""
        if not self.available:
            return None
        data = self._json()
        if isinstance(data, str):
            return None
        best = 0.0
        for key in ("packages", "packages.conda"):
            for rec in (data.get(key) or {}).values():
                stamp = rec.get("timestamp") if isinstance(rec, dict) else None
                if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and 0 < stamp < 1e14:
                    best = max(best, float(stamp))
        if not best:
            return None
        return best / 1000 if best > 1e11 else best


def _shape_problem(data: Any) -> str | None:
    """Why ``data`` is not conda repodata rattler can read (records are objects, timestamps integers)."""
    if not isinstance(data, dict):
        return "not conda repodata (expected an object with \"packages\")"
    for key in ("packages", "packages.conda"):
        table = data.get(key) or {}
        if not isinstance(table, dict):
            return f"not conda repodata ({key!r} is not an object)"
        for name, rec in table.items():
            if not isinstance(rec, dict):
                return f"not conda repodata ({name!r} is not an object)"
            stamp = rec.get("timestamp")
            if stamp is not None and (not isinstance(stamp, int) or isinstance(stamp, bool)):
                return f"not conda repodata ({name!r} has the timestamp {str(stamp)[:40]!r})"
    return None


class RepodataCache:
    """Fetch-once-per-run repodata for many threads; on-disk cache shared between runs."""

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float | None = None) -> None:
        self.http = HttpCache(Path(cache_dir) / "repodata", offline=offline, timeout=timeout)
        self._entries: dict[tuple[str, str], Repodata] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.fetch_count = 0

    def get(self, channel: str, subdir: str) -> Repodata:
        url = channel_url(channel)
        key = (url, subdir)
        with self._guard:
            if key in self._entries:
                return self._entries[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._entries:
                return self._entries[key]
            entry = Repodata(url, subdir, self._fetch(url, subdir))
            with self._guard:
                self._entries[key] = entry
            return entry

    def channel_errors(self) -> dict[str, list[str]]:
        """channel URL -> why it could not be read (one error text per subdir that failed)."""
        out: dict[str, list[str]] = {}
        with self._guard:
            entries = list(self._entries.values())
        for rd in entries:
            if rd.fetched.error:
                out.setdefault(rd.channel, []).append(rd.fetched.error)
        return out

    def _fetch(self, url: str, subdir: str) -> Fetched:
        path = local_path(url)
        if path is not None:
            f = path / subdir / "repodata.json"
            if f.is_file():
                return Fetched(url, f, False, "local")
            if subdir != "noarch" and (path / "noarch" / "repodata.json").is_file():
                return Fetched(url, _empty_repodata(self.http.dir, subdir), False, "local")
            return Fetched(url, None, False, "missing", f"channel unreachable: no {subdir}/repodata.json in {url}")
        self.fetch_count += 1
        got = self.http.get(f"{url}/{subdir}/repodata.json", "application/json")
        if got.path is None and got.status == "missing" and got.error and got.error.startswith("HTTP 404") and (
            subdir != "noarch"
        ):
            # a channel without this platform: conda treats it as empty
            got = Fetched(got.url, _empty_repodata(self.http.dir, subdir), False, "missing")
        return got


def _empty_repodata(cache: Path, subdir: str) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    p = cache / f"empty-{subdir}.json"
    if not p.is_file():
        write_atomic(p, json.dumps({"info": {"subdir": subdir}, "packages": {}, "packages.conda": {}}).encode())
    return p


def index_channel(path: Path) -> None:
    """Write ``repodata.json`` for every subdir of a local channel directory (rattler's indexer; plain JSON,
    no shards, so any conda client and ``RepodataCache`` read it)."""
    import asyncio

    from rattler.index import index_fs

    asyncio.run(index_fs(path, write_zst=False, write_shards=False, force=True))

