"""Shared fixtures.

* ``rattler_cache`` (autouse): every test gets its own RATTLER_CACHE_DIR, ENVKIT_CACHE_DIR, XDG dirs, HOME
  (so ~/.conda/environments.txt and envkit's registry are the test's), CONDA_ENVS_PATH, so no test touches
  the user's caches, config or environments.
* ``trt_channel`` (session): a real indexed conda channel mirroring the TensorRT stack (tests/channel_factory.py).
* ``network`` marker: tests that need PyPI are skipped when ENVKIT_OFFLINE_TESTS=1.
* ``serve_channel``: a factory serving a directory over HTTP on 127.0.0.1 (port chosen by the OS);
  304 responses carry Last-Modified (rattler needs it, see the py-rattler notes). Servers stop at teardown.
"""

from __future__ import annotations

import email.utils
import functools
import http.server
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from channel_factory import build_channel, trt_stack

_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave like ``envkit.entry.main``: in-process tests load py-rattler, whose native teardown at
    interpreter exit aborts now and then; pytest's verdict is final here, so exit with it directly."""
    if "rattler" in sys.modules and _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``network`` tests need PyPI: skipped, not failed, when ENVKIT_OFFLINE_TESTS=1."""
    if os.environ.get("ENVKIT_OFFLINE_TESTS") != "1":
        return
    skip = pytest.mark.skip(reason="needs PyPI (ENVKIT_OFFLINE_TESTS=1)")
    for item in items:
        if item.get_closest_marker("network") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def rattler_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path_factory.mktemp("iso")
    cache = base / "rattler-cache"
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(cache))
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(base / "envkit-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    home = base / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    envs = base / "envs"
    envs.mkdir()
    monkeypatch.setenv("CONDA_ENVS_PATH", str(envs))
    monkeypatch.setenv("CONDARC", str(base / "condarc-none"))
    for var in ("CONDA_OVERRIDE_CUDA", "ENVKIT_CONFIG", "ENVKIT_OFFLINE", "ENVKIT_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    return cache


@pytest.fixture(scope="session")
def trt_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_channel(tmp_path_factory.mktemp("trt-channel") / "channel", trt_stack())


class _Handler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler whose 304 carries Last-Modified (rattler rejects a bare 304)."""

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        if code == 304:
            path = self.translate_path(self.path)
            try:
                mtime = os.stat(path).st_mtime
                self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
            except OSError:
                pass


class _Server(http.server.ThreadingHTTPServer):
    """A real listen backlog: the stdlib's default of 5 makes parallel downloads wait for SYN retries (1 s, 3 s)."""

    request_queue_size = 128


class ChannelServer:
    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def channel_server() -> Iterator[Callable[[Path], ChannelServer]]:
    servers: list[ChannelServer] = []

    def start(root: Path) -> ChannelServer:
        s = ChannelServer(root)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def serve_channel(channel_server: Callable[[Path], ChannelServer]) -> Callable[[Path], str]:
    """``serve_channel(path) -> url``; the server stops at teardown (use ``channel_server`` to stop it earlier)."""

    def serve(root: Path) -> str:
        return channel_server(root).url

    return serve


@pytest.fixture
def envkit_settings(tmp_path: Path, rattler_cache: Path) -> object:
    """Settings for a project in tmp_path (environment read from the monkeypatched os.environ)."""
    from envkit.context import Settings, packaged_matrix

    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    return Settings(
        project_dir=project,
        matrix_path=packaged_matrix(),
        cache_dir=Path(os.environ["ENVKIT_CACHE_DIR"]),
        env=dict(os.environ),
    )
