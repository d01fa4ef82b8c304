"""Fixtures for the smoke tests: this test venv (real numpy/onnx/onnxruntime) plays the environment."""

from __future__ import annotations

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
