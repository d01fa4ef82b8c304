"""``envkit list``: the profiles of this project and the environments envkit created."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.errors import EnvkitError
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings


@dataclass
class ListResult:
    profiles: list[dict[str, Any]]
    environments: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"profiles": self.profiles, "environments": self.environments}

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def render(self, console: Console) -> None:
        from envkit.render import table as render_table

        table = render_table(console, "profiles")
        for col in ("name", "description", "needs", "generated file", "source"):
            table.add_column(col)
        for p in self.profiles:
            needs = ", ".join(f"{k} {p[k]}" for k in ("tensorrt", "cuda", "python", "ngc") if p.get(k)) or "-"
            table.add_row(p["name"], p.get("description") or "", needs, p["generated"], p["path"])
        console.print(table)
        if self.environments:
            envs = render_table(console, "environments")
            for col in ("name", "prefix", "state", "stack", "smoke"):
                envs.add_column(col)
            for e in self.environments:
                envs.add_row(
                    str(e.get("name") or "-"), str(e.get("prefix")), str(e.get("state")),
                    stack_text(e.get("stack")), smoke_text(e.get("smoke")),
                )
            console.print(envs)
        for n in self.notes:
            console.print(f"note: {n}")


def stack_text(stack: dict[str, Any] | None) -> str:
    if not stack:
        return "-"
    names = {"tensorrt": "TensorRT", "cuda": "CUDA", "cudnn": "cuDNN", "python": "Python"}
    return ", ".join(f"{label} {stack[k]}" for k, label in names.items() if stack.get(k)) or "-"


def smoke_text(smoke: dict[str, Any] | None) -> str:
    if not smoke:
        return "never run"
    when = f" ({smoke['started']})" if smoke.get("started") else ""
    if smoke.get("passed"):
        return f"passed{when}"
    return f"failed: {', '.join(smoke.get('failed') or ['?'])}{when}"


def run(args: argparse.Namespace, settings: Settings) -> Any:
    if getattr(args, "name", None) or getattr(args, "prefix", None):
        from envkit.commands import packages

        return packages.run(args, settings)
    return list_all(settings)


def list_all(settings: Settings) -> ListResult:
    from envkit.generate import edited_by_hand
    from envkit.profile import parse_profile, profile_paths

    profiles = []
    for name, path in profile_paths(settings).items():
        entry: dict[str, Any] = {"name": name, "path": str(path)}
        try:
            entry.update({k: v for k, v in parse_profile(path, name).to_json().items() if k not in ("name", "path")})
        except EnvkitError as err:
            entry["error"] = err.message
        gen = settings.environments_dir / name / "environment.yml"
        if not gen.exists():
            entry["generated"] = "not generated"
        else:
            entry["generated"] = "edited by hand" if edited_by_hand(gen) else str(gen.relative_to(settings.project_dir))
        profiles.append(entry)
    result = ListResult(profiles)
    from envkit.envs import list_envs, registry_problem

    result.environments = [env.to_json() for env in list_envs(settings)]
    problem = registry_problem(settings)
    if problem:
        result.notes.append(f"environments created with --prefix are not shown: {problem}")
    return result
