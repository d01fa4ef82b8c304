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
MAX_TABLE_TARGETS = 50  # more machines (a fleet): the table shows kinds of machine, not nodes
MAX_RICH_ROWS = 200  # more rows: plain aligned columns on a terminal too (rich lays 480 rows out in ~0.5 s)
PLAIN = {"pass": "ok", "fail": "FAIL", "skip": "-"}


def _rich_mark(mark: str) -> str:
    word, _, rest = mark.partition(" ")
    if word == "unreachable":
        return "[yellow]unreachable[/]"
    return (MARK[word] + (f" {rest}" if rest else "")) if word in MARK else mark


@dataclass
class CheckResult:
    rows: list[Row]
    seconds: float
    junit: str | None = None
    offline: bool = False
    fetches: int = 0
    notes: list[str] = field(default_factory=list)
    channel_errors: dict[str, list[str]] = field(default_factory=dict)  # channel -> why it could not be read
    kinds: dict[str, str] = field(default_factory=dict)  # target label -> kind of machine (envkit.check.fleet)
    solves: int = 0

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == "fail"]

    def _blocked(self, row: Row) -> bool:
        """A failure that is (also) an unreadable channel: reported once per channel, not as drift."""
        return any(e in row.reason for errs in self.channel_errors.values() for e in errs)

    @property
    def drift(self) -> list[Row]:
        return [r for r in self.failed if not self._blocked(r)]

    def unreachable(self) -> list[dict[str, Any]]:
        """One entry per channel that could not be read, with the checks it left undecided."""
        return [{"channel": ch, "error": errs[0],
                 "checks": [f"{r.environment} [{r.target}] {r.step}" for r in self.failed
                            if any(e in r.reason for e in errs)]}
                for ch, errs in self.channel_errors.items()]

    @property
    def exit_code(self) -> int:
        """5 when a channel could not be read (the check is incomplete), 1 for drift, else 0."""
        if any(u["checks"] for u in self.unreachable()):
            return int(ExitCode.INSTALL)
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
            "solves": self.solves,
            "machines": self.machines(),
            "seconds": round(self.seconds, 3),
            "junit": self.junit,
            "unreachable": [u for u in self.unreachable() if u["checks"]],
        }

    def machines(self) -> list[dict[str, Any]]:
        from envkit.check.fleet import machines

        return machines(self.rows, self.kinds)

    def to_json(self) -> dict[str, Any]:
        return {"results": [r.to_json() for r in self.rows], "summary": self.summary()}

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def render(self, console: Console) -> None:
        from rich.markup import escape

        for note in self.notes:
            console.print(f"note: {escape(note)}")
        fleet = len({r.target for r in self.rows}) > MAX_TABLE_TARGETS
        if fleet:
            self._render_fleet(console)
        else:
            self._render_table(console)
        self._render_drift(console, fleet)
        sm = self.summary()
        for u in sm["unreachable"]:
            n = len(u["checks"])
            console.print(f"[bold red]UNREACHABLE[/] {escape(u['error'])}: {n} check{'s' * (n != 1)} undecided "
                          f"({escape(', '.join(u['checks'][:3]))}{', ...' if n > 3 else ''})", highlight=False)
        cache = f", {sm['from_cache']} from cache" if sm["from_cache"] else ""
        console.print(
            f"{sm['passed']} passed, {len(self.drift)} failed, {sm['skipped']} skipped"
            + (f", {sm['failed'] - len(self.drift)} undecided (channel unreachable)" if sm["unreachable"] else "")
            + f"{cache} in {sm['seconds']:.2f} s"
            + (f"; JUnit report: {self.junit}" if self.junit else "")
        )

    def _render_fleet(self, console: Console) -> None:
        """Many machines: one line per kind of machine, not per node (every node's rows: --json, --junit)."""
        from rich.markup import escape

        from envkit.render import table as render_table

        kinds = self.machines()
        table = render_table(console, f"envkit check: {len({r.target for r in self.rows})} machines of "
                                      f"{len(kinds)} kinds")
        for col in ("kind of machine", "nodes", "environments failing there", "nodes affected"):
            table.add_column(col, overflow="fold")
        for m in kinds:
            failing = "; ".join(f"{env} ({', '.join(steps)})" for env, steps in m["failing"].items()) or "none"
            table.add_row(escape(m["kind"]), str(m["nodes"]), escape(failing), str(m["nodes_affected"]))
        console.print(table)

    def _render_drift(self, console: Console, grouped: bool) -> None:
        from rich.markup import escape

        if not grouped:
            for r in self.drift:
                console.print(f"[bold red]FAIL[/] {escape(f'{r.environment} [{r.target}] {r.step}: {r.reason}')}",
                              highlight=False)
            return
        from envkit.check.fleet import grouped_failures

        for r, n in grouped_failures(self.drift, self.kinds):
            more = f" (and {n - 1} more node{'s' * (n != 2)} of this kind)" if n > 1 else ""
            console.print(f"[bold red]FAIL[/] {escape(f'{r.environment} [{r.target}] {r.step}: {r.reason}')}"
                          f"{escape(more)}", highlight=False)

    def _render_table(self, console: Console) -> None:
        from rich.markup import escape

        from envkit.check.steps import STEPS
        from envkit.render import table as render_table

        cells: dict[tuple[str, str], dict[str, Row]] = {}
        for r in self.rows:
            cells.setdefault((r.environment, r.target), {})[r.step] = r
        lines: list[tuple[str, str, list[str]]] = []
        for (env, target), steps in cells.items():
            marks = []
            for s in STEPS:
                row = steps.get(s)
                mark = "" if row is None else row.status + (" (cache)" if row.from_cache else "")
                if row is not None and row.status == "fail" and self._blocked(row):
                    mark = "unreachable"
                marks.append(mark)
            lines.append((env, target, marks))
        if not console.is_terminal or len(lines) > MAX_RICH_ROWS:
            self._render_plain(console, lines)
            return
        table = render_table(console, "envkit check")
        table.add_column("environment", overflow="fold")
        table.add_column("target", overflow="fold", min_width=14)
        for s in STEPS:
            table.add_column(s)
        for env, target, marks in lines:
            table.add_row(escape(env), escape(target), *(_rich_mark(m) for m in marks))
        console.print(table)

    @staticmethod
    def _render_plain(console: Console, lines: list[tuple[str, str, list[str]]]) -> None:
        """The table as aligned plain columns (piped, or too many rows for rich to lay out quickly)."""
        from envkit.check.steps import STEPS

        rows = [["environment", "target", *STEPS]]
        rows += [[env, target, *(PLAIN.get(m.split(" ")[0], m.split(" ")[0]) + m[len(m.split(" ")[0]):]
                                 for m in marks)] for env, target, marks in lines]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        text = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
        console.print("envkit check\n" + text, markup=False, highlight=False)


@dataclass
class CheckJobs:
    """``check --list``: the (environment, target) jobs, or one shard's share of them."""

    jobs: list[dict[str, Any]]
    shard: str | None = None
    exit_code: int = int(ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "shard": self.shard, "total": len(self.jobs)}

    def messages(self) -> list[Message]:
        return []

    def render(self, console: Console) -> None:
        for j in self.jobs:
            console.print(f"{j['environment']}\t{j['target']}", markup=False, highlight=False)


def run(args: argparse.Namespace, settings: Settings) -> CheckResult | CheckJobs:
    from envkit.check.junit import write_junit
    from envkit.check.shard import jobs, parse_shard, take
    from envkit.check.steps import CheckRun
    from envkit.check.units import assign_machines, select_units
    from envkit.config import load_config, redact

    start = time.perf_counter()
    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
    config = load_config(settings)
    offline = bool(getattr(args, "offline", False) or config.offline)
    units = select_units(settings, list(args.names or []), bool(args.all), list(args.file or []))
    assign_machines(units, settings, list(args.target or []))
    if shard is not None:
        units = take(units, shard)
    if getattr(args, "list", False):
        return CheckJobs([{"environment": u.name, "file": str(u.env_path), "target": m.label}
                          for u, m in jobs(units)], str(shard) if shard else None)
    workers = (settings.env or {}).get("ENVKIT_CHECK_WORKERS", "")
    checker = CheckRun(settings, config=config, channels=list(args.channel or []), offline=offline,
                      workers=int(workers) if workers.isdigit() and int(workers) > 0 else None)
    rows = checker.run(units)
    seconds = time.perf_counter() - start
    notes = []
    if config.mirrors and not args.channel:
        notes.append("mirrors: " + ", ".join(f"{k} -> {redact(v)}" for k, v in config.mirrors.items()))
    result = CheckResult(rows, seconds, args.junit, offline, checker.repodata.fetch_count, notes,
                         checker.repodata.channel_errors(), checker.kinds(units), checker.solves)
    if args.junit:
        write_junit(Path(args.junit), rows, seconds)
    return result
