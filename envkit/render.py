"""Rendering helpers shared by the verbs' results: rich tables on a terminal, plain columns when piped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def table(console: Console, title: str | None = None, columns: list[str] | tuple[str, ...] = (), **kw: Any) -> Table:
    """A table with a box on a terminal and none when piped (one row per line, easy to grep)."""
    from rich.table import Table

    if console.is_terminal:
        t = Table(title=title, title_justify="left", **kw)
    else:
        t = Table(title=title, title_justify="left", box=None, show_edge=False, pad_edge=False, **kw)
    for c in columns:
        t.add_column(c)
    return t


def plain_console(**kw: Any) -> Console:
    """The console for stdout: colours and wrapping on a terminal; plain, unwrapped text when piped."""
    import sys

    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False, soft_wrap=True, **kw)
    return Console(highlight=False, soft_wrap=True, width=100_000, color_system=None, **kw)
