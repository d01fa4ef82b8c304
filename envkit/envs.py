"""Where named environments live, and what state a created environment is in.

Named environments go where conda looks for them: the first writable of conda's ``envs_dirs``:

1. ``CONDA_ENVS_PATH`` (``os.pathsep``-separated),
2. ``envs_dirs:`` in the condarc (``$CONDARC`` or ``~/.condarc``),
3. ``~/.conda/envs``.

``conda env list`` and ``conda activate NAME`` then see them (conda scans its envs dirs).

Every environment envkit built successfully has ``<prefix>/conda-meta/envkit.json`` (the record:
``envkit.create.record``). ``env_state(prefix)``:

* ``"broken"``: no or unreadable ``envkit.json``, ``complete`` not true, conda-meta missing, or an
  unfinished swap next to it (``.<name>.envkit-old``);
* ``"stale"``: the environment file or lock it was built from changed since (hashes differ) or is gone;
* ``"up to date"``: otherwise;
* ``"gone"`` (``list_envs`` only): registered (``envkit.registry``) but the prefix no longer exists.

``list_envs`` shows the environments in the envs dirs and every registered one (``--prefix`` ones too);
``find_env(name)`` looks in the envs dirs, then in the registry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envkit.context import Settings
from envkit.create.record import RECORD, EnvRecord, read_record
from envkit.create.staging import env_lock, old_dir, recover
from envkit.errors import InputError
from envkit.fsutil import sha256_file
from envkit.smoke.report import saved_summary

UP_TO_DATE = "up to date"
STALE = "stale"
BROKEN = "broken"
GONE = "gone"


def _env(settings: Settings | None) -> dict[str, str]:
    return settings.env if settings is not None and settings.env else dict(os.environ)


def _condarc_envs_dirs(env: dict[str, str]) -> list[Path]:
    rc = Path(env["CONDARC"]) if env.get("CONDARC") else Path(env.get("HOME", str(Path.home()))) / ".condarc"
    if not rc.is_file():
        return []
    from envkit.errors import EnvkitError
    from envkit.yamlio import load

    try:
        data = load(rc).data or {}
    except EnvkitError:  # a broken condarc is conda's to report; the other envs dirs still work
        return []
    dirs = data.get("envs_dirs") if isinstance(data, dict) else None
    if not isinstance(dirs, list):
        return []
    return [Path(os.path.expandvars(str(d))).expanduser() for d in dirs]


def envs_dirs(settings: Settings | None = None) -> list[Path]:
    """conda's envs dirs, in conda's order."""
    env = _env(settings)
    out: list[Path] = []
    for part in env.get("CONDA_ENVS_PATH", "").split(os.pathsep):
        if part.strip():
            out.append(Path(part).expanduser())
    out += _condarc_envs_dirs(env)
    home = Path(env.get("HOME", str(Path.home())))
    out.append(home / ".conda" / "envs")
    seen: list[Path] = []
    for d in out:
        if d not in seen:
            seen.append(d)
    return seen


def _writable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(d, os.W_OK | os.X_OK)


def first_writable_envs_dir(settings: Settings | None = None) -> Path:
    for d in envs_dirs(settings):
        if _writable(d):
            return d
    raise InputError(
        "no writable conda envs directory",
        hint="set CONDA_ENVS_PATH to a writable directory or use --prefix DIR",
    )


_NAME = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")


def validate_name(name: str) -> str:
    """An environment name: ASCII letters, digits, '_', '+', '-', '.' (not first), at most MAX_NAME_LENGTH long.
    A subset of what conda accepts, with no shell, path or control characters."""
    from envkit.limits import MAX_NAME_LENGTH

    shown = repr(name[:60]) + ("..." if len(name) > 60 else "")
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"environment name {shown} is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
    if not _NAME.fullmatch(name):
        raise InputError(f"invalid environment name {shown}",
                         hint="use ASCII letters, digits, '_', '+', '-' and '.' (not first)")
    return name


_SHELL_SPECIAL = frozenset('$`"\\!')


def validate_prefix(prefix: Path) -> Path:
    """A prefix envkit will create: no character a shell expands inside double quotes, no control character.
    Link scripts run through an activation script that double-quotes the prefix, so such a path would run code."""
    text = str(prefix)
    bad = sorted({c for c in text if c in _SHELL_SPECIAL or ord(c) < 32 or ord(c) == 127})
    if bad:
        raise InputError(f"the prefix {text[:200]!r} holds {', '.join(repr(c) for c in bad)}",
                         hint="choose a folder whose path has no $, `, \", \\, ! or control characters")
    return prefix


def find_env(name: str, settings: Settings | None = None) -> Path:
    """The prefix of the existing environment ``name`` (raises InputError when there is none).

    Named environments in the envs dirs first, then registered ``--prefix`` environments of that name."""
    from envkit.registry import RegistryError, read

    validate_name(name)
    for d in envs_dirs(settings):
        p = d / name
        heal(p)
        if (p / "conda-meta").is_dir():
            return p
    try:
        registered = [e.prefix for e in read(_env(settings)) if e.name == name]
        for r in registered:
            heal(r)
        registered = [r for r in registered if (r / "conda-meta").is_dir()]
    except RegistryError:
        registered = []
    if len(registered) == 1:
        return registered[0]
    if len(registered) > 1:
        raise InputError(
            f"{len(registered)} environments are named {name!r}: {', '.join(str(p) for p in registered)}",
            hint="pick one with --prefix DIR",
        )
    raise InputError(
        f"no environment named {name!r}",
        hint=f"looked in {', '.join(str(d) for d in envs_dirs(settings))} and envkit's registry; "
        "`envkit list` shows the environments there are",
    )


def resolve_env(name: str | None, prefix: str | None, settings: Settings | None = None) -> Path:
    """The environment a verb acts on: ``--prefix DIR`` (must hold conda-meta/) or ``NAME``."""
    if prefix:
        p = Path(prefix).expanduser().resolve()
        heal(p)
        if not p.exists():
            raise InputError(f"no such directory: {p}", key="--prefix",
                             hint="give the environment's prefix (the directory holding conda-meta/)")
        if not (p / "conda-meta").is_dir():
            raise InputError(f"{p} is not a conda environment (no conda-meta/)", key="--prefix",
                             hint="give the environment's prefix (the directory holding conda-meta/)")
        return p
    if not name:
        raise InputError("give an environment NAME or --prefix DIR", hint="`envkit list` shows the environments")
    return find_env(name, settings)


def env_dir_for(name: str, settings: Settings | None = None) -> Path:
    """Where environment ``name`` is or will be: the existing one, else in the first writable envs dir."""
    validate_name(name)
    for d in envs_dirs(settings):
        p = d / name
        if (p / "conda-meta").is_dir():
            return p
    return first_writable_envs_dir(settings) / name


def in_conda_envs_dirs(prefix: Path, settings: Settings | None = None) -> bool:
    parent = prefix.resolve().parent
    return any(parent == d.resolve() for d in envs_dirs(settings) if d.exists())


def heal(prefix: Path) -> list[str]:
    """Finish or undo an interrupted swap of ``prefix`` (any verb that finds the environment calls this).
    Does nothing when there is nothing to repair or another envkit process holds the environment's lock."""
    if not old_dir(prefix).exists():
        return []
    from envkit.errors import EnvkitError

    try:
        with env_lock(prefix, 0):
            return recover(prefix)
    except (EnvkitError, OSError):  # locked: a create is working on it; unwritable: leave it as it is
        return []


def env_state(prefix: Path) -> str:
    prefix = Path(prefix)
    if not (prefix / "conda-meta").is_dir():
        return BROKEN
    rec = read_record(prefix)
    if rec is None or not rec.complete or old_dir(prefix).exists():
        return BROKEN
    env_file = rec.env_file
    if env_file:
        try:
            if sha256_file(Path(env_file)) != rec.spec_hash:
                return STALE
        except OSError:
            return STALE
    lock_file = rec.lock_file
    if lock_file:
        try:
            if sha256_file(Path(lock_file)) != rec.lock_hash:
                return STALE
        except OSError:
            return STALE
    return UP_TO_DATE


@dataclass
class EnvInfo:
    name: str
    prefix: Path
    state: str
    record: EnvRecord | None

    def to_json(self) -> dict[str, Any]:
        rec = self.record
        return {
            "name": self.name,
            "prefix": str(self.prefix),
            "state": self.state,
            "stack": rec.stack if rec is not None else None,
            "created": rec.created if rec is not None else None,
            "envkit_version": rec.envkit_version if rec is not None else None,
            "smoke": saved_summary(self.prefix),
        }


def registry_problem(settings: Settings | None = None) -> str | None:
    """Why the registry cannot be read (file, line, hint), or None."""
    from envkit.registry import RegistryError, read

    try:
        read(_env(settings))
    except RegistryError as err:
        return f"{err.message} (hint: {err.hint})"
    return None


def list_envs(settings: Settings | None = None) -> list[EnvInfo]:
    """Every environment envkit created: those in the envs dirs (they have conda-meta/envkit.json, or an
    unfinished swap) and every registered one (``--prefix`` ones too; a vanished prefix is "gone").
    A registry that cannot be read is skipped here (``registry_problem`` says why)."""
    from envkit.registry import RegistryError, read

    out: list[EnvInfo] = []
    seen: set[Path] = set()
    for d in envs_dirs(settings):
        if not d.is_dir():
            continue
        for q in d.glob(".*.envkit-old"):  # a swap cut short between its renames: put the environment back
            heal(d / q.name[1:-len(".envkit-old")])
        for p in sorted(d.iterdir()):
            if p.name.startswith(".") or not p.is_dir() or p.resolve() in seen:
                continue
            if not (p / "conda-meta" / RECORD).exists() and not old_dir(p).exists():
                continue
            seen.add(p.resolve())
            out.append(EnvInfo(p.name, p, env_state(p), read_record(p)))
    try:
        registered = read(_env(settings))
    except RegistryError:
        registered = []
    for e in registered:
        if e.prefix in seen:
            continue
        seen.add(e.prefix)
        heal(e.prefix)  # a --prefix environment cut between the swap renames is put back, not "gone"
        if e.prefix.exists():
            out.append(EnvInfo(e.name, e.prefix, env_state(e.prefix), read_record(e.prefix)))
        else:
            out.append(EnvInfo(e.name, e.prefix, GONE, None))
    return out
