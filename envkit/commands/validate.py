"""``envkit validate FILE [--host FILE] [--json]``: check any conda environment file.

Exit codes: 0 no error findings (warnings and info allowed), 1 at least one error finding,
2 the environment file (or the capture) cannot be read. Fast path: imports only the YAML
reader, the matrix loader and the analysis (no rattler, no onnx).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.context import Settings
from envkit.errors import ExitCode
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.envfile import EnvFile
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix
    from envkit.validate.report import ValidateReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@dataclass
class ValidateResult:
    report: ValidateReport

    def to_json(self) -> dict[str, Any]:
        return self.report.to_json()

    def messages(self) -> list[Message]:
        return notes(self.report.notes)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FINDINGS if self.report.has_errors else ExitCode.OK)

    def verdict(self) -> str:
        """One line: the counts, then the stack the file pins."""
        r = self.report
        counts = ", ".join(f"{r.count(sv)} {sv}{'s' if r.count(sv) != 1 and sv != 'info' else ''}"
                           for sv in ("error", "warning", "info"))
        return f"{r.file}: {counts}; stack: {self.stack_text()}"

    def stack_text(self) -> str:
        names = {"cuda": "CUDA", "cudnn": "cuDNN", "tensorrt": "TensorRT", "python": "Python"}
        parts = []
        for key, label in names.items():
            item = self.report.stack.get(key)
            if not item:
                parts.append(f"{label} -")
                continue
            value = item.get("version") or (f"{item['major']}.x" if item.get("major") is not None else None)
            value = value or item.get("spec") or "unpinned"
            where = f"line {item['line']}" if item.get("line") else ""
            where += (", " if where and item.get("route") else "") + (item.get("route") or "")
            parts.append(f"{label} {value}" + (f" ({where})" if where else ""))
        return ", ".join(parts)

    def render(self, console: Console) -> None:
        from rich.markup import escape

        from envkit.render import table as render_table

        r = self.report
        worst = "error" if r.count("error") else ("warning" if r.count("warning") else None)
        style = _STYLE[worst] if worst else "bold green"
        console.print(f"[{style}]{escape(self.verdict())}[/]")
        if r.host is not None:
            console.print(f"  host: {escape(r.host.summary())}")
        if not r.findings:
            console.print("[green]no findings: checked and fine[/]")
            return
        t = render_table(console)
        t.add_column("line", justify="right")
        t.add_column("severity")
        t.add_column("code")
        t.add_column("message", overflow="fold")
        for f in r.findings:
            msg = escape(f.message) + (f"\n[dim]hint: {escape(f.hint)}[/]" if f.hint else "")
            t.add_row(str(f.line) if f.line else "-", f"[{_STYLE[f.severity]}]{f.severity}[/]", f.code, msg)
        console.print(t)


def load_host(path: str, matrix: Matrix) -> HostInfo | None:
    """The facts of the ``--host`` capture (``envkit.host.machines``: the one reader of a named machine)."""
    from envkit.host.machines import Machine

    return Machine.from_capture(path, matrix).facts


def run(args: argparse.Namespace, settings: Settings) -> ValidateResult:
    from envkit.envfile import read_env_file
    from envkit.matrix.load import load_for
    from envkit.validate.report import validate_env

    env = read_env_file(args.file, lenient=True)
    _refuse_what_create_refuses(env)
    matrix = load_for(settings)
    host = load_host(args.host, matrix) if getattr(args, "host", None) else None
    return ValidateResult(validate_env(env, matrix, host))



def _refuse_what_create_refuses(env: EnvFile) -> None:
    """A spec create refuses (envkit's strict reading) is bad input here too: exit 2, the same message.

    validate reads leniently so that the rest of the file is still judged; an entry that the strict
    reading would refuse is re-read strictly, which raises create's own InputError."""
    if env.unparsed:
        from envkit.envfile import read_env_file

        read_env_file(env.path)
