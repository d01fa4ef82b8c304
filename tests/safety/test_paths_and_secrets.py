"""Regression tests (issue 9): every path built from channel or manifest data stays inside its root; the bundle
never copies a credential.

* a lock record with ``subdir: ../../../escape`` made ``bundle`` write outside ``--out``;
* ``bundle --verify`` read and hashed manifest paths like ``/etc/passwd`` and ``../../..``, and a malformed
  manifest was a traceback;
* ``bundle`` copied the environment file, token included, into ``original/environment.yml``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envkit.check.bundle import download_conda, inside
from envkit.cli import main
from envkit.engine.types import Record
from envkit.errors import InputError


@pytest.mark.parametrize("subdir", ["../../../escape", "/tmp/escape", "linux-64/../../x"])
def test_record_subdir_cannot_leave_the_bundle(tmp_path: Path, subdir: str) -> None:
    out = tmp_path / "bundle"
    out.mkdir()
    rec = Record(name="evil", version="1.0", build="0", url="http://127.0.0.1:9/ch/linux-64/evil-1.0-0.conda",
                 sha256=None, md5=None, channel=None, subdir=subdir, file_name="evil-1.0-0.conda")
    with pytest.raises(InputError, match=r"outside|not a relative path"):
        download_conda([rec], out)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bundle"]


@pytest.mark.parametrize("manifest", [
    {"files": {"/etc/passwd": "00"}},
    {"files": {"../../../../etc/passwd": "00"}},
    {"files": {"a/../../x": "00"}},
    {"files": ["x"]},
    {"files": {"x": 1}},
    [1, 2],
    "not json at all {",
    "[" * 50_000,
])
def test_verify_refuses_bad_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: object) -> None:
    out = tmp_path / "bundle"
    out.mkdir()
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (out / "manifest.json").write_text(text)
    assert main(["bundle", "--verify", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "manifest" in err


def test_inside_accepts_plain_relative_paths(tmp_path: Path) -> None:
    assert inside(tmp_path, "linux-64/x-1-0.conda", "t") == (tmp_path / "linux-64" / "x-1-0.conda").resolve()
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(InputError):
        inside(tmp_path, "link/passwd", "t")
