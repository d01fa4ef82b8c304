"""Package-cache integrity (envkit.engine.cache): stamps taken during the install, checks before the next one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, file_url

from envkit.engine.cache import STAMPS, CacheStamper, stamp_cache, verify_cache
from envkit.engine.install import install
from envkit.engine.solve import solve
from envkit.engine.types import Record, Target

TARGET = Target.parse("linux-64", ("__unix=0=0", "__linux=5.15=0", "__glibc=2.28=0", "__cuda=12.4=0"))


@pytest.fixture
def installed(tmp_path: Path) -> tuple[list[Record], Path]:
    specs = [PackageSpec(f"blob{i}", "1.0", files={f"share/blob{i}.txt": "good\n", f"share/sub/b{i}": "x" * 100})
             for i in range(3)]
    ch = build_channel(tmp_path / "ch", specs)
    cache = tmp_path / "c"
    recs = solve(["blob0", "blob1", "blob2"], [file_url(ch)], TARGET, cache_dir=cache)
    stamper = CacheStamper(recs, cache)
    install(recs, tmp_path / "p1", cache_dir=cache, on_cached=stamper.package_ready)
    stamper.finish()
    return sorted(recs, key=lambda r: r.name), cache


def test_install_reports_each_cached_package_and_stamps_it(installed: tuple[list[Record], Path]) -> None:
    recs, cache = installed
    for r in recs:
        stamp = json.loads((cache / STAMPS / f"{r.dist}.json").read_text())
        assert stamp["sha256"] == r.sha256 and f"share/{r.name}.txt" in stamp["files"]
    assert verify_cache(recs, cache) == []


def test_on_cached_is_called_during_install(tmp_path: Path) -> None:
    ch = build_channel(tmp_path / "ch", [PackageSpec("blob", "1.0", files={"share/blob.txt": "good\n"})])
    recs = solve(["blob"], [file_url(ch)], TARGET, cache_dir=tmp_path / "c")
    seen: list[str] = []
    install(recs, tmp_path / "p", cache_dir=tmp_path / "c", on_cached=seen.append)
    assert seen == ["blob"]


def test_in_place_edit_with_same_size_is_detected(installed: tuple[list[Record], Path]) -> None:
    recs, cache = installed
    victim = cache / "pkgs" / recs[1].dist / "share/blob1.txt"
    st = victim.stat()
    with victim.open("r+") as fh:  # same inode, same size, new content (what an edit through a hardlink does)
        fh.write("evil\n")
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert verify_cache(recs, cache) == [recs[1].dist]
    assert not (cache / "pkgs" / recs[1].dist).exists() and not (cache / STAMPS / f"{recs[1].dist}.json").exists()


def test_deleted_file_is_detected_added_file_is_ignored(installed: tuple[list[Record], Path]) -> None:
    recs, cache = installed
    (cache / "pkgs" / recs[0].dist / "share/extra.txt").write_text("not in paths.json, never linked\n")
    (cache / "pkgs" / recs[2].dist / "share/sub/b2").unlink()
    assert verify_cache(recs, cache) == [recs[2].dist]


def test_unstamped_entry_is_hash_checked_then_stamped(installed: tuple[list[Record], Path]) -> None:
    recs, cache = installed
    for r in recs:
        (cache / STAMPS / f"{r.dist}.json").unlink()
    victim = cache / "pkgs" / recs[0].dist / "share/blob0.txt"
    victim.unlink()
    victim.write_text("evil\n")  # same size, no stamp to compare with: the sha256 catches it
    assert verify_cache(recs, cache) == [recs[0].dist]
    assert {p.name for p in (cache / STAMPS).iterdir()} == {f"{r.dist}.json" for r in recs[1:]}
    stamp_cache(recs, cache)  # the dropped entry is not extracted any more: nothing to stamp
    assert not (cache / STAMPS / f"{recs[0].dist}.json").exists()


def test_torn_stamp_falls_back_to_the_hash_check(installed: tuple[list[Record], Path]) -> None:
    recs, cache = installed
    (cache / STAMPS / f"{recs[0].dist}.json").write_text('{"sha256": "')
    assert verify_cache(recs, cache) == []
    assert json.loads((cache / STAMPS / f"{recs[0].dist}.json").read_text())["sha256"] == recs[0].sha256


def test_verify_ahead_checks_the_previous_lock(installed: tuple[list[Record], Path], tmp_path: Path) -> None:
    from envkit.engine.cache import VerifyAhead
    from envkit.engine.lockfile import write_lock

    recs, cache = installed
    lock = tmp_path / "envkit.lock"
    write_lock(recs, TARGET, ["file:///nowhere"], lock)
    victim = cache / "pkgs" / recs[2].dist / "share/blob2.txt"
    victim.unlink()
    victim.write_text("evil\n")
    ahead = VerifyAhead(lock, cache).wait()
    assert ahead.dropped == [recs[2].dist]
    assert ahead.verified == {(r.dist, r.sha256) for r in recs[:2]}
    assert verify_cache(recs, cache, skip=ahead.verified) == []  # the dropped one is gone: nothing to check


def test_verify_ahead_with_unreadable_lock_verifies_nothing(installed: tuple[list[Record], Path],
                                                          tmp_path: Path) -> None:
    from envkit.engine.cache import VerifyAhead

    _, cache = installed
    (tmp_path / "envkit.lock").write_text("not: [a lock")
    ahead = VerifyAhead(tmp_path / "envkit.lock", cache).wait()
    assert ahead.verified == set() and ahead.dropped == []


def test_verify_for_install_reports_needed_and_other_dropped_entries(installed: tuple[list[Record], Path],
                                                                     tmp_path: Path) -> None:
    from envkit.engine.cache import VerifyAhead, verify_for_install
    from envkit.engine.lockfile import write_lock

    recs, cache = installed
    write_lock(recs[1:], TARGET, ["file:///nowhere"], tmp_path / "envkit.lock")
    for r in (recs[0], recs[2]):
        (cache / "pkgs" / r.dist / "share/sub" / f"b{r.name[-1]}").unlink()
    ahead = VerifyAhead(tmp_path / "envkit.lock", cache)
    stamped, dropped, others = verify_for_install(recs[:2], cache, ahead)
    assert dropped == [recs[0].dist] and others == [recs[2].dist]
    assert stamped == {(recs[1].dist, recs[1].sha256)}
