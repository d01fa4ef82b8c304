"""A parsed-YAML cache for ``yamlio.load``: a file read again with the same bytes skips PyYAML entirely.

Start-up (issue 11): importing PyYAML and composing a profile or an environment file is a large part of what
``resolve`` and ``validate`` cost. ``<cache>/yaml/<sha256 of the bytes, envkit's version and yamlio.py>.json``
holds the data and its key-path lines as plain JSON (it cannot run code). A document is stored only when JSON
gives it back exactly (no dates, no NaN), so a hit returns what parsing returns; never a file that may hold a
credential (a URL's user:password@, /t/TOKEN, words such as token or password: those are parsed each time). A torn,
foreign or unreadable entry is a miss. At most ``MAX_ENTRIES`` files: the oldest half goes when it is full (counted once per process).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

MAX_BYTES = 1024 * 1024  # larger files are parsed every time
MAX_ENTRIES = 4096  # entries are a few KiB: at most ~16 MiB
_SECRET_WORDS = re.compile(r"passw(or)?d|secret|credential|api[_-]?key|authori[sz]ation|bearer\s|\btoken\b|_token|token[:=]",
                           re.I)


_SALT: list[bytes] = []  # envkit's version and yamlio.py's bytes, read once per process
_ROOM: dict[Path, int] = {}  # entries counted once per process and folder, then kept up to date here


def _salt() -> bytes:
    if not _SALT:
        from envkit import __version__

        try:
            code = (Path(__file__).parent / "yamlio.py").read_bytes()
        except OSError:
            code = b"?"
        _SALT.append(f"\0{__version__}\0".encode() + code)
    return _SALT[0]


def _entry(raw: bytes) -> Path | None:
    import hashlib

    from envkit.context import user_cache_dir

    if len(raw) > MAX_BYTES or os.environ.get("ENVKIT_YAML_CACHE") == "0":
        return None
    digest = hashlib.sha256(raw + _salt()).hexdigest()[:32]
    return Path(os.environ.get("ENVKIT_CACHE_DIR") or user_cache_dir()) / "yaml" / f"{digest}.json"


def lookup(raw: bytes) -> tuple[Any, dict[tuple[str | int, ...], int]] | None:
    """(data, lines) stored for exactly these bytes, or None."""
    from envkit.errors import EnvkitError
    from envkit.fsutil import read_input
    from envkit.limits import load_json

    f = _entry(raw)
    if f is None or not f.is_file():
        return None
    try:
        doc = load_json(read_input(f, "a YAML cache file"), "the YAML cache")
    except (EnvkitError, OSError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("lines"), list) or "data" not in doc:
        return None
    lines: dict[tuple[str | int, ...], int] = {}
    for entry in doc["lines"]:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
                and isinstance(entry[1], int) and all(isinstance(k, (str, int)) for k in entry[0])):
            return None
        lines[tuple(entry[0])] = entry[1]
    return doc["data"], lines


def store(raw: bytes, data: Any, lines: dict[tuple[str | int, ...], int]) -> None:
    """Remember a parsed document, when JSON gives it back exactly; failures are silent (it is a cache)."""
    import json

    from envkit.errors import EnvkitError
    from envkit.fsutil import write_atomic

    f = _entry(raw)
    if f is None or _may_hold_a_secret(raw):
        return
    try:
        text = json.dumps({"data": data, "lines": [[list(k), v] for k, v in lines.items()]},
                          separators=(",", ":"), allow_nan=False)
        if json.loads(text)["data"] != data or not _same_types(json.loads(text)["data"], data):
            return
        _make_room(f.parent)
        write_atomic(f, text)
    except (OSError, EnvkitError, TypeError, ValueError, RecursionError):
        pass


def _may_hold_a_secret(raw: bytes) -> bool:
    """A credential must never land on disk: files with a URL's user:password@, a /t/TOKEN/ path or a word
    that names a secret are parsed every time, never stored."""
    from envkit.config import redact_text

    text = raw.decode("utf-8", "replace")
    return redact_text(text) != text or _SECRET_WORDS.search(text) is not None


def _same_types(a: Any, b: Any) -> bool:
    """Equal values can differ in type (1 == 1.0 == True): the cache must give back the same types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(type(k1) is type(k2) and _same_types(a[k1], b[k2]) for k1, k2 in zip(a, b, strict=True))
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


def _make_room(folder: Path) -> None:
    if folder in _ROOM and _ROOM[folder] < MAX_ENTRIES - 1:
        _ROOM[folder] += 1
        return
    try:
        entries = [p for p in folder.iterdir() if p.suffix == ".json"] if folder.is_dir() else []
    except OSError:
        return
    _ROOM[folder] = len(entries) + 1
    if len(entries) < MAX_ENTRIES:
        return
    _ROOM[folder] = len(entries) - len(entries) // 2 + 1
    entries.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0)
    for p in entries[: len(entries) // 2]:
        try:
            p.unlink()
        except OSError:
            pass
