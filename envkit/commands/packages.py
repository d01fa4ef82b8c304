"""``envkit packages NAME | --prefix DIR`` (also ``envkit list NAME``): the installed packages, like ``conda list``.

Conda packages with version, build and channel; pip/uv-installed ones with their installer (``INSTALLER``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.inventory import Inventory, read_inventory
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings


@dataclass
class PackagesResult:
    name: str | None
    inventory: Inventory
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return [Message("warning", p) for p in self.inventory.problems]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": str(self.inventory.prefix),
            "packages": [p.to_json() for p in self.inventory.packages],
            "problems": self.inventory.problems,
        }

    def render(self, console: Console) -> None:
        from envkit.render import table

        inv = self.inventory
        console.print(f"{self.name or inv.prefix}: {len(inv.conda)} conda packages, {len(inv.pip)} from pip/uv "
                      f"({inv.prefix})", highlight=False, markup=False)
        t = table(console, None, ["name", "version", "build", "channel / installer"])
        for p in inv.packages:
            t.add_row(p.name, p.version, p.build or "-", p.channel if p.installer == "conda" else p.installer)
        console.print(t)
        for problem in inv.problems:
            console.print(f"warning: {problem}", highlight=False, markup=False)


def run(args: argparse.Namespace, settings: Settings) -> PackagesResult:
    from envkit.envs import resolve_env

    name = getattr(args, "name", None)
    prefix: Path = resolve_env(name, getattr(args, "prefix", None), settings)
    return PackagesResult(name, read_inventory(prefix))
