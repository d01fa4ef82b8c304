"""``envkit bundle NAME --out DIR``: the locked packages (conda and pip) as an offline channel folder."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode, InputError
from envkit.result import Message, SimpleResult

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.check.bundle import BundleReport
    from envkit.context import Settings


@dataclass
class BundleResult:
    report: BundleReport

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return self.report.to_json()

    def messages(self) -> list[Message]:
        return []

    def render(self, console: Console) -> None:
        r = self.report
        console.print(f"bundled {r.environment}: {len(r.conda)} conda packages, {len(r.wheels)} wheels -> {r.out}")
        console.print(f"verified {r.verified} files (sha256) in {r.seconds:.2f} s")
        exact, from_project = r.commands()
        console.print("on the offline machine, exactly this bundle:", highlight=False)
        console.print(f"  {exact}", highlight=False, markup=False)
        console.print("or, in the project, its profile re-resolved against the bundle:", highlight=False)
        console.print(f"  {from_project}", highlight=False, markup=False)


def verify(out: str) -> SimpleResult:
    """``--verify``: the receiving end's check, on the air-gapped machine before ``create``."""
    from envkit.check.bundle import verify_bundle

    count, problems = verify_bundle(Path(out))
    lines = [f"verified {count} files (sha256) in {out}"] + [f"problem: {p}" for p in problems]
    return SimpleResult(
        {"out": out, "verified": count, "problems": problems, "ok": not problems},
        lines,
        ExitCode.FINDINGS if problems else ExitCode.OK,
    )


def run(args: argparse.Namespace, settings: Settings) -> BundleResult | SimpleResult:
    if args.verify:
        return verify(args.out)
    if not args.name:
        raise InputError("envkit bundle needs an environment NAME (or --verify --out DIR)",
                         "envkit bundle NAME --out DIR; `envkit list` shows the environments")
    from envkit.check.bundle import make_bundle
    from envkit.check.steps import DEFAULT_PIP_INDEX
    from envkit.check.units import select_units

    (unit,) = select_units(settings, [args.name], False, [])
    env = settings.env or {}
    index = env.get("ENVKIT_PIP_INDEX_URL") or env.get("PIP_INDEX_URL") or DEFAULT_PIP_INDEX
    from envkit.config import load_config
    from envkit.context import global_options

    return BundleResult(make_bundle(unit, args.out, pip_index=index, env_vars=env or None,
                                    options=global_options(settings), config=load_config(settings)))
