"""Fixtures for envkit.libs: a fresh venv, and os.environ without LD_LIBRARY_PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    prefix = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
    return prefix


@pytest.fixture
def clean_environ() -> dict[str, str]:
    """os.environ without LD_LIBRARY_PATH (each test adds the decoys it wants)."""
    return {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
