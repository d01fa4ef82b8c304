"""Typed results returned by every verb.

A verb (``envkit.commands.<verb>.run``) returns a ``Result``; it never prints or exits.
``envkit.cli`` renders it as a rich table on a terminal, plain text when piped, or, with
``--json``, as the one envelope of ``envkit.output`` (README.md, "JSON output"): the verb's
``to_json()`` is the envelope's ``data``, its ``messages()`` the envelope's ``messages``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from envkit.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

Level = Literal["note", "warning", "error"]


@dataclass(frozen=True)
class Message:
    """A note, warning or error shown beside a verb's answer (``messages`` in the JSON envelope)."""

    level: Level
    text: str
    hint: str | None = None
    code: str | None = None  # for errors: the EnvkitError subclass, e.g. "SolveError"

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "text": self.text, "hint": self.hint, "code": self.code}


def notes(texts: list[str]) -> list[Message]:
    return [Message("note", t) for t in texts]


class Result(Protocol):
    """What every verb returns."""

    def to_json(self) -> dict[str, Any]: ...

    def messages(self) -> list[Message]: ...

    def render(self, console: Console) -> None: ...

    @property
    def exit_code(self) -> int: ...


@dataclass
class SimpleResult:
    """A result that is a JSON record and a few lines of text."""

    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    code: int = ExitCode.OK
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.data

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def render(self, console: Console) -> None:
        for line in self.lines:
            console.print(line)

    @property
    def exit_code(self) -> int:
        return int(self.code)
