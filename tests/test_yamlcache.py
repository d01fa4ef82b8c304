"""envkit.yamlcache: a file read again with the same bytes gives the same Document without PyYAML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envkit import yamlcache
from envkit.yamlio import load

ROOT = Path(__file__).resolve().parents[1]


def _entries() -> list[Path]:
    d = Path(os.environ["ENVKIT_CACHE_DIR"]) / "yaml"
    return sorted(d.glob("*.json")) if d.is_dir() else []


def test_real_files_come_back_the_same(tmp_path: Path) -> None:
    for src in [ROOT / "environments" / "trt-yolo.yaml", ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml"]:
        first = load(src)
        again = load(src)
        assert (again.data, again.lines, again.file) == (first.data, first.lines, first.file)
    assert len(_entries()) == 2
    copy = tmp_path / "other-name.yml"  # same bytes elsewhere: one entry, its own file name
    copy.write_bytes((ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml").read_bytes())
    assert load(copy).file == str(copy) and len(_entries()) == 2


@pytest.mark.parametrize("text", ["when: 2024-01-02\n", "big: 1.0e+400\n", "x: .nan\n", "x: [1, 2.0, true]\ny: 1.0\n"])
def test_only_what_json_gives_back_exactly_is_stored(tmp_path: Path, text: str) -> None:
    f = tmp_path / "doc.yaml"
    f.write_text(text)
    doc = load(f)
    stored = bool(_entries())
    assert stored == (text.startswith("x: [")), (text, doc.data)
    again = load(f)
    assert repr(again.data) == repr(doc.data) and again.lines == doc.lines


def test_a_torn_entry_is_a_miss(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("a: 1\nb: [x, y]\n")
    doc = load(f)
    (entry,) = _entries()
    entry.write_text('{"data": {"a": 1}, "lines": [[["a"], "one"]]}')
    assert load(f).data == doc.data == {"a": 1, "b": ["x", "y"]}
    entry.write_text("{not json")
    assert load(f).lines == doc.lines


def test_the_cache_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlcache, "MAX_ENTRIES", 8)
    for i in range(20):
        f = tmp_path / f"f{i}.yaml"
        f.write_text(f"n: {i}\n")
        assert load(f).data == {"n": i}
    assert 0 < len(_entries()) <= 8


@pytest.mark.parametrize("line", ["  - https://alice:pw@conda.example.com/c", "  - https://conda.example.com/t/abc123/c",
                                  "  - --extra-index-url https://pypi.example.com/simple  # token from CI"])
def test_a_file_that_may_hold_a_credential_is_never_stored(tmp_path: Path, line: str) -> None:
    f = tmp_path / "environment.yml"
    f.write_text(f"name: x\nchannels:\n{line}\ndependencies: [python]\n")
    assert load(f).data["name"] == "x"
    assert _entries() == []
