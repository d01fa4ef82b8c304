"""Regression tests (issue 9): network calls are bounded and credentials work the same everywhere.

* a channel that accepts connections and never answers: ``check`` and ``create`` give up after
  ``$ENVKIT_HTTP_TIMEOUT`` seconds with exit 5 naming the URL (create waited over 330 s);
* ``check --file`` with a ``user:pass@`` channel failed with "Name or service not known" (urllib took
  ``user:pass@host`` as the host name) while create worked: the credentials now travel as Basic authentication,
  to a real server on 127.0.0.1 that refuses requests without them, and never appear in the output.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_factory import env_yaml

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/silent"
    stop.set()
    t.join(timeout=5)
    for c in held:
        c.close()
    sock.close()


def test_silent_channel_gives_up_with_exit_5(silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENVKIT_HTTP_TIMEOUT", "1")
    env = env_yaml(tmp_path / "e.yml", [silent_server], ["python"], name="e")
    assert main(["create", "--file", str(env), "--name", "e", "--dry-run", "--host", str(HOST)]) == 5
    err = capsys.readouterr().err
    assert silent_server in err and "ENVKIT_HTTP_TIMEOUT" in err
    assert main(["check", "--file", str(env), "--target", "linux-64:cuda=12.4", "--json"]) in (1, 5)
    assert silent_server in capsys.readouterr().out


class _AuthHandler(http.server.SimpleHTTPRequestHandler):
    expected = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.end_headers()
            return
        super().do_GET()


def test_check_with_credentials_in_the_channel_url(trt_channel: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    handler = functools.partial(type("H", (_AuthHandler,), {
        "expected": "Basic " + base64.b64encode(b"alice:s3cr3t-PW").decode()}), directory=str(trt_channel))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://alice:s3cr3t-PW@127.0.0.1:{httpd.server_address[1]}"
        env = env_yaml(tmp_path / "e.yml", [url], ["trt-tools"], name="e")
        code = main(["check", "--file", str(env), "--target", "linux-64:cuda=12.4", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.out
        assert "s3cr3t-PW" not in out.out + out.err
        data = json.loads(out.out)
        assert data["exit_code"] == 0
        cached = "".join(p.read_text(errors="replace") for p in tmp_path.parent.rglob("*.meta.json"))
        assert "s3cr3t-PW" not in cached
    finally:
        httpd.shutdown()
        httpd.server_close()
