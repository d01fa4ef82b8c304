"""File-system helpers: reading a file a person named, atomic writes, the one file hash, a prefix's Python."""

from __future__ import annotations

import os
from pathlib import Path

from envkit.errors import InputError


def read_input(path: Path | str, expected: str, *, limit: int | None = None) -> bytes:
    """The bytes of a file a person named; a missing, unreadable or directory path is an InputError
    naming the file and what was ``expected`` there (e.g. "a YAML file").

    Only regular files are read (a FIFO, socket or device is refused without blocking: the file is opened
    with O_NONBLOCK), and at most ``limit`` bytes (default ``envkit.limits.MAX_INPUT_BYTES``)."""
    import stat

    from envkit.limits import MAX_INPUT_BYTES

    p = Path(path)
    cap = MAX_INPUT_BYTES if limit is None else limit
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputError("file not found", f"check the path; expected {expected} there", file=str(p)) from None
    except IsADirectoryError:
        raise InputError(f"is a directory, expected {expected}", file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(p)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"is a directory, expected {expected}", file=str(p))
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"not a regular file (a pipe, socket or device), expected {expected}",
                             "save it to a file first", file=str(p))
        if st.st_size > cap:
            raise InputError(f"too large ({st.st_size} bytes; the limit is {cap})", file=str(p))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(p)) from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise InputError(f"too large (over {cap} bytes)", file=str(p))
    return data


def current_umask() -> int:
    """The process's umask (read from /proc on Linux, so no other thread sees it changed)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def find_python(prefix: Path) -> Path | None:
    """An environment's interpreter: <prefix>/bin/python, bin/python3 (or python.exe on Windows)."""
    for rel in ("bin/python", "bin/python3", "python.exe"):
        p = Path(prefix) / rel
        if p.exists():
            return p
    return None


def sha256_file(path: Path | str) -> str:
    """The sha256 of a file's bytes (hex), read in 1 MiB chunks: the one file hash of envkit."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: Path | str, data: str | bytes, *, fsync: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``.

    A crash leaves either the old file or the new one, never a torn one; the temporary
    file is removed on any failure.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a directory, not a file to write", "give a file path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _write_error(exc, target) from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600, made what open() would give
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _write_error(exc, target) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_error(exc: OSError, target: Path) -> Exception:
    import errno

    from envkit.errors import DiskFullError, WriteError

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"no space left to write {target}", "free some space and run again")
    return WriteError(f"cannot write {target}: {exc.strerror or exc}",
                      "check that the folder exists, is writable and is not a mount point or a directory")
