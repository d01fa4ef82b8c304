"""``envkit export NAME | --prefix DIR [--format environment-yml|explicit|lock|requirements] [-o FILE]``.

* ``environment-yml``: every installed package pinned exactly (``name=version=build``, pip as ``name==version``);
* ``explicit``: conda's ``@EXPLICIT`` url#sha256 list (``conda create --file``);
* ``lock``: the lock the environment was created from (verified against the hash in its record);
* ``requirements``: the pip/uv-installed packages as ``pip install -r`` lines.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import InputError
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings


@dataclass
class ExportResult:
    format: str
    prefix: Path
    text: str
    output: Path | None = None
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "prefix": str(self.prefix), "output": str(self.output) if self.output else None,
                "text": None if self.output else self.text}

    def render(self, console: Console) -> None:
        if self.output:
            console.print(f"wrote {self.format} to {self.output}", highlight=False, markup=False)
        else:
            console.out(self.text, end="", highlight=False)


def lock_text(prefix: Path) -> str:
    from envkit.create.record import read_record
    from envkit.fsutil import sha256_file

    rec = read_record(prefix)
    lock = rec.lock_file if rec is not None else None
    if not lock:
        raise InputError(f"{prefix} has no lock recorded (it was not created by envkit, or before locks existed)",
                         hint="use --format explicit or environment-yml")
    path = Path(lock)
    try:
        if rec is None or sha256_file(path) != rec.lock_hash:
            raise InputError(f"the lock {path} changed since the environment was created",
                             hint="recreate the environment (`envkit create`), or use --format explicit")
        return path.read_text(encoding="utf-8")
    except OSError:
        raise InputError(f"the environment's lock {path} is gone", hint="use --format explicit or environment-yml")


def run(args: argparse.Namespace, settings: Settings) -> ExportResult:
    from envkit.envs import resolve_env
    from envkit.inventory import export_environment_yml, export_explicit, export_requirements, read_inventory

    name = getattr(args, "name", None)
    prefix = resolve_env(name, getattr(args, "prefix", None), settings)
    fmt = getattr(args, "format", None) or "environment-yml"
    if fmt == "lock":
        text = lock_text(prefix)
    else:
        inv = read_inventory(prefix)
        if fmt == "explicit":
            text = export_explicit(inv)
        elif fmt == "requirements":
            text = export_requirements(inv)
        else:
            text = export_environment_yml(inv, name or prefix.name)
    out = Path(args.output) if getattr(args, "output", None) else None
    if out is not None:
        from envkit.fsutil import write_atomic

        if out.exists() and not getattr(args, "force", False):
            raise InputError(f"{out} exists", key="--output", hint="pick another path or add --force")
        if out.exists() and not out.is_file():
            raise InputError(f"{out} is not a regular file", key="--output")
        write_atomic(out, text)
    return ExportResult(fmt, prefix, text, out)
