"""Fixtures for the smoke tests: this test venv (real numpy/onnx/onnxruntime) plays the environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env_python() -> Path:
    """The interpreter running the tests: it has numpy, onnx and onnxruntime, no TensorRT, no GPU."""
    return Path(sys.executable)


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    """An environment prefix with a conda-meta directory (where the report is saved)."""
    p = tmp_path / "env"
    (p / "conda-meta").mkdir(parents=True)
    return p


def write_stack(prefix: Path, **stack: str | None) -> None:
    (prefix / "conda-meta" / "envkit.json").write_text(json.dumps({"complete": True, "stack": stack}))


def layer(report_layers: list[dict], name: str) -> dict:  # type: ignore[type-arg]
    found = [lay for lay in report_layers if lay["name"] == name]
    assert found, f"no {name} layer in {[lay['name'] for lay in report_layers]}"
    return found[0]
