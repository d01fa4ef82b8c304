"""The loaded-library table (one row per soname: what dlopen by name loads, from where, who owns it).

Imports nothing of envkit's above it, so the smoke report and doctor can render it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class LibraryRow:
    family: str
    soname: str
    path: str | None  # what dlopen(soname) loads; None when it fails
    via: str | None
    owner: str | None
    version: str | None
    error: str | None
    copies: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family, "soname": self.soname, "loaded": self.path, "via": self.via,
                "owner": self.owner, "version": self.version, "error": self.error, "copies": self.copies}



def library_table(console: Console, rows: list[LibraryRow]) -> None:
    """family | soname | loaded from | found via | package | other copies (plain lines when piped)."""
    from rich.markup import escape

    if not console.is_terminal:
        for r in rows:
            where = r.path or f"not loaded: {_why(r)}"
            extra = f"; also {', '.join(r.copies)}" if r.copies else ""
            console.print(escape(f"{r.family:<11} {r.soname:<34} {where} [{r.via or '-'}] "
                                 f"{r.owner or ''} {r.version or ''}{extra}".rstrip()))
        return
    from envkit.render import table as render_table

    t = render_table(console)
    for col in ("family", "soname", "loaded from", "found via", "package", "version", "other copies"):
        t.add_column(col)
    for r in rows:
        t.add_row(r.family, escape(r.soname), escape(r.path or f"not loaded: {_why(r)}"), escape(r.via or "-"),
                  escape(r.owner or "-"), escape(r.version or "-"),
                  escape("\n".join(r.copies) or "-"))
    console.print(t)


def _why(r: LibraryRow) -> str:
    if r.error and r.copies and "cannot open shared object file" in r.error and r.error.startswith(r.soname):
        return "not on the loader's search path (only a load by path or a preloader reaches it)"
    return r.error or "?"
