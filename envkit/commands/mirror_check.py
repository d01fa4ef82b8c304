"""``envkit mirror-check``: compare a mirror with upstream for the pinned packages of environments."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.check.mirror import ChannelAge, PackageReport
    from envkit.context import Settings


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass
class MirrorCheckResult:
    packages: list[PackageReport]
    channels: list[ChannelAge]
    seconds: float
    nothing_checked: tuple[str, str] | None = None  # (why, hint) when no package was compared: a failure

    @property
    def problems(self) -> list[PackageReport]:
        return [p for p in self.packages if p.status != "present"]

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FINDINGS if self.problems or self.nothing_checked else ExitCode.OK)

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for p in self.packages:
            counts[p.status] = counts.get(p.status, 0) + 1
        return {"ok": not self.problems, "total": len(self.packages), **counts, "seconds": round(self.seconds, 3)}

    def messages(self) -> list[Message]:
        if self.nothing_checked:
            return [Message("error", self.nothing_checked[0], self.nothing_checked[1], "NothingChecked")]
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "packages": [p.to_json() for p in self.packages],
            "channels": [c.to_json() for c in self.channels],
            "summary": self.summary(),
            "nothing_checked": self.nothing_checked[0] if self.nothing_checked else None,
        }

    def render(self, console: Console) -> None:
        from rich.markup import escape

        from envkit.config import redact
        from envkit.render import table as render_table

        table = render_table(console, "mirror vs upstream")
        for col in ("upstream", "mirror", "subdir", "mirror behind by", "errors"):
            table.add_column(col)
        for c in self.channels:
            table.add_row(escape(redact(c.upstream)), escape(redact(c.mirror)), c.subdir, _age(c.lag_seconds),
                          escape("; ".join(c.errors)))
        console.print(table)
        for p in self.problems:
            console.print(f"[bold red]{p.status}[/] " + escape(f"{p.environment}: {p.package} ({p.subdir}): {p.reason}"),
                          highlight=False)
        s = self.summary()
        if self.nothing_checked:
            console.print(f"[bold red]error:[/] {escape(self.nothing_checked[0])}", highlight=False)
            console.print(f"[yellow]hint:[/] {escape(self.nothing_checked[1])}", highlight=False)
            return
        console.print(f"{s.get('present', 0)} of {s['total']} pinned packages identical on the mirror")


def run(args: argparse.Namespace, settings: Settings) -> MirrorCheckResult:
    from envkit.check.mirror import compare, mirror_map, pinned_packages
    from envkit.check.units import project_units, select_units
    from envkit.config import load_config
    from envkit.engine.repodata import RepodataCache

    start = time.perf_counter()
    config = load_config(settings)
    mirror_for = mirror_map(config, args.mirror, args.upstream)
    names = list(args.names or [])
    units = select_units(settings, names, False, []) if names else project_units(settings)
    pins = [p for u in units for p in pinned_packages(u)]
    cache = RepodataCache(settings.cache_dir, offline=config.offline)
    packages, channels = compare(pins, cache, mirror_for)
    result = MirrorCheckResult(packages, channels, time.perf_counter() - start)
    if not packages:
        result.nothing_checked = _why_nothing(pins, mirror_for, args.upstream)
    return result


def _why_nothing(pins: list[Any], mirror_for: Any, upstream: str | None) -> tuple[str, str]:
    """Why no package was compared, and the one change that makes the check check something."""
    from envkit.config import redact

    if not pins:
        return ("nothing was checked: no environment has a lock or exact conda pins",
                "`envkit create NAME` writes the lock mirror-check compares")
    channels = sorted({redact(p.channel) for p in pins})
    if not any(mirror_for(p.channel) for p in pins):
        if upstream:
            return (f"nothing was checked: none of the {len(pins)} pinned packages comes from the upstream "
                    f"{redact(upstream)} (they come from {', '.join(channels)})",
                    f"pass --upstream {channels[0]}" + (" (or another of those channels)" if len(channels) > 1 else "")
                    + ", or leave --upstream out to compare every channel")
        return ("nothing was checked: no mirror is configured for the channels the pins come from "
                f"({', '.join(channels)})", "pass --mirror URL, or map those channels in envkit.toml [mirrors]")
    return (f"nothing was checked: none of the {len(pins)} pinned packages was found on the upstream "
            f"({', '.join(channels)})", "check that the upstream is the channel the environments were solved from")
