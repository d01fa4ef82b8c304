"""Fixtures of the create tests.

* ``venv_template`` (session): one real ``python -m venv`` (with pip) per test session.
* ``venv_prefix``: a copy of it with a conda-meta/ folder, the "environment" of the pip tests
  (copying takes a fraction of a second; creating a venv with pip takes seconds).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def venv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("venv-template") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(template)], check=True, timeout=300)
    return template


@pytest.fixture
def venv_prefix(venv_template: Path, tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    shutil.copytree(venv_template, prefix, symlinks=True)  # bin/python stays a link to the base interpreter
    (prefix / "conda-meta").mkdir()
    return prefix
