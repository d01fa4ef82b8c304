"""File-system helpers: reading a file a person named, atomic writes, the one file hash, a prefix's Python."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from envkit.errors import InputError


def read_input(path: Path | str, expected: str) -> bytes:
    """The bytes of a file a person named; a missing, unreadable or directory path is an InputError
    naming the file and what was ``expected`` there (e.g. "a YAML file")."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", f"check the path; expected {expected} there", file=str(p)) from None
    except IsADirectoryError:
        raise InputError(f"is a directory, expected {expected}", file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(p)) from None


def find_python(prefix: Path) -> Path | None:
    """An environment's interpreter: <prefix>/bin/python, bin/python3 (or python.exe on Windows)."""
    for rel in ("bin/python", "bin/python3", "python.exe"):
        p = Path(prefix) / rel
        if p.exists():
            return p
    return None


def sha256_file(path: Path | str) -> str:
    """The sha256 of a file's bytes (hex), read in 1 MiB chunks: the one file hash of envkit."""
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
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
