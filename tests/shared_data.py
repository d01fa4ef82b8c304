"""Where the shared real data lives: ../shared beside the clone (CI), the workplace's /work/shared layout
(a worktree two levels down), or $ENVKIT_SHARED. In CI (CI=true) its absence is a failure, elsewhere a skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "explain"


def shared_dir() -> Path | None:
    for cand in (os.environ.get("ENVKIT_SHARED"), ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if cand and (Path(cand) / "corpus" / "errors" / "SOURCES.tsv").is_file():
            return Path(cand)
    return None


def require_shared() -> Path:
    found = shared_dir()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("shared/ (../shared beside the clone) is missing in CI: the error corpus tests need it")
        pytest.skip("shared/ with corpus/errors not found (set ENVKIT_SHARED)")
    return found
