"""``envkit smoke NAME | --prefix DIR [--python EXE] [--model FILE.onnx --shape NAME:1x3x224x224]``.

Exit 0 when every layer the environment needs passed, 6 (ExitCode.SMOKE) otherwise.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from envkit.context import Settings
from envkit.errors import InputError
from envkit.limits import seconds
from envkit.smoke.report import SmokeReport
from envkit.smoke.runner import smoke_prefix

_SHAPE = re.compile(r"^(?P<name>[^:]+):(?P<dims>\d+(?:x\d+)*)$")


def parse_shapes(items: list[str]) -> dict[str, tuple[int, ...]]:
    """['images:1x3x640x640'] -> {'images': (1, 3, 640, 640)}; InputError naming the bad item."""
    shapes: dict[str, tuple[int, ...]] = {}
    for item in items:
        m = _SHAPE.match(item.strip())
        if not m:
            raise InputError(f"--shape expects NAME:1x3x224x224, got {item!r}", key="--shape",
                             hint="name the model input, then its dimensions joined by 'x', e.g. images:1x3x640x640")
        parts = m.group("dims").split("x")
        if any(len(d) > 9 for d in parts):
            raise InputError(f"--shape {item[:60]!r}: a dimension over 9 digits", key="--shape")
        dims = tuple(int(d) for d in parts)
        if any(d <= 0 for d in dims):
            raise InputError(f"--shape {item!r}: dimensions must be positive", key="--shape")
        name = m.group("name")
        if name in shapes:
            raise InputError(f"--shape given twice for input {name!r}", key="--shape")
        shapes[name] = dims
    return shapes


def resolve_prefix(args: argparse.Namespace, settings: Settings) -> Path:
    if getattr(args, "prefix", None):
        from envkit.envs import heal

        prefix = Path(args.prefix).expanduser()
        heal(prefix.resolve())  # an environment cut between the swap renames is put back first
        if not prefix.is_dir():
            raise InputError(f"no such directory: {prefix}", key="--prefix",
                             hint="give the environment's prefix (the directory holding bin/ and conda-meta/)")
        is_env = any((prefix / marker).exists() for marker in ("conda-meta", "pyvenv.cfg"))
        if not is_env and not getattr(args, "python", None):
            raise InputError(f"{prefix} is not an environment (no conda-meta/ or pyvenv.cfg)", key="--prefix",
                             hint="give the environment's prefix (the directory holding bin/ and conda-meta/)")
        return prefix.resolve()
    name = getattr(args, "name", None)
    if not name:
        raise InputError("name an environment or give --prefix DIR", hint="envkit smoke NAME | --prefix DIR")
    from envkit.envs import find_env

    return find_env(name, settings)


def run(args: argparse.Namespace, settings: Settings) -> SmokeReport:
    shapes = parse_shapes(list(getattr(args, "shape", None) or []))
    model = Path(args.model).expanduser().resolve() if getattr(args, "model", None) else None
    if model is not None and not model.is_file():
        raise InputError(f"no such model file: {model}", key="--model")
    if shapes and model is None:
        raise InputError("--shape needs --model FILE.onnx", key="--shape",
                         hint="the built-in smoke model has fixed shapes")
    python = Path(args.python).expanduser() if getattr(args, "python", None) else None
    if python is not None and not python.exists():
        raise InputError(f"no such interpreter: {python}", key="--python")
    timeout = seconds(getattr(args, "timeout", 600.0), "--timeout")  # 0, nan, inf: exit 2 (0 once meant 600 s)
    prefix = resolve_prefix(args, settings)
    report = smoke_prefix(
        prefix,
        python=python,
        model=model,
        shapes=shapes or None,
        cache_dir=settings.cache_dir / "engines",
        timeout=timeout,
    )
    attach_libraries(report, prefix, python)
    return report


def attach_libraries(report: SmokeReport, prefix: Path, python: Path | None) -> None:
    """The loaded-library table of ``envkit libs`` (static, no --live) on the smoke report; a note when unavailable."""
    from envkit.errors import EnvkitError
    from envkit.libs.report import libs_report

    try:
        libs = libs_report(prefix, python)
    except EnvkitError as exc:
        report.library_notes.append(f"library table unavailable: {exc.message}")
        return
    report.libraries = libs.rows
    problems = [f for f in libs.findings if f.severity == "error"]
    if problems:
        report.library_notes.append(f"envkit libs found {len(problems)} problem(s): {problems[0].message}"
                                    + (" (and more: run `envkit libs`)" if len(problems) > 1 else ""))
