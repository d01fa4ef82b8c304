"""``envkit libs (NAME | --prefix DIR) [--python PY] [--live] [--json]``: which CUDA, cuDNN, TensorRT and
onnxruntime libraries a process of the environment loads, from where, and what shadows what.

Exit 0 without error findings, 1 (ExitCode.FINDINGS) with one, or when ``--live`` saw a load other
than the one predicted; 2 for a prefix that is not an environment.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.context import Settings
from envkit.errors import InputError
from envkit.libs.report import LibsReport, libs_report
from envkit.libs.table import library_table
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class LibsResult:
    report: LibsReport

    def to_json(self) -> dict[str, Any]:
        return self.report.to_json()

    def messages(self) -> list[Message]:
        out = [Message("error" if f.severity == "error" else "warning", f.message, f.hint, f.code)
               for f in self.report.findings]
        live = self.report.live
        for d in live.differences if live else []:
            out.append(Message("error", f"--live: {d.probe}: {d.what}", "report this: envkit's loader model and "
                               "this machine's loader disagree", "live-difference"))
        return out + [Message("note", n) for n in self.report.env.notes]

    @property
    def exit_code(self) -> int:
        return self.report.exit_code

    def render(self, console: Console) -> None:
        from rich.markup import escape

        r = self.report
        bad = r.exit_code != 0
        console.print(f"[bold]{'problems' if bad else 'ok'}[/]: {escape(r.summary())}")
        console.print(f"[bold]environment[/] {escape(r.prefix)} (python {escape(r.python or 'none')})")
        if r.ld_library_path:
            console.print(f"[bold]LD_LIBRARY_PATH[/] {escape(r.ld_library_path)}")
        if r.env.preload:
            console.print(f"[bold]preloaded by[/] {escape(', '.join(r.env.preload))}")
        library_table(console, r.rows)
        for m in self.messages():
            colour = {"error": "red", "warning": "yellow"}.get(m.level, "dim")
            console.print(f"[{colour}]{m.level}:[/] {escape(m.text)}")
            if m.hint:
                console.print(f"  [dim]fix:[/] {escape(m.hint)}")


def run(args: argparse.Namespace, settings: Settings) -> LibsResult:
    from envkit.commands.smoke import resolve_prefix

    python = Path(args.python).expanduser() if getattr(args, "python", None) else None
    if python is not None and not python.exists():
        raise InputError(f"no such interpreter: {python}", key="--python")
    prefix = resolve_prefix(args, settings)
    return LibsResult(libs_report(prefix, python, live=bool(getattr(args, "live", False))))
