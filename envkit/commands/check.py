"""``envkit check``: the CI pre-check. Every environment x target x step, without a GPU, installing nothing."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.check.steps import Row
    from envkit.context import Settings

MARK = {"pass": "[green]ok[/]", "fail": "[bold red]FAIL[/]", "skip": "[dim]-[/]"}


@dataclass
class CheckResult:
    rows: list[Row]
    seconds: float
    junit: str | None = None
    offline: bool = False
    fetches: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == "fail"]

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FINDINGS if self.failed else ExitCode.OK)

    def summary(self) -> dict[str, Any]:
        count = {s: sum(r.status == s for r in self.rows) for s in ("pass", "fail", "skip")}
        return {
            "ok": not self.failed,
            "total": len(self.rows),
            "passed": count["pass"],
            "failed": count["fail"],
            "skipped": count["skip"],
            "from_cache": sum(r.from_cache for r in self.rows),
            "environments": sorted({r.environment for r in self.rows}),
            "targets": sorted({r.target for r in self.rows}),
            "offline": self.offline,
            "repodata_requests": self.fetches,
            "seconds": round(self.seconds, 3),
            "junit": self.junit,
        }

    def to_json(self) -> dict[str, Any]:
        return {"results": [r.to_json() for r in self.rows], "summary": self.summary()}

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def render(self, console: Console) -> None:
        from rich.markup import escape

        from envkit.check.steps import STEPS
        from envkit.render import table as render_table

        for note in self.notes:
            console.print(f"note: {escape(note)}")
        table = render_table(console, "envkit check")
        table.add_column("environment", overflow="fold")
        table.add_column("target", overflow="fold", min_width=14)
        for s in STEPS:
            table.add_column(s)
        cells: dict[tuple[str, str], dict[str, Row]] = {}
        for r in self.rows:
            cells.setdefault((r.environment, r.target), {})[r.step] = r
        for (env, target), steps in cells.items():
            marks = []
            for s in STEPS:
                row = steps.get(s)
                marks.append("" if row is None else MARK[row.status] + (" (cache)" if row.from_cache else ""))
            table.add_row(escape(env), escape(target), *marks)
        console.print(table)
        for r in self.failed:
            console.print(f"[bold red]FAIL[/] {escape(f'{r.environment} [{r.target}] {r.step}: {r.reason}')}",
                          highlight=False)
        sm = self.summary()
        cache = f", {sm['from_cache']} from cache" if sm["from_cache"] else ""
        console.print(
            f"{sm['passed']} passed, {sm['failed']} failed, {sm['skipped']} skipped{cache} in {sm['seconds']:.2f} s"
            + (f"; JUnit report: {self.junit}" if self.junit else "")
        )


def run(args: argparse.Namespace, settings: Settings) -> CheckResult:
    from envkit.check.junit import write_junit
    from envkit.check.steps import Checker
    from envkit.check.units import assign_targets, select_units
    from envkit.config import load_config, redact

    start = time.perf_counter()
    config = load_config(settings)
    offline = bool(getattr(args, "offline", False) or config.offline)
    units = select_units(settings, list(args.names or []), bool(args.all), list(args.file or []))
    assign_targets(units, settings, list(args.target or []))
    workers = (settings.env or {}).get("ENVKIT_CHECK_WORKERS", "")
    checker = Checker(settings, config=config, channels=list(args.channel or []), offline=offline,
                      workers=int(workers) if workers.isdigit() and int(workers) > 0 else None)
    rows = checker.run(units)
    seconds = time.perf_counter() - start
    notes = []
    if config.mirrors and not args.channel:
        notes.append("mirrors: " + ", ".join(f"{k} -> {redact(v)}" for k, v in config.mirrors.items()))
    result = CheckResult(rows, seconds, args.junit, offline, checker.repodata.fetch_count, notes)
    if args.junit:
        write_junit(Path(args.junit), rows, seconds)
    return result
