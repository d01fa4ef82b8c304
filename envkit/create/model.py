"""What ``envkit create`` is asked and what it answers: ``CreateRequest`` and ``CreateResult``.

The one model the pipeline (``envkit.create.pipeline``), its steps and the backends
(``envkit.create.backends``) share; it imports nothing from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.host.machines import Machine


@dataclass
class CreateRequest:
    profile: str | None = None
    file: Path | None = None
    name: str | None = None
    prefix: Path | None = None
    host_file: str | None = None
    machine: Machine | None = None  # what to build for (envkit.host.policy); None: chosen by create_env
    channels: list[str] = field(default_factory=list)
    offline: bool = False
    locked: bool = False
    force: bool = False
    no_smoke: bool = False
    backend: str = "rattler"
    dry_run: bool = False
    lock_timeout: float | None = None
    installer: str | None = None  # the pip section's installer: "uv" (default) or "pip"


@dataclass
class CreateResult:
    status: str  # "created", "up to date", "dry run"
    name: str | None
    prefix: Path
    env_file: Path
    lock_file: Path | None = None
    explicit_file: Path | None = None
    packages: list[str] = field(default_factory=list)
    stack: dict[str, str | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    solved: bool = False
    channels: list[str] = field(default_factory=list)
    target: dict[str, Any] | None = None
    machine: dict[str, Any] | None = None
    smoke: dict[str, Any] | None = None
    pip: dict[str, Any] | None = None  # the pip step: installer, argv (redacted), seconds
    backend: str = "rattler"
    conda_activate: bool = False

    @property
    def usage(self) -> list[str]:
        out = []
        if self.conda_activate and self.name:
            out.append(f"conda activate {self.name}")
        out.append(f"envkit run {self.name} -- CMD" if self.name and self.conda_activate else
                   f"envkit run --prefix {self.prefix} -- CMD")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "name": self.name,
            "prefix": str(self.prefix),
            "env_file": str(self.env_file),
            "lock_file": str(self.lock_file) if self.lock_file else None,
            "explicit_file": str(self.explicit_file) if self.explicit_file else None,
            "packages": self.packages,
            "stack": self.stack,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": self.notes,
            "solved": self.solved,
            "channels": self.channels,
            "target": self.target,
            "machine": self.machine,
            "smoke": self.smoke,
            "pip": self.pip,
            "backend": self.backend,
            "usage": self.usage,
        }
