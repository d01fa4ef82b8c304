"""Where the lock files of an environment file go (no rattler, no engine import: used on the no-op path)."""

from __future__ import annotations

from pathlib import Path


def lock_paths(env_file_path: Path) -> tuple[Path, Path]:
    """(lock, explicit) next to an environment file: ``envkit.lock`` + ``environment.explicit.txt``
    for ``environment.yml``; ``<stem>.envkit.lock`` + ``<stem>.explicit.txt`` for other names."""
    d = env_file_path.parent
    stem = env_file_path.name
    for suffix in (".yml", ".yaml"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    if stem == "environment":
        return d / "envkit.lock", d / "environment.explicit.txt"
    return d / f"{stem}.envkit.lock", d / f"{stem}.explicit.txt"
