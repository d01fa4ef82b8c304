"""``envkit init NAME [--from environment.yml] [--tensorrt ">=10"] [--precision fp16] ...``: start a profile.

Writes ``environments/NAME.yaml`` with a comment on every key, then reads it back with the profile reader
(and checks the precisions against the matrix); a profile that does not read back is not left behind.
From an environment file, the stack ranges are derived from what it pins (TensorRT 10.3.0.26 ->
``>=10.3,<11``; CUDA 12.4 -> ``>=12.4,<13``; Python 3.10 -> ``>=3.10,<3.11``), and every other conda
and pip package is kept as written. Options given on the command line win over the file.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.errors import InputError
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings
    from envkit.envfile import CondaDep, EnvFile

STACK = ("tensorrt", "cuda", "cudnn", "python")
COMMENTS = {
    "description": "what the environment is for (shown by `envkit list`)",
    "python": "PEP 440 range; envkit picks the newest Python the TensorRT release supports",
    "tensorrt": "PEP 440 range over TensorRT releases; `envkit update` moves within it",
    "cuda": "PEP 440 range over CUDA toolkits; the machine's driver decides the newest usable",
    "cudnn": "a range, or \"required\" to install cuDNN even where TensorRT does not need it",
    "precisions": "each needs a minimum compute capability (matrix.yaml precisions:)",
    "platforms": "linux-64, linux-aarch64, win-64",
    "channels": "conda channels (names or URLs); mirrors go in envkit.toml",
    "pip_indexes": "pip indexes (names from matrix.yaml pip_indexes, or URLs)",
    "conda": "extra conda packages",
    "pip": "extra pip packages",
    "targets": "machines `envkit check --all` checks, e.g. \"linux-64:driver=535.104.05\"",
}


@dataclass
class InitResult:
    name: str
    path: Path
    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    project_option: str = ""  # "--project DIR --matrix FILE " as far as the printed commands need them
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "profile": self.values, "notes": self.notes,
                "next": [f"envkit {self.project_option}resolve {self.name}",
                         f"envkit {self.project_option}create {self.name}"]}

    def render(self, console: Console) -> None:
        for n in self.notes:
            console.print(f"note: {n}", highlight=False, markup=False)
        console.print(f"wrote {self.path}", highlight=False, markup=False)
        first, then = self.to_json()["next"]
        console.print(f"next: {first}   then: {then}", highlight=False, markup=False)


def _range(component: str, version: str | None, major: int | None) -> str | None:
    from envkit.versions import V

    if version is None:
        return f">={major},<{major + 1}" if major is not None else None
    try:
        rel = V(version).release
    except ValueError:
        return None
    if component == "python":
        return f">={rel[0]}.{rel[1]},<{rel[0]}.{rel[1] + 1}" if len(rel) > 1 else f">={rel[0]},<{rel[0] + 1}"
    low = ".".join(str(x) for x in rel[:2])
    return f">={low},<{rel[0] + 1}"


# CUDA libraries whose versions follow the CUDA release the stack picks: kept by name, their pins dropped
_CUDA_FAMILY = re.compile(r"^(cuda-.*|libcu.*|libnv(?!infer).*|libnpp.*|nsight.*|gds-tools|cudatoolkit.*)$")
_NOT_THE_PACKAGE = {"build-string", "channel-label", "local-tag"}


def _extra_conda(dep: CondaDep) -> str:
    """An extra conda package as the profile keeps it: its version, never a build string (builds are per
    channel and platform); a CUDA library by name only."""
    name = f"{dep.channel}::{dep.name}" if dep.channel else dep.name
    if _CUDA_FAMILY.match(dep.name.lower()) or not dep.version:
        return name
    version = dep.version
    return f"{name}{version}" if version[0] in "=<>!~" else f"{name}={version}"


def from_env_file(env: EnvFile, known_indexes: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Profile values derived from an environment file: stack ranges, extra packages, channels, pip indexes
    (``known_indexes``: matrix.yaml's name -> URL, so a known index is named)."""
    from envkit.envfile import normalize
    from envkit.validate.evidence import collect, of, primary

    evidence, _ = collect(env)
    values: dict[str, Any] = {}
    notes: list[str] = []
    for comp in STACK:
        ev = primary(of(evidence, comp))
        rng = _range(comp, ev.version, ev.major) if ev else None
        if ev and rng:
            values[comp] = rng
            notes.append(f"{comp} {rng} (from {ev.source}" + (f", line {ev.line})" if ev.line else ")"))
    stack_pkgs = {normalize(e.package) for e in evidence if e.origin not in _NOT_THE_PACKAGE}
    values["channels"] = list(env.channels) or ["conda-forge"]
    values["conda"] = [_extra_conda(d) for d in env.conda if normalize(d.name) not in stack_pkgs | {"pip"}]
    values["pip"] = [d.raw for d in env.pip if not d.option and d.name and normalize(d.name) not in stack_pkgs]
    indexes = [u for d in env.pip if d.option for u in re.findall(r"(?:--(?:extra-)?index-url)[ =](\S+)", d.option)]
    by_url = {url.rstrip("/"): name for name, url in (known_indexes or {}).items()}
    named = [by_url.get(u.rstrip("/"), u) for u in indexes]
    if named:
        values["pip_indexes"] = list(dict.fromkeys(["pypi", *named]))
    return values, notes


def render_profile(name: str, values: dict[str, Any], source: str | None) -> str:
    """The profile text: a header, then every key with its comment (unset ones commented out)."""
    head = [f"# {name}: an envkit profile says what the project needs; `envkit resolve {name}` picks the versions.",
            "# Written by `envkit init`" + (f" from {source}" if source else "") + "; edit freely.",
            "schema_version: 1"]
    examples = {"tensorrt": ">=10.0", "cuda": ">=12.0", "cudnn": "required", "python": ">=3.10",
                "precisions": ["fp16"], "conda": ["numpy"], "pip": ["onnxruntime-gpu"],
                "targets": ["linux-64:driver=535.104.05"]}
    for key, comment in COMMENTS.items():
        head.append(f"# {comment}")
        value = values.get(key)
        if isinstance(value, list) and value:
            head.append(f"{key}:")
            head += [f"  - {json.dumps(v)}" for v in value]
        elif value not in (None, [], ""):
            head.append(f"{key}: {json.dumps(value)}")
        else:
            head.append(f"# {key}: {json.dumps(examples.get(key, ''))}")
    return "\n".join(head) + "\n"


def _values(args: argparse.Namespace, known_indexes: dict[str, str]) -> tuple[dict[str, Any], list[str], str | None]:
    from envkit.envfile import read_env_file

    values: dict[str, Any] = {"platforms": ["linux-64"], "channels": ["conda-forge"]}
    notes: list[str] = []
    source = getattr(args, "from_file", None)
    if source:
        derived, notes = from_env_file(read_env_file(Path(source)), known_indexes)
        values.update(derived)
    for key in STACK:
        if getattr(args, key, None):
            values[key] = getattr(args, key)
    for key, arg in (("precisions", "precision"), ("platforms", "platform"), ("channels", "channel"),
                     ("conda", "conda"), ("pip", "pip"), ("targets", "target")):
        given = list(getattr(args, arg, None) or [])
        if given:
            values[key] = given if key in ("precisions", "platforms", "channels") else [*values.get(key, []), *given]
    values["description"] = getattr(args, "description", None) or values.get("description") or ""
    return values, notes, source


def run(args: argparse.Namespace, settings: Settings) -> InitResult:
    from envkit.envs import validate_name
    from envkit.fsutil import write_atomic
    from envkit.matrix.load import load_for
    from envkit.profile import check_precisions, parse_profile

    name = validate_name(args.name)
    path = settings.environments_dir / f"{name}.yaml"
    if path.exists() and not getattr(args, "force", False):
        raise InputError(f"{path} exists", hint="edit it, pick another name, or add --force to replace it")
    matrix = load_for(settings)
    values, notes, source = _values(args, dict(matrix.pip_indexes))
    text = render_profile(name, values, source)
    existed = path.exists()
    old = path.read_bytes() if existed else None
    write_atomic(path, text)
    try:
        prof = parse_profile(path, name)
        check_precisions(prof, list(matrix.precisions))
    except InputError:
        if old is not None:
            write_atomic(path, old)
        else:
            path.unlink(missing_ok=True)
        raise
    from envkit.context import global_options

    return InitResult(name, path, {k: v for k, v in prof.to_json().items() if k not in ("name", "path")}, notes,
                      global_options(settings))
