"""Atomic environment replacement: a per-environment lock, a staging prefix, a two-rename swap, recovery.

Design (what ``envkit create`` guarantees):

* **Lock.** Every create/remove of environment ``<dir>/<name>`` holds ``fcntl.flock`` on
  ``<dir>/.<name>.envkit.lock``. A second process waits up to ``ENVKIT_LOCK_TIMEOUT`` seconds
  (default 60) and then fails with ``LockedError`` (exit 7). The kernel drops the lock when a process
  dies, even by SIGKILL. The file exists only while held (the holder unlinks it before releasing).
* **Staging.** The new environment is built in ``<dir>/.<name>.envkit-staging`` (same filesystem, so
  the swap is a rename) with rattler's ``alternative_target_prefix=<dir>/<name>``: files are written in
  the staging dir, but prefix placeholders, shebangs and conda-meta records already name the final
  path, so the tree is valid once renamed. The pip step runs in the staging prefix; shebangs that pip
  writes with the staging path are rewritten to the final path (``fix_staging_paths``). The smoke
  test runs on the staging prefix. ``conda-meta/envkit.json`` with ``"complete": true`` is written
  last, into the staging prefix: an environment without it is never reported as good.
* **Swap.** ``<name>`` -> ``.<name>.envkit-old`` (if it exists), then staging -> ``<name>``, then the
  old tree is deleted. Two renames; between them the journal is the directory layout itself.
* **Failure / Ctrl-C / SIGTERM.** SIGTERM is turned into KeyboardInterrupt while the lock is held; any
  exception removes the staging dir and, if the swap had started, puts the old environment back.
* **SIGKILL / power loss.** Nothing runs; the next create (or remove) of the same environment runs
  ``recover()`` under the lock first:

  - ``.<name>.envkit-old`` exists and ``<name>`` is complete (envkit.json ``complete``): the swap
    finished, only the deletion was cut short: delete the old tree;
  - ``.<name>.envkit-old`` exists otherwise: the swap was cut short: move any ``<name>`` away and
    rename the old tree back (the previous environment is restored exactly);
  - a leftover ``.<name>.envkit-staging`` is deleted; each action is reported as a note.

  Until then ``env_state()`` reports such an environment as ``broken``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from envkit.create.record import read_record
from envkit.errors import DiskFullError, EnvkitError, InputError, InstallError, LockedError


def old_dir(prefix: Path) -> Path:
    return prefix.parent / f".{prefix.name}.envkit-old"


def staging_dir(prefix: Path) -> Path:
    return prefix.parent / f".{prefix.name}.envkit-staging"


def created_by_envkit(prefix: Path) -> bool:
    """Whether envkit created ``prefix``: its ``conda-meta/envkit.json`` record is there and readable, or an
    interrupted swap left envkit's previous tree beside it. Only such environments are replaced or removed."""
    return read_record(prefix) is not None or read_record(old_dir(prefix)) is not None


def lock_path(prefix: Path) -> Path:
    return prefix.parent / f".{prefix.name}.envkit.lock"


def _same_file(fd: int, path: Path) -> bool:
    """Is the open ``fd`` still the file at ``path``? (A holder releasing the lock unlinks it.)"""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def _acquire(path: Path, prefix: Path, timeout: float) -> int:
    """An fd holding the flock of the lock file now at ``path`` (LockedError after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = ""
                    with contextlib.suppress(OSError):
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                    os.close(fd)
                    raise LockedError(
                        f"another envkit process is working on {prefix}" + (f" (pid {holder})" if holder else ""),
                        hint=f"wait for it to finish (waited {timeout:g} s; ENVKIT_LOCK_TIMEOUT sets the wait)",
                    ) from None
                time.sleep(0.05)
        if _same_file(fd, path):
            return fd
        os.close(fd)  # the holder we waited for removed that file: lock the current one


@contextlib.contextmanager
def env_lock(prefix: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the environment's lock (waiting up to ``timeout`` s, default $ENVKIT_LOCK_TIMEOUT or 60).

    The lock file exists only while it is held: the holder unlinks it before releasing, and a waiter that
    then gets the flock of the unlinked file notices (``_same_file``) and locks the current one, so no
    ``.NAME.envkit.lock`` is left behind (a SIGKILLed holder's file stays; ``envkit clean --locks`` removes it).
    """
    if timeout is None:
        from envkit.limits import env_seconds

        timeout = env_seconds("ENVKIT_LOCK_TIMEOUT", 60.0, zero_ok=True)
    path = lock_path(prefix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path, prefix, timeout)
    except OSError as exc:  # a read-only or missing parent: say which, never a traceback
        from envkit.errors import WriteError

        raise WriteError(f"cannot lock {prefix}: {exc.strerror or exc} ({path})",
                         "the environment's folder must be writable; choose another --prefix or envs directory"
                         ) from None
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it: nobody else can hold this file now
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt (only in the main thread) so cleanup runs."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _trash(path: Path) -> None:
    """Rename ``path`` out of the way (instant), then delete it."""
    t = path.parent / f".{path.name}.envkit-trash-{os.getpid()}-{time.monotonic_ns()}"
    path.rename(t)
    shutil.rmtree(t, ignore_errors=True)


def guard_target(prefix: Path) -> None:
    """Refuse to build over something envkit did not create (exit 2), with or without --force: a file, a link,
    a folder holding anything, or a conda environment made by another tool. An empty folder is fine."""
    if not (prefix.exists() or prefix.is_symlink()) or created_by_envkit(prefix):
        return
    if prefix.is_dir() and not prefix.is_symlink() and not any(prefix.iterdir()):
        return
    what = ("a conda environment envkit did not create" if (prefix / "conda-meta").is_dir()
            else "a folder that is not an environment" if prefix.is_dir() and not prefix.is_symlink()
            else "a file, not an environment")
    raise InputError(
        f"{prefix} exists and is {what}: not replacing it",
        hint="envkit replaces only environments it created; choose another --prefix or --name, "
        "or remove it yourself if it is really unwanted",
    )


def is_complete(prefix: Path) -> bool:
    rec = read_record(prefix)
    return rec is not None and rec.complete


def recover(prefix: Path) -> list[str]:
    """Repair what an interrupted create left behind (call with the lock held). Returns notes."""
    notes: list[str] = []
    old, staging = old_dir(prefix), staging_dir(prefix)
    if old.exists():
        if prefix.exists() and is_complete(prefix):
            shutil.rmtree(old, ignore_errors=True)
            notes.append(f"removed the previous environment left behind by an interrupted swap ({old})")
        elif (prefix.exists() or prefix.is_symlink()) and not (prefix / "conda-meta").is_dir():
            notes.append(f"kept {old}: {prefix} holds something that is not an environment")
        else:
            if prefix.exists() or prefix.is_symlink():
                _trash(prefix)  # a build that never completed
            old.rename(prefix)
            notes.append(f"restored the previous environment at {prefix} (an earlier create was interrupted)")
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        notes.append(f"removed a leftover staging directory {staging} (an earlier create was interrupted)")
    for t in prefix.parent.glob(f".{prefix.name}.envkit-trash-*"):
        shutil.rmtree(t, ignore_errors=True)
    return notes


class Swap:
    """staging -> prefix with the previous prefix kept aside until ``finish()``."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.staging = staging_dir(prefix)
        self.old = old_dir(prefix)
        self.moved_old = False
        self.swapped = False

    def swap(self) -> None:
        if self.prefix.exists() or self.prefix.is_symlink():
            self.prefix.rename(self.old)
            self.moved_old = True
        self.staging.rename(self.prefix)
        self.swapped = True

    def finish(self) -> None:
        """Delete the previous tree. The new environment is already in place: Ctrl-C or SIGTERM here does not
        turn the create into a failure; what is left is a trash folder that ``recover`` deletes next time."""
        if not self.moved_old:
            return
        try:
            _trash(self.old)
        except KeyboardInterrupt:
            pass
        except OSError:
            shutil.rmtree(self.old, ignore_errors=True)

    def rollback(self) -> None:
        """Undo whatever was done (called on any failure before ``finish``)."""
        if self.swapped and self.prefix.exists():
            _trash(self.prefix)
        if self.moved_old and self.old.exists():
            self.old.rename(self.prefix)
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)


def fix_staging_paths(staging: Path, final: Path) -> int:
    """Rewrite the staging path to the final path in text files pip wrote (shebangs, RECORD-free scripts).

    Only small text files under ``bin/`` and ``*.dist-info``/``*.egg-link``/``*.pth`` are touched.
    Returns the number of files rewritten.
    """
    old_b, new_b = str(staging).encode(), str(final).encode()
    count = 0
    candidates: list[Path] = []
    if (staging / "bin").is_dir():
        candidates += [p for p in (staging / "bin").iterdir() if p.is_file() and not p.is_symlink()]
    for pattern in ("lib/python*/site-packages/*.pth", "lib/python*/site-packages/*.dist-info/direct_url.json"):
        candidates += list(staging.glob(pattern))
    for p in candidates:
        try:
            if p.stat().st_size > 1_000_000:
                continue
            data = p.read_bytes()
        except OSError:
            continue
        if old_b not in data or b"\0" in data[:4096]:
            continue
        mode = p.stat().st_mode
        tmp = p.with_name(p.name + ".envkit-tmp")
        tmp.write_bytes(data.replace(old_b, new_b))
        os.chmod(tmp, mode & 0o7777)
        tmp.replace(p)
        count += 1
    return count


def oserror_to_envkit(exc: OSError, where: Path) -> EnvkitError:
    if exc.errno == errno.ENOSPC:
        return DiskFullError(
            f"disk full while writing {where} (no space left on device)",
            hint="free space on that filesystem or use --prefix elsewhere; the previous environment is intact",
        )
    return InstallError(f"cannot write {where}: {exc.strerror or exc}")
