"""The answer of ``envkit libs``: per GPU library, what a process of the environment loads and from where.

``libs_report`` is the one entry point (the ``libs`` verb, ``smoke`` and ``doctor NAME`` call it);
``library_table`` renders the loaded-library table they all show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.libs.families import FAMILIES
from envkit.libs.findings import Finding, find
from envkit.libs.live import LiveResult, run_live
from envkit.libs.scan import Env, analyse

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


@dataclass
class LibsReport:
    prefix: str
    python: str | None
    ld_library_path: str
    rows: list[LibraryRow]
    env: Env
    findings: list[Finding]
    live: LiveResult | None = None

    @property
    def exit_code(self) -> int:
        bad = any(f.severity == "error" for f in self.findings) or bool(self.live and self.live.differences)
        return int(ExitCode.FINDINGS if bad else ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "python": self.python, "ld_library_path": self.ld_library_path,
                "libraries": [r.to_json() for r in self.rows],
                "copies": [c.to_json() for c in self.env.copies],
                "findings": [f.to_json() for f in self.findings],
                "probes": [p.to_json() for p in self.env.probes],
                "preload": self.env.preload,
                "live": self.live.to_json() if self.live else None,
                "notes": self.env.notes}

    def summary(self) -> str:
        loaded = [r for r in self.rows if r.path]
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = sum(f.severity == "warning" for f in self.findings)
        text = (f"{len(self.env.copies)} GPU library files, {len(loaded)} of {len(self.rows)} sonames load by name; "
                f"{errors} error(s), {warnings} warning(s)")
        if self.live is not None:
            text += (f"; --live: {self.live.agree}/{self.live.probes} probes as predicted"
                     + (f", {len(self.live.differences)} differ" if self.live.differences else ""))
        return text


def rows_of(env: Env) -> list[LibraryRow]:
    order = {f: i for i, f in enumerate(FAMILIES)}
    rows = []
    for p in env.probes:
        if not p.id.startswith("dlopen "):
            continue
        copies = [c for c in env.copies if c.soname == p.load]
        r = p.result
        target = (r.loaded[0] if r.loaded else r.reused) if r else None
        copy = next((c for c in copies if target and c.real == target.real), None)
        rows.append(LibraryRow(
            copies[0].family if copies else "?", p.load, target.path if target else None,
            (target.via if r and r.loaded else "already loaded") if target else None,
            copy.owner.text() if copy and copy.owner else None, copy.version if copy else None,
            r.error if r else None, [c.path for c in copies if not target or c.real != target.real]))
    return sorted(rows, key=lambda r: (order.get(r.family, 99), r.soname))


def libs_report(prefix: Path, python: Path | None = None, *, live: bool = False,
                environ: dict[str, str] | None = None) -> LibsReport:
    from envkit.libs.system import read_system
    from envkit.smoke.runner import activation_env, find_python, read_pins

    env_vars = activation_env(prefix, environ)
    py = python or find_python(prefix)
    env = analyse(prefix, py, env_vars, read_system())
    report = LibsReport(str(prefix), str(py) if py else None, env.ld_library_path, rows_of(env), env,
                        find(env, read_pins(prefix)))
    if live:
        report.live = run_live(env, env_vars)
    return report


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
