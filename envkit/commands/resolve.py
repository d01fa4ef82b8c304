"""``envkit resolve NAME``: the newest stack the profile allows and the host can run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.resolve_model import Resolution
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings
    from envkit.host.machines import Machine
    from envkit.matrix.model import Matrix
    from envkit.profile import Profile

WIDTH = 80


def _wrap(text: str, indent: str = "  ") -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False))


def _one_line(text: str, verbose: bool) -> str:
    """A note on one line of at most 80 columns; the whole text under --verbose."""
    if verbose or len(text) <= WIDTH:
        return _wrap(text, "      ") if verbose else text
    return text[: WIDTH - 16].rstrip() + " ... (--verbose)"


@dataclass
class ResolveResult:
    resolution: Resolution
    host: dict[str, Any] | None
    host_notes: list[str]
    machine: dict[str, Any]
    show_all: bool = False
    verbose: bool = False

    def to_json(self) -> dict[str, Any]:
        data = self.resolution.to_json()
        data["verdict"] = self.verdict()
        data["host"] = self.host
        data["machine"] = self.machine
        del data["notes"]  # in the envelope's messages
        return data

    def messages(self) -> list[Message]:
        return notes(self.host_notes + self.resolution.notes)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.resolution.chosen else ExitCode.FINDINGS)

    def verdict(self) -> str:
        res = self.resolution
        machine = res.host_summary or "any machine (no host facts)"
        if not res.verified:
            machine += ", unverified"
        if res.chosen is None:
            return f"no stack for {res.profile} on {machine}"
        use = res.route_use
        why = f"{use.confidence}" if use is not None else "?"
        if use is not None and res.route_why and res.route_why != use.confidence:
            why = res.route_why if res.route_why.startswith(use.confidence) else f"{use.confidence}: {res.route_why}"
        return f"{res.profile}: {res.chosen.label()} via {res.chosen.route} ({why}) for {machine}"

    def render(self, console: Console) -> None:
        res = self.resolution
        color = "green" if res.chosen and res.chosen.confidence == "confirmed" else ("yellow" if res.chosen else "red")
        console.print(f"[bold {color}]{_wrap(self.verdict())}[/]")
        for note in self.host_notes + res.notes:
            console.print(_one_line(f"note: {note}", self.verbose))
        if res.closest and not res.chosen:
            c = res.closest
            console.print(_one_line(f"closest miss: {c.label()}: " + "; ".join(c.reasons), self.verbose))
        for s in res.suggestions if not res.chosen else []:
            console.print(_wrap(f"[yellow]fix:[/] {s}", "     "))
        self._render_groups(console)
        if self.show_all:
            self._render_table(console)

    def _render_groups(self, console: Console) -> None:
        res = self.resolution
        real = [r for r in res.rejected if r.kinds != {"older"}]
        if res.groups:
            console.print(f"rejected: {len(real)} candidate(s), by cause (a candidate may have several):")
            for g in res.groups:
                console.print(_wrap(f"  {g.count:>4}  {g.title}", "        "))
                if g.unlock:
                    console.print(_wrap(f"        unlock: {g.unlock}", "          "))
        older = len(res.rejected) - len(real)
        tail = []
        if older:
            tail.append(f"{older} older candidate(s) also fit")
        if res.outside:
            tail.append(f"{len(res.outside)} outside the profile's pins (not rejections)")
        if tail:
            console.print("; ".join(tail))
        if res.rejected and not self.show_all:
            console.print(f"every candidate with its reasons: envkit resolve {res.profile} --all")

    def _render_table(self, console: Console) -> None:
        from envkit.render import table as render_table

        res = self.resolution
        rows = [r for r in res.rejected if r.kinds != {"older"}]
        table = render_table(console, f"rejected candidates ({len(rows)})", ("TensorRT", "CUDA", "why not"))
        for r in rows:
            table.add_row(r.candidate["tensorrt"], r.candidate["cuda"], "\n".join(r.reasons))
        console.print(table)


def resolve_command(args: argparse.Namespace, settings: Settings) -> tuple[Matrix, Profile, Machine, Resolution, list[str]]:
    """Load matrix and profile, choose the machine (``envkit.host.policy``), resolve. Shared by resolve and generate."""
    from envkit.host.policy import machines_for
    from envkit.matrix.load import load_for
    from envkit.profile import check_precisions, load_profile
    from envkit.resolve import resolve_profile

    matrix = load_for(settings)
    prof = load_profile(args.name, settings)
    check_precisions(prof, list(matrix.precisions))
    answer = machines_for(settings, matrix, host_file=getattr(args, "host", None), profile=prof)
    machine = answer.machine
    return matrix, prof, machine, resolve_profile(prof, matrix, machine.host_facts()), answer.notes


def run(args: argparse.Namespace, settings: Settings) -> ResolveResult:
    _matrix, _prof, machine, res, notes = resolve_command(args, settings)
    host = machine.host_facts()
    return ResolveResult(res, host.to_json() if host is not None else None, notes, machine.to_json(),
                         show_all=bool(getattr(args, "all", False)), verbose=bool(getattr(args, "verbose", False)))
