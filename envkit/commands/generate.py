"""``envkit generate NAME``: write the pinned environment.yml for the resolved stack."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from envkit.errors import ResolveError
from envkit.result import SimpleResult

if TYPE_CHECKING:
    from envkit.context import Settings


def run(args: argparse.Namespace, settings: Settings) -> SimpleResult:
    from envkit.commands.resolve import resolve_command
    from envkit.generate import default_output, regenerate_command, render, write_environment

    matrix, prof, machine, res, notes = resolve_command(args, settings)
    if res.chosen is None:
        closest = "; ".join(res.closest.reasons) if res.closest else "no candidate"
        raise ResolveError(
            f"no stack for profile {prof.name!r} (closest miss: {closest})",
            "; ".join(res.suggestions) or f"run `envkit resolve {prof.name}` to see every rejected candidate",
        )
    rendered = render(prof, res, matrix, machine.host_facts(), regenerate_command(prof, args.host))
    out = Path(args.output) if args.output else default_output(prof, settings)
    outcome = write_environment(rendered, out, force=args.force)
    lines = [f"note: {n}" for n in notes + res.notes]
    lines.append(f"{outcome.action}: {out}")
    lines.append(f"stack: {res.chosen.label()} via {res.chosen.route}")
    return SimpleResult(
        {
            "profile": prof.name,
            "path": str(out),
            "action": outcome.action,
            "chosen": res.chosen.to_json(),
            "verified": res.verified,
            "machine": machine.to_json(),
            "conda": rendered.conda,
            "pip": rendered.pip,
        },
        lines,
        notes=notes + res.notes,
    )
