"""Regression test (issue 9): a package file edited in the package cache with its size, inode and mtime kept
(``touch -r``) was linked into the next environment (exit 0). The stamp now carries the ctime, which every write
changes and no ``touch`` can set back, and a changed stamp is settled by the package's sha256."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_same_size_same_mtime_edit_is_caught(build_env: Callable[..., Path]) -> None:
    first = build_env("demo")
    cache = Path(os.environ["RATTLER_CACHE_DIR"]) / "pkgs"
    [entry] = [p for p in cache.iterdir() if p.name.startswith("trt-tools-") and p.is_dir()]
    victim = entry / "bin" / "trt-hello"
    original = victim.read_bytes()
    st = victim.stat()
    evil = original.replace(b"trt-hello", b"pwned-xyz")  # same length
    assert len(evil) == len(original) and evil != original
    with open(victim, "r+b") as fh:  # in place: same inode (and the hardlinked copy in `demo` changes too)
        fh.write(evil)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # touch -r: the mtime put back
    assert (victim.stat().st_size, victim.stat().st_mtime_ns, victim.stat().st_ino) == (
        st.st_size, st.st_mtime_ns, st.st_ino)

    second = build_env("second")
    assert (second / "bin" / "trt-hello").read_bytes() == original
    assert first != second


def test_unchanged_cache_is_not_rehashed(build_env: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path stays fast: after a create, the next one over the same packages hashes nothing."""
    from envkit.engine import cache as cache_mod

    build_env("demo")
    calls: list[Path] = []
    real = cache_mod._hash_check
    monkeypatch.setattr(cache_mod, "_hash_check", lambda d: calls.append(d) or real(d))
    build_env("second")
    assert calls == []
