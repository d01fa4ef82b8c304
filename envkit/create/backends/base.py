"""The backend protocol and lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from envkit.errors import InputError


class EnvBackend(Protocol):
    name: str

    def available(self) -> bool: ...

    def create_argv(self, prefix: Path, env_file: Path) -> list[str]: ...

    def remove_argv(self, prefix: Path) -> list[str]: ...


def get_backend(name: str) -> EnvBackend:
    from envkit.create.backends.cli import CLI_BACKENDS
    from envkit.create.backends.embedded import EmbeddedRattlerBackend

    table: dict[str, type] = {"rattler": EmbeddedRattlerBackend, **CLI_BACKENDS}
    if name not in table:
        raise InputError(f"unknown backend {name!r}", hint="one of: " + ", ".join(table))
    backend: EnvBackend = table[name]()
    return backend
