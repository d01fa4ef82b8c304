"""The default backend: py-rattler embedded in envkit (see envkit.create.pipeline / envkit.engine)."""

from __future__ import annotations

from pathlib import Path


class EmbeddedRattlerBackend:
    name = "rattler"

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("rattler") is not None

    def create_argv(self, prefix: Path, env_file: Path) -> list[str]:
        return ["envkit", "create", "--file", str(env_file), "--prefix", str(prefix)]

    def remove_argv(self, prefix: Path) -> list[str]:
        return ["envkit", "remove", "--prefix", str(prefix)]
