"""The registry of created environments and conda's environments.txt (append our line, never rewrite others)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envkit.registry import RegistryError, conda_environments_txt, read, register, registry_file, unregister


def _env() -> dict[str, str]:
    return dict(os.environ)


def test_register_and_unregister_keep_other_lines(tmp_path: Path) -> None:
    txt = conda_environments_txt(_env())
    txt.parent.mkdir(parents=True)
    txt.write_text("/opt/conda/envs/theirs\n/other/env")  # someone else's lines, no final newline
    prefix = tmp_path / "env1"
    prefix.mkdir()
    assert register(_env(), "env1", prefix) == []
    register(_env(), "env1", prefix)  # again: no duplicate
    assert txt.read_text() == f"/opt/conda/envs/theirs\n/other/env\n{prefix.resolve()}\n"
    assert [(e.name, e.prefix) for e in read(_env())] == [("env1", prefix.resolve())]
    unregister(_env(), prefix)
    assert txt.read_text() == "/opt/conda/envs/theirs\n/other/env\n"
    assert read(_env()) == []


@pytest.mark.parametrize(
    ("content", "where"),
    [("{not json", ":1"), ('{"schema": "other/9", "environments": []}', "schema"),
     ('{"schema": "envkit.registry/1", "environments": [{"name": "x", "prefix": "relative"}]}', "environments[0]")],
)
def test_broken_registry_is_named_and_moved_aside(tmp_path: Path, content: str, where: str) -> None:
    f = registry_file(_env())
    f.parent.mkdir(parents=True)
    f.write_text(content)
    with pytest.raises(RegistryError) as ei:
        read(_env())
    assert str(f) in ei.value.message and where in ei.value.message
    notes = register(_env(), "env1", tmp_path)
    assert notes and "environments.json.broken" in notes[0]
    assert f.with_name("environments.json.broken").read_text() == content  # kept, not overwritten
    assert json.loads(f.read_text())["environments"][0]["name"] == "env1"
