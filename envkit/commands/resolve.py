"""``envkit resolve NAME``: the newest stack the profile allows and the host can run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.resolve import Resolution
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings

MAX_ROWS = 12


@dataclass
class ResolveResult:
    resolution: Resolution
    host: dict[str, Any] | None
    host_notes: list[str]

    def to_json(self) -> dict[str, Any]:
        data = self.resolution.to_json()
        data["host"] = self.host
        del data["notes"]  # in the envelope's messages
        return data

    def messages(self) -> list[Message]:
        return notes(self.host_notes + self.resolution.notes)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.resolution.chosen else ExitCode.FINDINGS)

    def render(self, console: Console) -> None:
        from envkit.render import table as render_table

        res = self.resolution
        for note in self.host_notes + res.notes:
            console.print(f"note: {note}")
        if res.host_summary:
            console.print(f"host: {res.host_summary}")
        if res.chosen:
            tag = "" if res.verified else " [yellow](unverified: no host facts)[/]"
            console.print(f"[bold green]chosen[/] for {res.profile}: {res.chosen.label()} via {res.chosen.route}{tag}")
        else:
            console.print(f"[bold red]no stack[/] for {res.profile}")
        shown = [r for r in res.rejected if "older" not in r.kinds] if res.chosen else res.rejected
        if shown:
            table = render_table(console, f"rejected candidates ({len(shown)} shown of {len(res.rejected)})")
            table.add_column("TensorRT")
            table.add_column("CUDA")
            table.add_column("why not")
            for r in shown[:MAX_ROWS]:
                table.add_row(r.candidate["tensorrt"], r.candidate["cuda"], "\n".join(r.reasons))
            console.print(table)
            if len(shown) > MAX_ROWS:
                console.print(f"... {len(shown) - MAX_ROWS} more (all of them with --json)")
        if res.closest and not res.chosen:
            c = res.closest
            console.print(f"closest miss: TensorRT {c.candidate['tensorrt']} / CUDA {c.candidate['cuda']}: "
                          + "; ".join(c.reasons))
        for s in res.suggestions:
            console.print(f"[yellow]fix:[/] {s}")


def resolve_command(args: argparse.Namespace, settings: Settings) -> tuple[Any, Any, Any, Any, list[str]]:
    """Load matrix, profile and host, resolve. Shared by resolve and generate."""
    from envkit.commands._host import host_for
    from envkit.matrix.load import load_matrix
    from envkit.profile import check_precisions, load_profile
    from envkit.resolve import resolve_profile

    matrix = load_matrix(settings.matrix_path)
    prof = load_profile(args.name, settings)
    check_precisions(prof, list(matrix.precisions))
    host, notes = host_for(args, settings, matrix, prof)
    return matrix, prof, host, resolve_profile(prof, matrix, host), notes


def run(args: argparse.Namespace, settings: Settings) -> ResolveResult:
    _matrix, _prof, host, res, notes = resolve_command(args, settings)
    return ResolveResult(res, host.to_json() if host is not None else None, notes)
