"""Typed results returned by every verb.

A verb (``envkit.commands.<verb>.run``) returns a ``Result``; it never prints or exits.
``envkit.cli`` renders it as a rich table on a terminal, plain text when piped, or JSON
with ``--json``. The JSON keys are a documented contract (README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from envkit.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class Result(Protocol):
    """What every verb returns."""

    def to_json(self) -> dict[str, Any]: ...

    def render(self, console: Console) -> None: ...

    @property
    def exit_code(self) -> int: ...


@dataclass
class SimpleResult:
    """A result that is a JSON record and a few lines of text."""

    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    code: int = ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return self.data

    def render(self, console: Console) -> None:
        for line in self.lines:
            console.print(line)

    @property
    def exit_code(self) -> int:
        return int(self.code)
