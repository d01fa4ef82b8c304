"""The one repodata path (envkit.engine.repodata over envkit.httpcache): conditional GETs, 304 -> from cache,
unreachable, offline, fetch-once across threads, record lookups."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import pytest

from envkit.engine.channels import channel_url, split_package_url
from envkit.engine.repodata import RepodataCache, name_of
from envkit.httpcache import HttpCache


class _ETagHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with a strong ETag and honours If-None-Match (no Last-Modified)."""

    hits: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        type(self).hits.append(f"{self.path} {self.headers.get('If-None-Match')}")
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def etag_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    _ETagHandler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_ETagHandler, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_etag_revalidation(etag_server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = etag_server
    (root / "a.json").write_text('{"x": 1}')
    cache = HttpCache(tmp_path / "c")
    first = cache.get(f"{url}/a.json")
    assert (first.status, first.from_cache) == ("fetched", False) and first.etag
    second = HttpCache(tmp_path / "c").get(f"{url}/a.json")  # a new run
    assert (second.status, second.from_cache) == ("not-modified", True)
    assert second.path is not None and second.path.read_text() == '{"x": 1}'
    assert _ETagHandler.hits[-1].endswith(first.etag)
    (root / "a.json").write_text('{"x": 2}')
    third = HttpCache(tmp_path / "c").get(f"{url}/a.json")
    assert third.status == "fetched" and third.path is not None and third.path.read_text() == '{"x": 2}'


def test_last_modified_unreachable_and_offline(check_channel: Path, channel_server, tmp_path: Path) -> None:
    server = channel_server(check_channel)
    rc = RepodataCache(tmp_path)
    rd = rc.get(server.url, "linux-64")
    assert rd.available and not rd.from_cache and rd.fetched.last_modified
    assert RepodataCache(tmp_path).get(server.url, "linux-64").fetched.status == "not-modified"
    server.stop()
    gone = RepodataCache(tmp_path).get(server.url, "linux-64")
    assert gone.available and gone.from_cache and gone.error and gone.error.startswith("channel unreachable")
    off = RepodataCache(tmp_path, offline=True).get(server.url, "linux-64")
    assert off.available and off.from_cache and off.error is None
    none = RepodataCache(tmp_path, offline=True).get(server.url, "linux-aarch64")
    assert not none.available and none.error and "offline" in none.error


def test_fetched_once_across_threads_and_lookup(check_channel: Path, serve_channel, tmp_path: Path) -> None:
    url = serve_channel(check_channel)
    rc = RepodataCache(tmp_path)
    with ThreadPoolExecutor(16) as pool:
        entries = list(pool.map(lambda _: rc.get(url + "/", "linux-64"), range(32)))
    assert rc.fetch_count == 1 and all(e is entries[0] for e in entries)
    pkg = next((check_channel / "linux-64").glob("tensorrt-10.3.0.26*.conda"))
    rec = entries[0].lookup(pkg.name)
    assert rec is not None and rec.sha256 == hashlib.sha256(pkg.read_bytes()).hexdigest()
    assert entries[0].lookup("tensorrt-99-h0_0.conda") is None


def test_missing_platform_subdir_is_empty_but_missing_noarch_is_an_error(tmp_path: Path, serve_channel) -> None:
    ch = tmp_path / "ch"
    (ch / "noarch").mkdir(parents=True)
    (ch / "noarch" / "repodata.json").write_text('{"info": {"subdir": "noarch"}, "packages": {}}')
    url = serve_channel(ch)
    rc = RepodataCache(tmp_path / "c")
    assert rc.get(url, "linux-aarch64").available
    bad = RepodataCache(tmp_path / "c").get(url + "/nope", "noarch")
    assert not bad.available and bad.error and "HTTP 404" in bad.error


def test_local_channels_are_read_in_place(check_channel: Path, tmp_path: Path) -> None:
    rc = RepodataCache(tmp_path)
    rd = rc.get(str(check_channel), "linux-64")
    assert rd.fetched.path == check_channel / "linux-64" / "repodata.json" and not rd.from_cache
    assert rc.fetch_count == 0


def test_helpers() -> None:
    assert name_of("cuda-version-12.6-h0_0.conda") == "cuda-version"
    assert name_of("libnvinfer-10.3.0.26-cuda12_0.tar.bz2") == "libnvinfer"
    assert split_package_url("http://h:1/ch/linux-64/x-1-0.conda") == ("http://h:1/ch", "linux-64", "x-1-0.conda")
    assert channel_url("conda-forge") == "https://conda.anaconda.org/conda-forge"
    assert channel_url("https://mirror.example/conda-forge/") == "https://mirror.example/conda-forge"
