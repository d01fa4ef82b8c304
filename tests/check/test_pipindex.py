"""Pip index project pages (PEP 503 HTML here), revalidated from the cache, a missing project."""

from __future__ import annotations

from pathlib import Path

from envkit.check.pipindex import PipIndex


def test_pip_index_html(tmp_path: Path, serve_channel) -> None:
    from check_fixtures import build_pip_index

    simple = build_pip_index(tmp_path / "pypi", {"tinypkg": [("1.0.0", "py3-none-any")]})
    url = serve_channel(simple.parent) + "/simple"
    idx = PipIndex(tmp_path / "c")
    proj = idx.project(url, "tinypkg")
    assert proj.files == ["tinypkg-1.0.0-py3-none-any.whl"] and not proj.from_cache
    assert PipIndex(tmp_path / "c").project(url, "tinypkg").from_cache  # revalidated: 304
    missing = idx.project(url, "nothing-here")
    assert not missing.found and missing.error is None
