"""``envkit doctor``: what this machine (or a saved capture, ``--host FILE``) offers.

Returns a DoctorResult; never prints or exits. Exit code 0 when the facts were read
(status ok, or a capture), 3 (ExitCode.ENVIRONMENT) when nvidia-smi is missing, fails,
hangs, or finds no driver.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.context import Settings
from envkit.errors import EnvkitError, ExitCode
from envkit.host.model import GOOD_STATUSES, CcLookup, HostInfo
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.libs.report import LibsReport

_STATUS_TEXT = {
    "ok": "ok",
    "capture": "read from a capture",
    "no-driver": "nvidia-smi cannot reach the NVIDIA driver: not installed, or its kernel module not loaded",
    "nvidia-smi-missing": "nvidia-smi not found",
    "nvidia-smi-failed": "nvidia-smi failed",
    "nvidia-smi-timeout": "nvidia-smi hung (timed out)",
    "driver-mismatch": "driver/library version mismatch (reboot or reload the kernel module)",
}


def matrix_cc_lookup(settings: Settings, messages: list[str]) -> CcLookup:
    """GPU name -> compute capability from the matrix's gpus table, loaded on first use.

    A missing or broken matrix never stops doctor: the lookup then answers None and a
    message says why.
    """
    state: dict[str, Any] = {}

    def lookup(name: str) -> str | None:
        if "fn" not in state:
            state["fn"] = None
            try:
                from envkit.matrix.load import load_for

                state["fn"] = load_for(settings, check=False).compute_capability_for
            except EnvkitError as exc:
                messages.append(f"compute capability by GPU name unavailable: {exc.message}")
        fn = state["fn"]
        result = fn(name) if fn is not None else None
        return result if isinstance(result, str) else None

    return lookup


@dataclass
class DoctorResult:
    host: HostInfo
    config: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    environments: list[dict[str, Any]] | None = None  # created here, with their last smoke result
    libraries: LibsReport | None = None  # `doctor NAME`: what that environment loads (envkit.libs)

    def to_json(self) -> dict[str, Any]:
        data = self.host.to_json()
        if self.config is not None:
            data["config"] = self.config
        if self.environments is not None:
            data["environments"] = self.environments
        if self.libraries is not None:
            data["libraries"] = {"prefix": self.libraries.prefix,
                                 "loaded": [r.to_json() for r in self.libraries.rows],
                                 "findings": [f.to_json() for f in self.libraries.findings]}
        return data

    def messages(self) -> list[Message]:
        return notes(self.notes)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.host.status in GOOD_STATUSES else ExitCode.ENVIRONMENT)

    def render(self, console: Console) -> None:
        from rich.markup import escape


        h = self.host
        ok = h.status in GOOD_STATUSES
        colour = "green" if ok else "red"
        console.print(f"[bold]host[/]      {escape(h.summary())}")
        console.print(f"[bold]status[/]    [{colour}]{escape(h.status)}[/] ({escape(_STATUS_TEXT.get(h.status, ''))})")
        source = h.source if h.format is None else f"{h.source} (format: {h.format})"
        console.print(f"[bold]source[/]    {escape(source)}")
        pairs: list[tuple[str, str | None]] = [
            ("nvidia-smi", h.nvidia_smi),
            ("driver", h.driver_version),
            ("cuda", h.cuda_version and f"{h.cuda_version} (highest CUDA the driver supports)"),
            ("override", h.conda_override_cuda and f"CONDA_OVERRIDE_CUDA={h.conda_override_cuda}"),
            ("os", h.os),
            ("glibc", h.glibc),
            ("arch", h.arch),
            ("memory", _mem(h.memory)),
            ("disk", _disk(h.disk)),
        ]
        for key, value in pairs:
            if value:
                console.print(f"[bold]{key:<9}[/] {escape(value)}")
        if h.tools is not None:
            if h.tools:
                for name, t in h.tools.items():
                    text = f"{t.get('version') or '?'} ({t.get('path')})"
                    if t.get("error"):
                        text += f" [{t['error']}]"
                    console.print(f"[bold]{name:<9}[/] {escape(text)}")
            else:
                console.print("[bold]conda[/]     none of conda, mamba, micromamba on PATH")
        _render_gpus(console, h)
        if self.config:
            for key, value in self.config.items():
                if value in (None, "", [], {}):
                    continue
                console.print(f"[bold]config[/]    {escape(str(key))}: {escape(str(value))}")
        from envkit.commands.listing import smoke_text, stack_text

        for e in self.environments or []:
            console.print(
                f"[bold]env[/]       {escape(str(e['name']))} ({escape(str(e['state']))}): "
                f"{escape(stack_text(e.get('stack')))}; smoke {escape(smoke_text(e.get('smoke')))}"
            )
        if self.libraries is not None:
            from envkit.libs.table import library_table

            console.print(f"[bold]libraries[/] {escape(self.libraries.prefix)}: {escape(self.libraries.summary())}")
            library_table(console, self.libraries.rows)
            for f in self.libraries.findings:
                console.print(f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}:[/] {escape(f.message)}")
        for msg in [*h.messages, *self.notes]:
            console.print(f"[yellow]note:[/] {escape(msg)}")


def _render_gpus(console: Console, h: HostInfo) -> None:
    """One plain line per GPU when piped (never wrapped, easy to grep), a table on a terminal."""
    from rich.markup import escape

    from envkit.render import table as render_table

    if h.gpus and not console.is_terminal:
        for g in h.gpus:
            cc = g.compute_capability or "?"
            if g.compute_capability_source == "name":
                cc += " (from name)"
            mem = f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "? MiB"
            console.print(escape(f"GPU {g.index}: {g.name or '?'}, compute capability {cc}, {mem}, "
                                 f"MIG {g.mig_mode or '-'}, {g.uuid or 'no UUID'}"))
    elif h.gpus:
        table = render_table(console)
        for col in ("GPU", "name", "compute cap.", "memory", "MIG", "UUID"):
            table.add_column(col)
        for g in h.gpus:
            cc = g.compute_capability or "?"
            if g.compute_capability_source == "name":
                cc += " (from name)"
            table.add_row(
                str(g.index),
                escape(g.name or "?"),
                cc,
                f"{g.memory_total_mib} MiB" if g.memory_total_mib is not None else "?",
                escape(g.mig_mode or "-"),
                escape(g.uuid or "-"),
            )
        console.print(table)


def _mem(m: dict[str, Any] | None) -> str | None:
    if not m:
        return None
    return f"{m.get('total_mib', 0) / 1024:.1f} GiB total, {m.get('available_mib', 0) / 1024:.1f} GiB available"


def _disk(d: dict[str, Any] | None) -> str | None:
    if not d:
        return None
    return f"{d.get('free_mib', 0) / 1024:.1f} GiB free at {d.get('measured_at') or d.get('path')}"


def _config(settings: Settings, notes: list[str]) -> dict[str, Any] | None:
    """The channel and mirror configuration (envkit.toml, [tool.envkit]); a broken file is a note, not a failure."""
    from envkit.config import load_config

    try:
        return load_config(settings).to_json()
    except EnvkitError as exc:
        notes.append(f"configuration: {exc.message}")
        return None


def run(args: argparse.Namespace, settings: Settings) -> DoctorResult:
    notes: list[str] = []
    lookup = matrix_cc_lookup(settings, notes)
    host_file = getattr(args, "host", None)
    if host_file:
        from envkit.host.parse import read_capture

        info = read_capture(host_file, cc_lookup=lookup)
    else:
        from envkit.host.probe import probe

        timeout = getattr(args, "timeout", None)
        if timeout is not None:
            from envkit.limits import seconds

            timeout = seconds(timeout, "--timeout")
        info = probe(settings, timeout, cc_lookup=lookup)
    result = DoctorResult(info, config=_config(settings, notes), notes=notes)
    if not host_file:
        from envkit.envs import list_envs

        result.environments = [e.to_json() for e in list_envs(settings)]
    name = getattr(args, "name", None)
    if name:
        from envkit.envs import find_env
        from envkit.libs.report import libs_report

        result.libraries = libs_report(find_env(name, settings))
    return result
