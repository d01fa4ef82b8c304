"""``envkit update NAME | --prefix DIR [--dry-run]``: re-resolve, re-solve, show the diff, apply atomically.

An environment created from a profile is re-resolved (the profile's ranges against the matrix and the
machine, as ``create`` does) and its environment file regenerated; one created from ``--file`` is re-solved
from that file. The plan is a dry-run solve into nothing (for a profile, from a temporary rendering: the
project's generated file is only rewritten when the update is applied). The diff: the stack line
(TensorRT 10.3.0.26 -> 11.0.0.1) and the packages added, removed, upgraded, downgraded, rebuilt. Applying
is ``create --force``: a staging prefix swapped in at the end, so an interrupted update leaves the old
environment as it was.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import InputError
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings
    from envkit.create.record import EnvRecord
    from envkit.envdiff import Change


@dataclass
class UpdateResult:
    name: str | None
    prefix: Path
    source: str  # "profile NAME" or the environment file
    stack: list[str]
    changes: list[Change]
    applied: bool
    notes: list[str] = field(default_factory=list)
    apply_command: str = ""
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "prefix": str(self.prefix), "source": self.source, "stack": self.stack,
                "changes": [c.to_json() for c in self.changes], "applied": self.applied,
                "up_to_date": not self.changes, "apply_command": None if self.applied else self.apply_command}

    def render(self, console: Console) -> None:
        from envkit.envdiff import KINDS

        who = self.name or str(self.prefix)
        if not self.changes:
            console.print(f"{who}: up to date ({self.source})", highlight=False, markup=False)
            self._notes(console)
            return
        head = "updated" if self.applied else "would update"
        console.print(f"{head} {who} ({self.source})" + (f": {', '.join(self.stack)}" if self.stack else ""),
                      highlight=False, markup=False)
        counts = ", ".join(f"{sum(c.kind == k for c in self.changes)} {k}" for k in KINDS
                           if any(c.kind == k for c in self.changes))
        console.print(f"packages: {counts}", highlight=False, markup=False)
        for c in self.changes:
            console.print(f"  {c.text()}", highlight=False, markup=False)
        if not self.applied:
            console.print(f"apply with: {self.apply_command}", highlight=False, markup=False)
        self._notes(console)

    def _notes(self, console: Console) -> None:
        for n in self.notes:
            console.print(f"note: {n}", highlight=False, markup=False)


def _source(rec: EnvRecord, settings: Settings) -> tuple[str | None, Path | None, Settings]:
    """(profile, environment file, settings of the project the profile lives in)."""
    from envkit.generate import split_generated
    from envkit.profile import profile_paths

    env_file = Path(rec.env_file or "")
    if not env_file.is_file():
        raise InputError(f"the environment file it was created from is gone: {env_file}",
                         hint="recreate it with `envkit create` (update re-solves what the environment was built from)")
    generated = split_generated(env_file.read_text(encoding="utf-8"))[0] is not None
    if generated and env_file.name == "environment.yml" and env_file.parent.parent.name == "environments":
        project = env_file.parent.parent.parent
        proj_settings = replace(settings, project_dir=project)
        if env_file.parent.name in profile_paths(proj_settings):
            return env_file.parent.name, None, proj_settings
    return None, env_file, settings


def _request(args: argparse.Namespace, name: str, prefix: Path, machine: Any, **kw: Any) -> Any:
    from envkit.create.model import CreateRequest

    return CreateRequest(name=name, prefix=prefix, machine=machine, channels=list(getattr(args, "channel", []) or []),
                         offline=bool(getattr(args, "offline", False)), host_file=getattr(args, "host", None), **kw)


def _plan(profile: str | None, env_file: Path | None, name: str, prefix: Path, machine: Any,
          settings: Settings, args: argparse.Namespace) -> Any:
    """A dry-run create: the packages and stack an update would install (writes nothing to the project)."""
    from envkit.create.pipeline import create_env

    if profile is None:
        return create_env(_request(args, name, prefix, machine, file=env_file, dry_run=True), settings)
    from envkit.generate import regenerate_command, render
    from envkit.matrix.load import load_for
    from envkit.profile import check_precisions, load_profile
    from envkit.resolve import resolve_profile

    matrix = load_for(settings)
    prof = load_profile(profile, settings)
    check_precisions(prof, list(matrix.precisions))
    res = resolve_profile(prof, matrix, machine.host_facts())
    if res.chosen is None:
        from envkit.errors import ResolveError

        raise ResolveError(f"no stack for profile {profile!r} any more: "
                           + ("; ".join(res.closest.reasons) if res.closest else "no candidates"),
                           "; ".join(res.suggestions) or f"run `envkit resolve {profile}`")
    rendered = render(prof, res, matrix, machine.host_facts(), regenerate_command(prof, machine.host_file))
    with tempfile.TemporaryDirectory(prefix="envkit-update-") as tmp:
        path = Path(tmp) / "environment.yml"
        path.write_text(rendered.text, encoding="utf-8")
        return create_env(_request(args, name, prefix, machine, file=path, dry_run=True), settings)


def _apply_command(args: argparse.Namespace, settings: Settings, name: str | None, prefix: Path) -> str:
    """``envkit update`` as it must be typed to apply what --dry-run showed (quoted, global options kept)."""
    from envkit.context import global_options
    from envkit.engine.activation import quote

    which = quote("bash", name, minimal=True) if name else f"--prefix {quote('bash', str(prefix), minimal=True)}"
    extra = "".join(f" --channel {quote('bash', c, minimal=True)}" for c in getattr(args, "channel", []) or [])
    if getattr(args, "host", None):
        extra += f" --host {quote('bash', str(Path(args.host).resolve()), minimal=True)}"
    if getattr(args, "offline", False):
        extra += " --offline"
    return f"envkit {global_options(settings)}update {which}{extra}"


def run(args: argparse.Namespace, settings: Settings) -> UpdateResult:
    from envkit.create.pipeline import create_env
    from envkit.create.record import read_record
    from envkit.envdiff import diff_packages, parse_dist, stack_changes
    from envkit.envs import resolve_env
    from envkit.host.policy import machines_for
    from envkit.inventory import read_inventory
    from envkit.matrix.load import load_for
    from envkit.profile import load_profile

    name = getattr(args, "name", None)
    prefix = resolve_env(name, getattr(args, "prefix", None), settings)
    rec = read_record(prefix)
    if rec is None or not rec.complete:
        raise InputError(f"{prefix} was not created by envkit (or its creation did not finish)",
                         hint="`envkit create` builds environments envkit can update")
    profile, env_file, settings = _source(rec, settings)
    prof = load_profile(profile, settings) if profile else None
    machine = machines_for(settings, load_for(settings), host_file=getattr(args, "host", None),
                           profile=prof).machine
    env_name = rec.name or prefix.name
    plan = _plan(profile, env_file, env_name, prefix, machine, settings, args)
    old = {p.name: (p.version, p.build) for p in read_inventory(prefix).conda}
    new = {n: (v, b) for n, v, b in map(parse_dist, plan.packages)}
    changes = diff_packages(old, new)
    stack = stack_changes(rec.stack, plan.stack)
    source = f"profile {profile}" if profile else str(env_file)
    result = UpdateResult(name, prefix, source, stack, changes, applied=False,
                          apply_command=_apply_command(args, settings, name, prefix))
    from envkit.commands.create import machine_line

    line = machine_line(machine)
    if line:
        result.notes.append(line)
    if changes and not getattr(args, "dry_run", False):
        request = _request(args, env_name, prefix, machine, profile=profile, file=env_file, force=True,
                           no_smoke=bool(getattr(args, "no_smoke", False)))
        done = create_env(request, settings)
        result.notes += done.notes
        applied = {n: (v, b) for n, v, b in map(parse_dist, done.packages)}
        result.changes = diff_packages(old, applied)
        result.stack = stack_changes(rec.stack, done.stack)
        result.applied = True
    return result
