"""Where the lock files go (no rattler, no engine import: used on the no-op path).

The environment file's own environment (the profile's, or the one named as the file's ``name:``, in conda's
envs dirs) keeps its lock next to the file (``lock_paths``: what ``check``, ``bundle`` and ``mirror-check``
read, and what a project commits); every other environment made from that file (``--name OTHER``,
``--prefix DIR``) keeps its own inside itself (``env_lock_paths``). A lock names the machine it was solved
for (its virtual packages); building the same environment for another machine re-solves it.
"""

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


def env_lock_paths(prefix: Path) -> tuple[Path, Path]:
    """(lock, explicit) of an environment that is not its environment file's own: inside the environment
    (``conda-meta/envkit.lock``, ``conda-meta/environment.explicit.txt``), so two environments made from one
    file (another name, another prefix) never share, and rewrite, one lock."""
    meta = Path(prefix) / "conda-meta"
    return meta / "envkit.lock", meta / "environment.explicit.txt"
