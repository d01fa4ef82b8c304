"""The answer of ``envkit libs``: per GPU library, what a process of the environment loads and from where.

``libs_report`` is the one entry point (the ``libs`` verb, ``smoke`` and ``doctor NAME`` call it);
``envkit.libs.table`` renders the loaded-library table they all show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envkit.errors import ExitCode
from envkit.libs.families import FAMILIES
from envkit.libs.findings import Finding, find
from envkit.libs.live import LiveResult, run_live
from envkit.libs.scan import Env, analyse
from envkit.libs.table import LibraryRow


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
