"""Regression test (issue 9): a channel ``http://user:PW@host/t/TOKEN`` leaves its password and token in no file
envkit writes or causes rattler to write (conda-meta/<pkg>.json ``url`` fields, envkit.json, the lock, caches)
and in no output; ``--locked`` still installs from the redacted lock (with the package cache emptied, so the
packages are downloaded again with the credentials from the environment file).

The channel is served on 127.0.0.1 and refuses requests without the Basic credentials or outside /t/TOKEN/.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_factory import env_yaml

PASSWORD, TOKEN = "PW-d41d8cd9", "TOKEN-8f00b204"
pytestmark = pytest.mark.slow


class _Guarded(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        want = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        prefix = f"/t/{TOKEN}"
        if self.headers.get("Authorization") != want or not self.path.startswith(prefix + "/"):
            self.send_response(401)
            self.end_headers()
            return
        self.path = self.path[len(prefix):]
        super().do_GET()


@pytest.fixture
def guarded_channel(trt_channel: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Guarded, directory=str(trt_channel)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://alice:{PASSWORD}@127.0.0.1:{httpd.server_address[1]}/t/{TOKEN}"
    httpd.shutdown()
    httpd.server_close()


def _leaks(root: Path) -> list[str]:
    found = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            if PASSWORD.encode() in data or TOKEN.encode() in data:
                found.append(str(p))
    return found


def test_no_secret_on_disk_and_locked_still_works(guarded_channel: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env_file = env_yaml(work / "environment.yml", [guarded_channel], ["trt-tools"], name="demo")
    outputs = []
    for args in (["--name", "demo"], ["--name", "again", "--locked"]):
        r = subprocess.run([sys.executable, "-m", "envkit", "create", "--file", str(env_file), *args, "--no-smoke"],
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout + r.stderr)
        shutil.rmtree(Path(os.environ["RATTLER_CACHE_DIR"]) / "pkgs", ignore_errors=True)  # download again
    envs = Path(os.environ["CONDA_ENVS_PATH"])
    assert (envs / "again" / "conda-meta" / "envkit.json").is_file()
    assert not any(PASSWORD in o or TOKEN in o for o in outputs)
    roots = [envs, work, Path(os.environ["RATTLER_CACHE_DIR"]), Path(os.environ["ENVKIT_CACHE_DIR"]),
             Path(os.environ["XDG_DATA_HOME"])]
    leaks = [leak for root in roots if root.exists() for leak in _leaks(root)]
    assert leaks == [str(env_file)]  # only the user's own file holds the secret
