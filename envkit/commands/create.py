"""``envkit create``: argument handling and progress display around ``envkit.create.pipeline.create_env``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.context import Settings
from envkit.create.model import CreateRequest, CreateResult
from envkit.create.pipeline import create_env
from envkit.engine.types import Reporter
from envkit.errors import ExitCode, InputError
from envkit.result import Message, notes

if TYPE_CHECKING:
    from envkit.host.machines import Machine


class LineReporter:
    """Quiet progress lines on stderr (piped output)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr

    def step(self, name: str, detail: str = "") -> None:
        print(f"envkit: {name}: {detail}" if detail else f"envkit: {name}", file=self.stream, flush=True)

    def progress(self, kind: str, done: int, total: int | None, label: str = "") -> None:
        pass


class RichReporter:
    """A rich progress bar on a terminal (stderr)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=self.console, transient=True,
        )
        self.task: Any = None

    def step(self, name: str, detail: str = "") -> None:
        self.console.print(f"[bold]{name}[/] {detail}", highlight=False)

    def progress(self, kind: str, done: int, total: int | None, label: str = "") -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(kind, total=total)
        self.bar.update(self.task, completed=done, total=total, description=f"{kind} {label}".strip())
        if total is not None and done >= total:
            self.close()

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()
            self.task = None


def make_reporter(as_json: bool) -> Reporter | None:
    if as_json:
        return None
    if sys.stderr.isatty():
        return RichReporter()
    return LineReporter()


class CreateView:
    def __init__(self, result: CreateResult, machine_line: str | None = None) -> None:
        self.result = result
        self.machine_line = machine_line  # said before create started (stderr), a note in --json

    def to_json(self) -> dict[str, Any]:
        data = self.result.to_json()
        del data["notes"]  # in the envelope's messages
        data["activate"] = activation_lines(self.result) if self.result.status != "dry run" else []
        return data

    def messages(self) -> list[Message]:
        return notes(([self.machine_line] if self.machine_line else []) + self.result.notes)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def render(self, console: Any) -> None:
        r = self.result
        for note in r.notes:
            console.print(f"note: {note}", highlight=False)
        if r.status == "up to date":
            console.print(f"{r.name or r.prefix}: up to date ({r.prefix})", highlight=False)
        elif r.status == "dry run":
            console.print(f"would install {len(r.packages)} packages into {r.prefix}:", highlight=False)
            for p in r.packages:
                console.print(f"  {p}", highlight=False)
            return
        else:
            stack = ", ".join(f"{k} {v}" for k, v in r.stack.items() if v)
            console.print(f"created {r.name or r.prefix} at {r.prefix}" + (f" ({stack})" if stack else ""),
                          highlight=False)
            if r.lock_file:
                console.print(f"lock: {r.lock_file}", highlight=False)
        lines = activation_lines(r)
        console.print(f"activate it: {lines[0]}", highlight=False, markup=False)
        for u in lines[1:]:
            console.print(f"         or: {u}", highlight=False, markup=False)


def activation_lines(r: CreateResult) -> list[str]:
    """How to use the environment, first the activation line; each works as printed (names and paths quoted).
    A named environment in conda's envs dirs is named; one made with --prefix is given by its path."""
    from envkit.engine.activation import quote

    named = bool(r.conda_activate and r.name)
    if named:
        who = quote("bash", str(r.name), minimal=True)
    else:
        who = f"--prefix {quote('bash', str(r.prefix), minimal=True)}"
    lines = [f'eval "$(envkit shell-hook {who})"', f"envkit shell {who}", f"envkit run {who} -- CMD"]
    if named:
        lines.append(f"conda activate {quote('bash', str(r.name), minimal=True)}")
    return lines


def request_from_args(args: argparse.Namespace, settings: Settings) -> CreateRequest:
    name = getattr(args, "name", None)
    file = getattr(args, "file", None)
    env_name = getattr(args, "env_name", None)
    prefix = getattr(args, "prefix", None)
    if file and name:
        raise InputError("give a profile NAME or --file, not both")
    if not file and not name:
        raise InputError("envkit create needs a profile NAME or --file ENVIRONMENT.yml",
                         "`envkit list` shows the profiles")
    if file and not env_name and not prefix:
        raise InputError("--file needs --name NAME or --prefix DIR")
    from envkit.host.policy import machines_for
    from envkit.matrix.load import load_for
    from envkit.profile import load_profile

    host_file = getattr(args, "host", None)
    prof = load_profile(name, settings) if name and not file else None
    matrix = load_for(settings) if prof is not None else None  # --file: loaded only if a capture needs it
    answer = machines_for(settings, matrix, host_file=host_file, profile=prof)
    return CreateRequest(
        profile=None if file else name,
        file=Path(file) if file else None,
        name=env_name,
        prefix=Path(prefix) if prefix else None,
        host_file=host_file,
        machine=answer.machine,
        channels=list(getattr(args, "channel", []) or []),
        offline=bool(getattr(args, "offline", False)),
        locked=bool(getattr(args, "locked", False)),
        force=bool(getattr(args, "force", False)),
        no_smoke=bool(getattr(args, "no_smoke", False)),
        backend=getattr(args, "backend", "rattler") or "rattler",
        dry_run=bool(getattr(args, "dry_run", False)),
        installer=getattr(args, "installer", None),
    )


def machine_line(machine: Machine) -> str | None:
    """The one line create says before it starts when it builds for a machine other than this one
    (or for this one without a GPU); None when it builds for this machine and its GPU."""
    if machine.kind == "this" and machine.has_gpu_facts:
        return None
    cuda = f"__cuda={machine.cuda}" if machine.cuda else "no __cuda"
    if machine.kind == "this":
        return (f"solving for this machine, which has no GPU ({machine.note}): {cuda}; "
                "the smoke test will skip the GPU layers")
    if machine.kind == "capture":
        return (f"solving for {machine.describe()} (--host), not this machine: {cuda}; "
                "the smoke test runs here and skips the GPU layers if this machine has no GPU")
    return (f"solving for {machine.describe()}, not this machine (no GPU here): {cuda}; "
            "the smoke test will skip the GPU layers")


def run(args: argparse.Namespace, settings: Settings) -> CreateView:
    request = request_from_args(args, settings)
    line = machine_line(request.machine) if request.machine is not None and not request.locked else None
    if line and not getattr(args, "json", False):  # --json carries it in the envelope's messages
        print(f"envkit: {line}", file=sys.stderr, flush=True)
    reporter = make_reporter(bool(getattr(args, "json", False)))
    try:
        result = create_env(request, settings, reporter)
    finally:
        if isinstance(reporter, RichReporter):
            reporter.close()
    if result.status != "dry run":
        import os

        from envkit.registry import register

        result.notes += register(settings.env or dict(os.environ), result.name or result.prefix.name, result.prefix)
    return CreateView(result, line)
