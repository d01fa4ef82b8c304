"""Fixtures for the host tests: where the real nvidia-smi captures are."""

from __future__ import annotations

from pathlib import Path

import pytest

SMI_DATA = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi"


@pytest.fixture
def smi_data() -> Path:
    """tests/data/nvidia-smi (see SOURCES.md there)."""
    return SMI_DATA
