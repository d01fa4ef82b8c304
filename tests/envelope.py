"""The JSON envelope contract (README.md, "JSON output"), shared by every test that reads `--json` output.

``data_of`` and ``error_of`` validate the whole envelope, so each test that parses a verb's JSON also
pins the contract.
"""

from __future__ import annotations

import json
from typing import Any

from envkit.cli import VERBS
from envkit.errors import EnvkitError, ExitCode

SCHEMA = "envkit/v1"
LEVELS = {"note", "warning", "error"}


def _error_classes(cls: type[EnvkitError]) -> set[str]:
    out = {cls.__name__}
    for sub in cls.__subclasses__():
        out |= _error_classes(sub)
    return out


def validate(doc: Any, verb: str) -> dict[str, Any]:
    """Check one envelope strictly; returns it."""
    assert isinstance(doc, dict), doc
    assert list(doc) == ["schema", "verb", "exit_code", "data", "messages"], list(doc)
    assert doc["schema"] == SCHEMA
    assert doc["verb"] == verb and (verb in VERBS or verb == "envkit")
    assert doc["exit_code"] in {int(c) for c in ExitCode}
    assert doc["data"] is None or isinstance(doc["data"], dict)
    assert isinstance(doc["messages"], list)
    for m in doc["messages"]:
        assert set(m) == {"level", "text", "hint", "code"}, m
        assert m["level"] in LEVELS and isinstance(m["text"], str) and m["text"]
        assert m["hint"] is None or isinstance(m["hint"], str)
    errors = [m for m in doc["messages"] if m["level"] == "error"]
    if doc["data"] is None:
        assert len(errors) == 1 and doc["exit_code"] != 0, doc
        known = _error_classes(EnvkitError) - {"EnvkitError"} | {"Interrupted"}
        assert errors[0]["code"] in known, errors[0]
    return doc


def data_of(text: str, verb: str, exit_code: int | None = None) -> dict[str, Any]:
    """The ``data`` of a result envelope printed by ``envkit VERB --json``."""
    doc = validate(json.loads(text), verb)
    assert doc["data"] is not None, doc["messages"]
    if exit_code is not None:
        assert doc["exit_code"] == exit_code
    data: dict[str, Any] = doc["data"]
    return data


def notes_of(text: str, verb: str) -> list[str]:
    doc = validate(json.loads(text), verb)
    return [m["text"] for m in doc["messages"] if m["level"] == "note"]


def error_of(text: str, verb: str, exit_code: int | None = None) -> dict[str, Any]:
    """The error message (level, text, hint, code) of an error envelope."""
    doc = validate(json.loads(text), verb)
    assert doc["data"] is None, doc
    if exit_code is not None:
        assert doc["exit_code"] == exit_code
    err: dict[str, Any] = doc["messages"][0]
    return err


def parsed(text: str, verb: str) -> dict[str, Any]:
    """The ``data`` of a result, or the error message (level, text, hint, code) of an error envelope."""
    doc = validate(json.loads(text), verb)
    out: dict[str, Any] = doc["data"] if doc["data"] is not None else doc["messages"][0]
    return out
