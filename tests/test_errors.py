"""The exit codes and the exception hierarchy (envkit/errors.py): one definition, rendered everywhere."""

from __future__ import annotations

import ast
from pathlib import Path

from envkit.cli import build_parser
from envkit.errors import EnvkitError, ExitCode, exit_code_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "envkit"


def test_readme_table_is_exit_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert exit_code_table(markdown=True) in readme, (
        "README.md's exit-code table differs from envkit.errors.ExitCode; paste this:\n"
        + exit_code_table(markdown=True)
    )


def test_help_epilog_is_exit_code() -> None:
    help_text = build_parser().format_help()
    for code in ExitCode:
        assert f"{int(code):<3} {code.meaning}" in help_text


def test_every_code_has_a_meaning() -> None:
    assert all(code.meaning for code in ExitCode)


def _subclasses(cls: type) -> set[str]:
    return {cls.__name__}.union(*(_subclasses(c) for c in cls.__subclasses__()))


def test_every_raise_is_a_named_subclass() -> None:
    """No `EnvkitError(...)` is built outside errors.py, and exit codes belong to the class."""
    named = _subclasses(EnvkitError) - {"EnvkitError"}
    bare: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "EnvkitError":
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if node.func.id in named and any(k.arg == "exit_code" for k in node.keywords):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno} (exit_code=)")
    assert not bare, bare
