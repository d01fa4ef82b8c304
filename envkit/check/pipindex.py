"""Pip index project pages (PEP 691 JSON / PEP 503 HTML), once per run, cached on disk like repodata
(``envkit.httpcache``): what check's pip step and bundle read."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from envkit.httpcache import HttpCache

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

    def __init__(self, cache_dir: Path, *, offline: bool = False, timeout: float | None = None) -> None:
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
