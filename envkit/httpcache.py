"""Conditional GETs cached on disk (standard library only): repodata (``envkit.engine.repodata``) and pip
index pages (``envkit.check.pipindex``).

``HttpCache.get(url, accept)`` revalidates a cached copy with ``If-None-Match`` / ``If-Modified-Since``.
A 304 answer, ``offline`` mode and an unreachable server all fall back to the cached copy and mark it
``from_cache``; an unreachable server also records ``error`` so callers report it. Bodies are stored as
bytes plus a JSON meta file: nothing read back can execute code.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from envkit.config import redact
from envkit.fsutil import write_atomic

USER_AGENT = "envkit"
DEFAULT_TIMEOUT = 10.0  # seconds per connect and per read; $ENVKIT_HTTP_TIMEOUT overrides


def http_timeout(default: float = DEFAULT_TIMEOUT) -> float:
    """Seconds before a silent server is given up (connect, and each read): $ENVKIT_HTTP_TIMEOUT or ``default``."""
    from envkit.limits import env_seconds

    return env_seconds("ENVKIT_HTTP_TIMEOUT", default)


def request(url: str, headers: dict[str, str]) -> urllib.request.Request:
    """A GET for ``url``: credentials written in it (``https://user:pass@host/...``) travel as Basic
    authentication, never as part of the host name (urllib reads ``user:pass@host`` as the host)."""
    import base64
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return urllib.request.Request(url, headers=headers)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urllib.request.Request(clean, headers={**headers, "Authorization": f"Basic {token}"})


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

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float | None = None) -> None:
        self.dir = Path(cache_dir)
        self.offline = offline
        self.timeout = http_timeout() if timeout is None else timeout

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
        req = request(url, headers)
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
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed URL
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                reason = f"no answer within {self.timeout:g} s; $ENVKIT_HTTP_TIMEOUT sets the limit"
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
