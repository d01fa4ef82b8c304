"""File-system helpers shared by every module that writes a file a reader must never see half-written."""

from __future__ import annotations

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
