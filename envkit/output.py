"""The one JSON envelope of every ``--json`` output, results and errors alike (README.md, "JSON output").

    {"schema": "envkit/v1", "verb": "resolve", "exit_code": 0, "data": {...},
     "messages": [{"level": "note", "text": "...", "hint": null, "code": null}]}

``data`` is the verb's record (null after an error); ``messages`` holds the notes, warnings and
the error (level "error", ``code`` = the EnvkitError subclass, with its hint). A change that
breaks a reader bumps the version in ``SCHEMA``; new keys inside ``data`` do not.
"""

from __future__ import annotations

from typing import Any

from envkit.errors import EnvkitError, ExitCode
from envkit.result import Message, Result

SCHEMA = "envkit/v1"
KEYS = ("schema", "verb", "exit_code", "data", "messages")


def envelope(verb: str, exit_code: int, data: dict[str, Any] | None, messages: list[Message]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "verb": verb,
        "exit_code": int(exit_code),
        "data": data,
        "messages": [m.to_json() for m in messages],
    }


def for_result(verb: str, result: Result) -> dict[str, Any]:
    return envelope(verb, result.exit_code, result.to_json(), result.messages())


def error_message(err: EnvkitError) -> Message:
    return Message("error", err.message, err.hint, type(err).__name__)


def for_error(verb: str, err: EnvkitError) -> dict[str, Any]:
    return envelope(verb, err.exit_code, None, [error_message(err)])


def for_interrupt(verb: str) -> dict[str, Any]:
    return envelope(verb, ExitCode.INTERRUPTED, None, [Message("error", "interrupted", None, "Interrupted")])


def unwrap(doc: Any, verb: str) -> Any:
    """The ``data`` of an envelope written by ``envkit VERB --json``; anything else is returned unchanged
    (records saved before the envelope existed are still read)."""
    if isinstance(doc, dict) and doc.get("schema") == SCHEMA and doc.get("verb") == verb and "data" in doc:
        return doc["data"]
    return doc
