"""``envkit clean [--cache] [--locks] [--engines] [--dry-run]``: remove what envkit keeps around, with sizes.

* ``--cache``: envkit's cache directory (``ENVKIT_CACHE_DIR``: repodata, its package cache unless
  ``RATTLER_CACHE_DIR`` points elsewhere, the parsed matrix), except the engines;
* ``--engines``: TensorRT engines the smoke test built (``<cache>/engines``);
* ``--locks``: ``.NAME.envkit.lock`` files and unfinished ``.NAME.envkit-staging`` folders in the envs dirs
  that no running envkit holds (a held lock and its staging folder are skipped and named).

No option means all three. Nothing else is touched: a shared ``RATTLER_CACHE_DIR`` stays.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings


def size_of(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


def human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@dataclass
class Item:
    kind: str
    path: Path
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path), "bytes": self.size}


@dataclass
class CleanResult:
    items: list[Item]
    dry_run: bool
    skipped: list[str] = field(default_factory=list)
    exit_code: int = 0

    @property
    def total(self) -> int:
        return sum(i.size for i in self.items)

    def messages(self) -> list[Message]:
        return notes([f"skipped {s}" for s in self.skipped])

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "removed": [] if self.dry_run else [i.to_json() for i in self.items],
                "would_remove": [i.to_json() for i in self.items] if self.dry_run else [],
                "bytes": self.total, "skipped": self.skipped}

    def render(self, console: Console) -> None:
        from envkit.render import table

        verb = "would remove" if self.dry_run else "removed"
        if not self.items:
            console.print("nothing to clean", highlight=False)
        else:
            t = table(console, None, ["what", "size", "path"])
            for i in self.items:
                t.add_row(i.kind, human(i.size), str(i.path))
            console.print(t)
            console.print(f"{verb} {human(self.total)} in {len(self.items)} items", highlight=False)
        for s in self.skipped:
            console.print(f"skipped: {s}", highlight=False, markup=False)


def _take(lock: Path) -> int | None:
    """An fd holding the flock of ``lock`` when no envkit process holds it (and it is still that file)."""
    from envkit.create.staging import _same_file

    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _same_file(fd, lock):
        os.close(fd)
        return None
    return fd


def _remove_lock(lock: Path, staging: Path | None = None) -> None:
    """Under the lock's flock (skipped if an envkit took it meanwhile): remove ``staging``, or else unlink the
    lock file itself, as a releasing envkit does."""
    fd = _take(lock)
    if fd is None:
        return
    try:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        else:
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _lock_items(settings: Settings, skipped: list[str]) -> list[Item]:
    from envkit.envs import envs_dirs

    out: list[Item] = []
    for d in envs_dirs(settings):
        if not d.is_dir():
            continue
        for p in sorted(d.glob(".*.envkit.lock")):
            if not p.is_file() or p.is_symlink():
                continue
            name = p.name[1:-len(".envkit.lock")]
            fd = _take(p)
            if fd is None:
                skipped.append(f"{p} (held by a running envkit)")
                continue
            os.close(fd)
            staging = d / f".{name}.envkit-staging"
            if staging.is_dir() and not staging.is_symlink():
                out.append(Item("staging", staging, size_of(staging)))
            out.append(Item("lock", p, size_of(p)))
    return out


def run(args: argparse.Namespace, settings: Settings) -> CleanResult:
    want = {k for k in ("cache", "locks", "engines") if getattr(args, k, False)} or {"cache", "locks", "engines"}
    cache = settings.cache_dir
    items: list[Item] = []
    skipped: list[str] = []
    if "cache" in want and cache.is_dir():
        items += [Item("cache", p, size_of(p)) for p in sorted(cache.iterdir()) if p.name != "engines"]
    if "engines" in want and (cache / "engines").is_dir():
        items.append(Item("engines", cache / "engines", size_of(cache / "engines")))
    if "locks" in want:
        items += _lock_items(settings, skipped)
    dry = bool(getattr(args, "dry_run", False))
    if not dry:
        for i in items:
            if i.kind == "lock":
                _remove_lock(i.path)
            elif i.kind == "staging":  # under the environment's lock: no create is using it
                _remove_lock(i.path.with_name(i.path.name.replace(".envkit-staging", ".envkit.lock")), i.path)
            elif i.path.is_dir() and not i.path.is_symlink():
                shutil.rmtree(i.path, ignore_errors=True)
            else:
                i.path.unlink(missing_ok=True)
    return CleanResult(items, dry, skipped)
