"""Rooms stay small enough to read (style: modules <= ~400 lines, functions <= ~80 lines).

``KNOWN`` lists today's offenders with the helper whose change shrinks them; an entry that no longer
offends must be removed from it (the test says so), so the list only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

KNOWN = {
    "envkit/check/steps.py": "check for fleets: the download/solve pools out of the steps",
}


def offenders() -> dict[str, int]:
    out: dict[str, int] = {}
    for path in sorted((ROOT / "envkit").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            out[rel] = lines
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out[f"{rel}::{node.name}"] = length
    return out


def test_no_new_large_modules_or_functions() -> None:
    new = {k: v for k, v in offenders().items() if k not in KNOWN}
    assert not new, (f"over {MAX_MODULE_LINES} lines per module / {MAX_FUNCTION_LINES} per function "
                     f"(split by responsibility): {new}")


def test_known_offenders_still_offend() -> None:
    fixed = sorted(set(KNOWN) - set(offenders()))
    assert not fixed, f"no longer too large: remove from KNOWN in tests/test_size.py: {fixed}"
