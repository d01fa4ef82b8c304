"""Further real error texts (copied from the public threads in tests/data/explain/extra/SOURCES.tsv) for
entries the shared corpus does not exercise; an empty entry means: no diagnosis expected."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from envkit.explain import explain_stream

EXTRA = Path(__file__).resolve().parents[1] / "data" / "explain" / "extra"
with (EXTRA / "SOURCES.tsv").open(encoding="utf-8") as _fh:
    ROWS = list(csv.DictReader(_fh, delimiter="\t"))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"].removesuffix(".txt"))
def test_extra_text(row: dict[str, str]) -> None:
    with (EXTRA / row["file"]).open("rb") as fh:
        found = explain_stream(fh).diagnoses
    if not row["entry"]:
        assert found == []
        return
    assert found and found[0].id == row["entry"], [d.id for d in found]
    assert found[0].fixes
    for pair in filter(None, row["facts"].split(",")):
        key, value = pair.split("=")
        assert found[0].facts[key] == value
