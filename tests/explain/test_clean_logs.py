"""No false diagnosis on real logs of successful runs (tests/data/explain/clean, see NOTES.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.explain import explain_stream

CLEAN = Path(__file__).resolve().parents[1] / "data" / "explain" / "clean"
LOGS = sorted(CLEAN.glob("*.log"))


def test_there_are_twenty_clean_logs_with_their_commands() -> None:
    assert len(LOGS) >= 20
    listed = {line.split("\t")[0] for line in (CLEAN / "COMMANDS.tsv").read_text().splitlines()}
    assert {p.name for p in LOGS} == listed


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.stem)
def test_clean_log_has_no_diagnosis(log: Path) -> None:
    with log.open("rb") as fh:
        result = explain_stream(fh)
    assert result.diagnoses == [], [(d.id, d.quotes) for d in result.diagnoses]
