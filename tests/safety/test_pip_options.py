"""Regression tests (issue 9): pip options are never passed through silently.

validate said "no findings" for ``--index-url http://elsewhere``, ``--trusted-host``, ``--no-build-isolation`` and
``-e ./pkg`` (which runs a local setup.py); create's step line showed only package names. Now validate reports
each option (a warning for index and trust options; -e and -r are pip-unseen), create names them before pip runs, and a
profile can forbid them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envkit.cli import main

ENV = """name: x
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
    - --index-url http://user:PW@elsewhere.example/simple
    - --trusted-host elsewhere.example
    - --no-build-isolation
    - -e ./pkg
    - numpy
"""


def test_validate_reports_every_pip_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "environment.yml"
    f.write_text(ENV)
    main(["validate", str(f), "--json"])
    out = capsys.readouterr().out
    findings = json.loads(out)["data"]["findings"]
    by_line = {(x["line"], x["code"]): x["severity"] for x in findings}
    assert by_line[(7, "pip-index-option")] == "warning"
    assert by_line[(8, "pip-index-option")] == "warning"
    assert by_line[(9, "pip-option")] == "info"
    assert by_line[(10, "pip-unseen")] == "info"  # -e ./pkg: pip builds it; validate cannot see inside
    assert "PW" not in out


def test_profile_can_forbid_pip_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prof = tmp_path / "p.yaml"
    prof.write_text("schema_version: 1\ntensorrt: '>=10'\npip_options: forbid\npip:\n  - numpy\n  - -e ./pkg\n")
    host = Path(__file__).resolve().parents[2] / "tests/data/nvidia-smi/h200-driver-580.159.04/q.xml"
    assert main(["resolve", str(prof), "--host", str(host)]) == 2
    err = capsys.readouterr().err
    assert "forbids pip options" in err and ":6" in err
    prof.write_text("schema_version: 1\ntensorrt: '>=10'\npip_options: maybe\n")
    assert main(["resolve", str(prof), "--host", str(host)]) == 2
