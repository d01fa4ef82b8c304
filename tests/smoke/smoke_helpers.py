"""Helpers shared by the smoke tests (a unique module name: tests/ has other conftest.py files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_stack(prefix: Path, **stack: str | None) -> None:
    """<prefix>/conda-meta/envkit.json with the pinned stack, as `envkit create` writes it."""
    (prefix / "conda-meta" / "envkit.json").write_text(json.dumps({"complete": True, "stack": stack}))


def layer(report_layers: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [lay for lay in report_layers if lay["name"] == name]
    assert found, f"no {name} layer in {[lay['name'] for lay in report_layers]}"
    return found[0]
