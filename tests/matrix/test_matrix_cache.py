"""The parsed matrix is cached on disk by the file's exact bytes; a bad cache file is only a miss."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from envkit.errors import MatrixError
from envkit.matrix import load as matrix_load

ROOT = Path(__file__).resolve().parents[2]


def test_disk_cache_is_keyed_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVKIT_CACHE_DIR", str(tmp_path / "cache"))
    m = tmp_path / "matrix.yaml"
    shutil.copy(ROOT / "matrix.yaml", m)
    first = matrix_load.load_matrix(m)
    files = list((tmp_path / "cache" / "matrix").glob("*.json"))
    assert len(files) == 1
    matrix_load._CACHE.clear()
    again = matrix_load.load_matrix(m)
    assert again.to_json() == first.to_json()

    # a torn cache file is a miss, not an error
    files[0].write_bytes(b"\x80garbage")
    matrix_load._CACHE.clear()
    assert matrix_load.load_matrix(m).to_json() == first.to_json()

    # an edit changes the key: the edited file is parsed (and checked) again, never served from the cache
    m.write_text(m.read_text().replace("schema_version: 1", "schema_version: 2", 1))
    matrix_load._CACHE.clear()
    with pytest.raises(MatrixError, match="schema_version"):
        matrix_load.load_matrix(m)
