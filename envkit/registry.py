"""The registry of environments envkit created: named ones and ``--prefix`` ones alike.

``$XDG_DATA_HOME/envkit/environments.json`` (default ``~/.local/share/envkit``; ``ENVKIT_REGISTRY`` overrides)::

    {"schema": "envkit.registry/1", "environments": [{"name": "demo", "prefix": "/abs/path", "registered": "..."}]}

Each created environment is also appended to conda's ``~/.conda/environments.txt`` (one line, its prefix),
so ``conda env list`` sees it; envkit only ever appends its own line there and, on ``remove``, takes out
exactly that line, leaving every other line as it was.

A registry file that cannot be read is reported (``RegistryError`` names the file and line) and never
overwritten: ``register`` moves it aside to ``environments.json.broken`` first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from envkit.errors import InputError

SCHEMA = "envkit.registry/1"
MAX_BYTES = 4 << 20


class RegistryError(InputError):
    """The registry file is not what envkit writes."""


@dataclass(frozen=True)
class Entry:
    name: str
    prefix: Path
    registered: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "prefix": str(self.prefix), "registered": self.registered}


def registry_file(env: dict[str, str]) -> Path:
    if env.get("ENVKIT_REGISTRY"):
        return Path(env["ENVKIT_REGISTRY"])
    home = Path(env.get("HOME") or str(Path.home()))
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return base / "envkit" / "environments.json"


def conda_environments_txt(env: dict[str, str]) -> Path:
    return Path(env.get("HOME") or str(Path.home())) / ".conda" / "environments.txt"


def read(env: dict[str, str]) -> list[Entry]:
    """The registered environments (RegistryError for a file envkit cannot read)."""
    f = registry_file(env)
    if not f.exists():
        return []
    hint = f"envkit writes this file; move it away and run `envkit create` again to start a new one ({f})"
    if not f.is_file():
        raise RegistryError("not a regular file", hint=hint, file=str(f))
    if f.stat().st_size > MAX_BYTES:
        raise RegistryError(f"larger than {MAX_BYTES} bytes", hint=hint, file=str(f))
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RegistryError(f"not valid JSON: {exc.msg}", hint=hint, file=str(f), line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"cannot be read: {exc}", hint=hint, file=str(f)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("environments"), list):
        raise RegistryError(f"not an envkit registry (expected schema {SCHEMA!r})", hint=hint, file=str(f),
                            key="schema")
    out: list[Entry] = []
    for i, item in enumerate(data["environments"]):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("prefix"), str)
                and os.path.isabs(item["prefix"])):
            raise RegistryError("each entry needs a name and an absolute prefix", hint=hint, file=str(f),
                                key=f"environments[{i}]")
        out.append(Entry(item["name"], Path(item["prefix"]), str(item.get("registered") or "")))
    return out


def _write(env: dict[str, str], entries: list[Entry]) -> None:
    from envkit.fsutil import write_atomic

    data = {"schema": SCHEMA, "environments": [e.to_json() for e in entries]}
    write_atomic(registry_file(env), json.dumps(data, indent=2) + "\n")


def register(env: dict[str, str], name: str, prefix: Path) -> list[str]:
    """Add (or refresh) ``prefix`` in the registry and in conda's environments.txt; returns notes."""
    notes: list[str] = []
    prefix = Path(prefix).resolve()
    try:
        entries = read(env)
    except RegistryError as err:
        f = registry_file(env)
        aside = f.with_name(f.name + ".broken")
        os.replace(f, aside)
        notes.append(f"{err.message}; kept it as {aside} and started a new registry")
        entries = []
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entries = [e for e in entries if e.prefix != prefix] + [Entry(name, prefix, stamp)]
    _write(env, entries)
    _append_conda_line(conda_environments_txt(env), str(prefix))
    return notes


def unregister(env: dict[str, str], prefix: Path) -> None:
    """Forget ``prefix`` (registry and our line in conda's environments.txt); a broken registry is left as is."""
    prefix = Path(prefix).resolve()
    try:
        entries = read(env)
    except RegistryError:
        entries = None
    if entries is not None and any(e.prefix == prefix for e in entries):
        _write(env, [e for e in entries if e.prefix != prefix])
    _drop_conda_line(conda_environments_txt(env), str(prefix))


def _append_conda_line(txt: Path, line: str) -> None:
    try:
        if txt.is_file():
            existing = txt.read_text(encoding="utf-8", errors="replace")
            if line in existing.splitlines():
                return
            sep = "" if not existing or existing.endswith("\n") else "\n"
        else:
            sep = ""
        txt.parent.mkdir(parents=True, exist_ok=True)
        with txt.open("a", encoding="utf-8") as fh:
            fh.write(f"{sep}{line}\n")
    except OSError:
        pass  # conda's list is a courtesy; envkit's own registry is what envkit reads


def _drop_conda_line(txt: Path, line: str) -> None:
    """Remove exactly the lines equal to ``line``; every other byte stays."""
    from envkit.fsutil import write_atomic

    try:
        if not txt.is_file():
            return
        text = txt.read_text(encoding="utf-8", errors="surrogateescape")
        kept = [ln for ln in text.splitlines(keepends=True) if ln.rstrip("\r\n") != line]
        if len(kept) != len(text.splitlines(keepends=True)):
            write_atomic(txt, "".join(kept).encode("utf-8", errors="surrogateescape"))
    except OSError:
        pass
