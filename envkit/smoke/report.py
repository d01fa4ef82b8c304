"""The smoke report: layers as the payload reported them, what the environment needs, the verdict.

A layer is *needed* (its failure fails the smoke test) when:

- ``driver`` and ``cuda``: the stack pins ``cuda``, ``cudnn`` or ``tensorrt`` (a GPU stack);
- ``cudnn``: the stack pins ``cudnn``;
- ``tensorrt``: the stack pins ``tensorrt``, or ``--model`` was given and tensorrt is importable;
- ``onnxruntime``: onnxruntime is importable in the environment (a broken onnxruntime fails,
  a missing one is a skip);
- ``python``: the stack pins ``python``;
- ``payload``: always (the payload itself crashed, timed out or printed no report).

Skipped layers never fail. ``passed`` is true when no needed layer has status ``fail``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import ExitCode
from envkit.fsutil import write_atomic
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.libs.table import LibraryRow

SCHEMA = "envkit.smoke/1"
REPORT_NAME = "envkit-smoke.json"
LAYER_KEYS = ("name", "status", "reason", "seconds", "needed", "versions", "diagnosis", "fix")
GPU_PINS = ("cuda", "cudnn", "tensorrt")


def layer_needed(name: str, layer: dict[str, Any], pins: dict[str, str | None], model: bool = False) -> bool:
    """Whether a failure of this layer fails the smoke test (the rules in this module's docstring)."""
    if name in ("driver", "cuda"):
        return any(pins.get(k) for k in GPU_PINS)
    if name == "cudnn":
        return bool(pins.get("cudnn"))
    if name == "tensorrt":
        return bool(pins.get("tensorrt")) or (model and bool(layer.get("importable")))
    if name == "onnxruntime":
        return bool(layer.get("importable"))
    if name == "python":
        return bool(pins.get("python"))
    return True


@dataclass
class SmokeReport:
    """The result of one smoke run of one environment."""

    prefix: str
    python: str
    layers: list[dict[str, Any]]
    pins: dict[str, str | None] = field(default_factory=dict)
    seconds: float = 0.0
    driver: dict[str, Any] = field(default_factory=dict)
    gpu: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    platform: dict[str, Any] = field(default_factory=dict)
    saved_to: str | None = None
    started: str = ""
    libraries: list[LibraryRow] | None = None  # what the environment loads (envkit.libs), shown after the layers
    library_notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(layer.get("needed") and layer.get("status") == "fail" for layer in self.layers)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.passed else ExitCode.SMOKE)

    def layer(self, name: str) -> dict[str, Any] | None:
        return next((lay for lay in self.layers if lay.get("name") == name), None)

    @property
    def failed(self) -> list[str]:
        return [str(lay["name"]) for lay in self.layers if lay.get("needed") and lay.get("status") == "fail"]

    def messages(self) -> list[Message]:
        return [Message("note", n) for n in self.library_notes]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "prefix": self.prefix,
            "python": self.python,
            "passed": self.passed,
            "failed": self.failed,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "pins": self.pins,
            "driver": self.driver,
            "gpu": self.gpu,
            "platform": self.platform,
            "model": self.model,
            "layers": self.layers,
            "saved_to": self.saved_to,
            "libraries": [r.to_json() for r in self.libraries] if self.libraries is not None else None,
        }

    def render(self, console: Console) -> None:
        from envkit.render import table as render_table

        table = render_table(console, f"smoke: {self.prefix}")
        for col in ("layer", "status", "needed", "seconds", "versions", "result"):
            table.add_column(col)
        colors = {"pass": "green", "fail": "red", "skip": "yellow"}
        for lay in self.layers:
            status = str(lay.get("status"))
            versions = ", ".join(f"{k} {v}" for k, v in (lay.get("versions") or {}).items() if v)
            text = str(lay.get("reason") or "")
            table.add_row(
                str(lay.get("name")),
                f"[{colors.get(status, 'white')}]{status}[/]",
                "yes" if lay.get("needed") else "no",
                f"{float(lay.get('seconds') or 0):.2f}",
                versions,
                text,
            )
        console.print(table)
        for lay in self.layers:
            if lay.get("status") == "fail":
                if lay.get("diagnosis"):
                    console.print(f"[red]{lay['name']}:[/] {lay['diagnosis']}", highlight=False)
                if lay.get("fix"):
                    console.print(f"  [yellow]fix:[/] {lay['fix']}", highlight=False)
            for warning in lay.get("warnings") or []:
                console.print(f"[yellow]{lay['name']} warning:[/] {warning}", highlight=False)
        if self.libraries:
            from envkit.libs.table import library_table

            console.print("GPU libraries a process of this environment loads (envkit libs):", highlight=False)
            library_table(console, self.libraries)
        for note in self.library_notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
        verdict = "[green]passed[/]" if self.passed else f"[red]failed[/] ({', '.join(self.failed)})"
        console.print(f"smoke {verdict} in {self.seconds:.1f}s", highlight=False)
        if self.saved_to:
            console.print(f"report saved to {self.saved_to}", highlight=False)


def report_path(prefix: Path) -> Path:
    return Path(prefix) / "conda-meta" / REPORT_NAME


def save_report(report: SmokeReport, prefix: Path) -> Path | None:
    """Write the report atomically to <prefix>/conda-meta/envkit-smoke.json; None when there is no conda-meta."""
    target = report_path(prefix)
    if not target.parent.is_dir():
        return None
    report.saved_to = str(target)
    data = json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"
    try:
        write_atomic(target, data, fsync=True)
    except OSError:
        report.saved_to = None
        return None
    return target


def saved_summary(prefix: Path) -> dict[str, Any] | None:
    """A short form of the last saved smoke report: passed, when, failed layers, GPU, driver."""
    data = load_saved_report(prefix)
    if data is None:
        return None
    return {
        "passed": bool(data.get("passed")),
        "started": data.get("started"),
        "failed": list(data.get("failed") or []),
        "gpu": data.get("gpu"),
        "driver": data.get("driver"),
    }


def load_saved_report(prefix: Path) -> dict[str, Any] | None:
    """The last saved smoke report of an environment (for ``envkit list`` / ``doctor``), or None."""
    path = report_path(prefix)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    return data
