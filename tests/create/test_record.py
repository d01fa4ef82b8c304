"""The environment record (conda-meta/envkit.json): one writer, one reader, typed and versioned."""

from __future__ import annotations

import json
from pathlib import Path

from envkit.create.record import RECORD, SCHEMA, EnvRecord, read_record, write_record


def _write(prefix: Path, data: object) -> None:
    (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
    (prefix / "conda-meta" / RECORD).write_text(json.dumps(data))


def test_round_trip(tmp_path: Path) -> None:
    rec = EnvRecord(complete=True, name="demo", prefix=str(tmp_path), spec_hash="ab" * 32,
                    stack={"tensorrt": "10.3.0.26", "cudnn": None}, packages=["tensorrt-10.3.0.26-h0_0"],
                    machine={"kind": "capture"}, timings={"solve": 0.5})
    write_record(tmp_path, rec)
    data = json.loads((tmp_path / "conda-meta" / RECORD).read_text())
    assert data["schema"] == SCHEMA == "envkit.env/1" and next(iter(data)) == "schema"
    assert read_record(tmp_path) == rec


def test_old_records_still_read(tmp_path: Path) -> None:
    """Records written before the schema key, or by the conda-CLI backends (fewer keys), take the defaults."""
    _write(tmp_path, {"complete": True, "stack": {"tensorrt": "10.13.0.35", "cuda": "12.9"}})
    rec = read_record(tmp_path)
    assert rec is not None and rec.complete and rec.stack["cuda"] == "12.9"
    assert rec.lock_file is None and rec.packages == [] and rec.host == {} and rec.backend == "rattler"
    _write(tmp_path, {"schema": "envkit.env/1", "complete": True, "name": "x", "lock_file": None,
                      "lock_hash": None, "backend": "micromamba", "envkit_version": "0.1.0"})
    rec = read_record(tmp_path)
    assert rec is not None and rec.backend == "micromamba" and rec.lock_file is None


def test_unreadable_records_read_as_none(tmp_path: Path) -> None:
    assert read_record(tmp_path) is None
    for bad in ([], "text", {"schema": "envkit.env/99", "complete": True}, {"complete": "yes"},
                {"stack": ["10.3"]}, {"stack": {"tensorrt": 10}}, {"packages": [1, 2]}):
        _write(tmp_path, bad)
        assert read_record(tmp_path) is None, bad
    (tmp_path / "conda-meta" / RECORD).write_text("{not json")
    assert read_record(tmp_path) is None
