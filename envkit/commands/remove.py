"""``envkit remove (NAME | --prefix DIR)``: delete an environment (under its lock)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from envkit.context import Settings
from envkit.errors import InputError
from envkit.result import SimpleResult


def remove_env(prefix: Path, lock_timeout: float | None = None) -> list[str]:
    """Remove ``prefix`` and any envkit leftovers next to it. Returns notes."""
    from envkit.create.staging import _trash, env_lock, old_dir, staging_dir

    notes: list[str] = []
    with env_lock(prefix, lock_timeout):
        for p in (staging_dir(prefix), old_dir(prefix)):
            if p.exists():
                shutil.rmtree(p, ignore_errors=True)
                notes.append(f"removed {p}")
        if prefix.exists():
            _trash(prefix)
    return notes


def processes_inside(prefix: Path) -> list[str]:
    """``"PID NAME"`` of each process (other than this one) running from, in, or activated into ``prefix``:
    its executable or working directory is under it, or its CONDA_PREFIX is it. Processes of other users
    that cannot be inspected are skipped."""
    import psutil

    root = str(prefix)
    under = root + os.sep

    def inside(path: str | None) -> bool:
        return bool(path) and (path == root or str(path).startswith(under))

    found: list[str] = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.pid == me:
            continue
        try:
            hit = inside(proc.exe()) or inside(proc.cwd()) or proc.environ().get("CONDA_PREFIX") == root
        except (psutil.Error, OSError):
            continue
        if hit:
            found.append(f"{proc.pid} {proc.info.get('name') or '?'}")
    return found


def refuse_unless_owned(prefix: Path) -> None:
    """Remove only what envkit created (its record, or an interrupted swap of one)."""
    from envkit.create.staging import created_by_envkit

    if not created_by_envkit(prefix):
        raise InputError(
            f"{prefix} was not created by envkit (no conda-meta/envkit.json): not removing it",
            hint=f"remove it with the tool that made it (e.g. `conda env remove -p {prefix}`)",
        )


def confirm(prefix: Path) -> None:
    """Ask on a terminal; refuse (InputError) when nobody can be asked."""
    import sys

    if not sys.stdin.isatty():
        raise InputError(f"not removing {prefix} without confirmation (stdin is not a terminal)",
                         hint="add -y to remove it without asking")
    sys.stderr.write(f"remove the environment {prefix}? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise InputError(f"kept {prefix}", hint="nothing was removed (answer y to remove, or pass -y)")


def _gone(name: str | None, prefix_arg: str | None, settings: Settings) -> list[Path]:
    """Registered environments of that name or prefix whose directory no longer exists (nothing else of that
    name exists either)."""
    from envkit.registry import RegistryError, read

    try:
        entries = read(settings.env or dict(os.environ))
    except RegistryError:
        return []
    if prefix_arg:
        p = Path(prefix_arg).expanduser().resolve()
        return [p] if not p.exists() and any(e.prefix == p for e in entries) else []
    if not name:
        return []
    from envkit.envs import envs_dirs, validate_name

    validate_name(name)  # before any path is built from it

    if any((d / name).exists() for d in envs_dirs(settings)):
        return []
    same = [e.prefix for e in entries if e.name == name]
    return same if same and not any(p.exists() for p in same) else []


def run(args: argparse.Namespace, settings: Settings) -> SimpleResult:
    from envkit.create.staging import old_dir
    from envkit.envs import find_env, heal
    from envkit.registry import unregister

    name = getattr(args, "name", None)
    prefix_arg = getattr(args, "prefix", None)
    gone = _gone(name, prefix_arg, settings)
    if gone:  # registered, but the directory was deleted by hand: forget it
        for p in gone:
            unregister(settings.env or dict(os.environ), p)
        return SimpleResult({"removed": None, "name": name, "forgotten": [str(p) for p in gone]},
                            [f"forgot {p} (the directory was already gone)" for p in gone])
    if prefix_arg:
        prefix = Path(prefix_arg).expanduser().resolve()
        heal(prefix)
        if not (prefix / "conda-meta").is_dir() and not old_dir(prefix).exists():
            raise InputError(f"{prefix} is not a conda environment (no conda-meta/)", hint="nothing was removed")
    elif name:
        prefix = find_env(name, settings)
    else:
        raise InputError("give an environment NAME or --prefix DIR")
    refuse_unless_owned(prefix)
    running = processes_inside(prefix)
    if running and not getattr(args, "force", False):
        shown = ", ".join(running[:5]) + (f" and {len(running) - 5} more" if len(running) > 5 else "")
        raise InputError(f"{len(running)} process(es) run inside {prefix}: {shown}",
                         hint="stop them first, or pass --force to remove the environment under them")
    if not getattr(args, "yes", False):
        confirm(prefix)
    notes = remove_env(prefix)
    unregister(settings.env or dict(os.environ), prefix)
    return SimpleResult(
        {"removed": str(prefix), "name": name},
        [*(f"note: {n}" for n in notes), f"removed {prefix}"],
        notes=notes,
    )
