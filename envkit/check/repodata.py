"""Repodata and pip index pages, fetched once per run and cached on disk between runs.

``RepodataCache.get(channel, subdir)`` returns a ``Repodata`` whose ``path`` is a local
``repodata.json``: the channel's own file for ``file://`` channels and plain paths, otherwise a copy
under ``<cache_dir>/repodata/`` keyed by the URL and revalidated with ``If-None-Match`` /
``If-Modified-Since``. A 304 answer, ``offline`` mode and an unreachable channel all fall back to
the cached copy and mark it ``from_cache``; an unreachable channel also records ``error`` so callers
report it. Each (channel, subdir) is fetched at most once per ``RepodataCache`` (thread-safe), and
the ``SparseRepoData`` used for solving and filename lookups is opened once.

Only the standard library is used for HTTP; rattler is imported lazily for ``SparseRepoData``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from envkit.config import DEFAULT_CHANNEL_ALIAS, redact
from envkit.fsutil import write_atomic

USER_AGENT = "envkit-check"


def channel_url(channel: str) -> str:
    """A channel name, path or URL as a URL without a trailing slash ('conda-forge' -> anaconda.org)."""
    c = channel.strip().rstrip("/")
    if "://" in c:
        return c
    if c.startswith(("/", ".", "~")) or (os.sep in c and Path(c).expanduser().exists()):
        return Path(c).expanduser().resolve().as_uri()
    return f"{DEFAULT_CHANNEL_ALIAS}/{c}"


def local_path(url: str) -> Path | None:
    """The directory of a ``file://`` channel, None for remote ones."""
    if url.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    return None


def split_package_url(url: str) -> tuple[str, str, str]:
    """'http://h/ch/linux-64/x-1-0.conda' -> ('http://h/ch', 'linux-64', 'x-1-0.conda'); paths too."""
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    base, subdir, filename = url.rsplit("/", 2)
    return base, subdir, filename


def name_of(filename: str) -> str:
    """Package name of 'cuda-version-12.6-h0_0.conda'."""
    stem = filename.removesuffix(".conda").removesuffix(".tar.bz2")
    return stem.rsplit("-", 2)[0]


@dataclass
class Fetched:
    """One cached HTTP resource."""

    url: str
    path: Path | None  # local file with the body; None when nothing is available
    from_cache: bool
    status: str  # "fetched" | "not-modified" | "offline" | "unreachable" | "local" | "missing"
    error: str | None = None  # why the remote could not be read (unreachable, HTTP error)
    last_modified: str | None = None
    etag: str | None = None
    content_type: str | None = None

    @property
    def last_modified_ts(self) -> float | None:
        if not self.last_modified:
            return None
        try:
            return parsedate_to_datetime(self.last_modified).timestamp()
        except (TypeError, ValueError):
            return None


class HttpCache:
    """Conditional GETs into ``cache_dir``: ``<sha>.body`` plus ``<sha>.meta.json`` per URL."""

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float = 10.0) -> None:
        self.dir = Path(cache_dir)
        self.offline = offline
        self.timeout = timeout

    def _paths(self, url: str, accept: str) -> tuple[Path, Path]:
        key = hashlib.sha256(f"{url}\n{accept}".encode()).hexdigest()[:32]
        return self.dir / f"{key}.body", self.dir / f"{key}.meta.json"

    def get(self, url: str, accept: str = "*/*") -> Fetched:
        body, meta_path = self._paths(url, accept)
        meta: dict[str, Any] = {}
        if body.is_file() and meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {}
        cached = Fetched(
            url, body if meta else None, True, "offline", None,
            meta.get("last_modified"), meta.get("etag"), meta.get("content_type"),
        )
        if self.offline:
            if not meta:
                cached.status, cached.error = "missing", f"offline and nothing cached for {redact(url)}"
            return cached
        headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip"}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        req = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = resp.read()
                if resp.headers.get("Content-Encoding") == "gzip":
                    data = gzip.decompress(data)
                new_meta = {
                    "url": redact(url),
                    "etag": resp.headers.get("ETag"),
                    "last_modified": resp.headers.get("Last-Modified"),
                    "content_type": resp.headers.get("Content-Type"),
                    "fetched_at": time.time(),
                }
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and meta:
                cached.status = "not-modified"
                return cached
            return Fetched(url, None, False, "missing", f"HTTP {exc.code} for {redact(url)}")
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            cached.status = "unreachable"
            cached.error = f"channel unreachable: {redact(url)} ({reason})"
            if not meta:
                cached.path = None
            return cached
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(body, data)
        write_atomic(meta_path, json.dumps(new_meta).encode())
        return Fetched(
            url, body, False, "fetched", None, new_meta["last_modified"], new_meta["etag"], new_meta["content_type"]
        )


@dataclass
class Repodata:
    """The repodata of one channel subdir, as seen in this run."""

    channel: str  # URL without trailing slash
    subdir: str
    fetched: Fetched
    _sparse: Any = None
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

    def lookup(self, filename: str) -> Any | None:
        """The ``RepoDataRecord`` for ``filename``, or None when the channel does not list it."""
        if not self.available:
            return None
        from rattler import PackageName

        sparse = self.sparse()
        with self._lock:
            records = sparse.load_records(PackageName(name_of(filename)))
        for rec in records:
            if rec.file_name == filename:
                return rec
        return None

    def newest_timestamp(self) -> float | None:
        """Newest package ``timestamp`` (seconds) listed, from the JSON (mirror-check only)."""
        if not self.available:
            return None
        assert self.fetched.path is not None
        data = json.loads(self.fetched.path.read_bytes())
        best = 0
        for key in ("packages", "packages.conda"):
            for rec in (data.get(key) or {}).values():
                best = max(best, int(rec.get("timestamp") or 0))
        if not best:
            return None
        return best / 1000 if best > 1e11 else float(best)


class RepodataCache:
    """Fetch-once-per-run repodata for many threads; on-disk cache shared between runs."""

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float = 10.0) -> None:
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


# --------------------------------------------------------------------------- pip simple index

PEP691 = "application/vnd.pypi.simple.v1+json"


@dataclass
class PipProject:
    index: str
    name: str
    files: list[str]  # file names listed for the project
    from_cache: bool
    error: str | None = None
    found: bool = True


class PipIndex:
    """PEP 691 (JSON) / PEP 503 (HTML) project pages, once per run, cached like repodata."""

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float = 10.0) -> None:
        self.http = HttpCache(Path(cache_dir) / "pip-index", offline=offline, timeout=timeout)
        self._memo: dict[tuple[str, str], PipProject] = {}
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def project(self, index: str, name: str) -> PipProject:
        key = (index.rstrip("/"), name)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                self._memo[key] = self._load(*key)
            return self._memo[key]

    def _load(self, index: str, name: str) -> PipProject:
        url = f"{index}/{name}/"
        got = self.http.get(url, f"{PEP691}, text/html;q=0.1")
        if got.path is None:
            missing = got.error is not None and got.error.startswith("HTTP 404")
            return PipProject(index, name, [], False, None if missing else got.error, found=not missing)
        raw = got.path.read_bytes()
        files: list[str]
        if (got.content_type or "").startswith(PEP691) or raw.lstrip().startswith(b"{"):
            data = json.loads(raw)
            files = [str(f.get("filename", "")) for f in data.get("files", [])]
        else:
            files = _html_links(raw.decode("utf-8", "replace"))
        return PipProject(index, name, files, got.from_cache, got.error)


def _html_links(text: str) -> list[str]:
    from html.parser import HTMLParser

    out: list[str] = []

    class P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                for k, v in attrs:
                    if k == "href" and v:
                        out.append(urllib.parse.unquote(v.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]))

    P().feed(text)
    return out


