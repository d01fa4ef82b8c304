"""YAML reading with line numbers, and a strict reader for typed models.

``load(path)`` returns the data together with a map from key path to line, so every
model built from YAML (matrix, profiles, environment files, config) can say
"file:line: key.path: what was expected" and suggest "did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from envkit.errors import InputError

T = TypeVar("T")
KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


@dataclass
class Document:
    """Parsed YAML plus where each key path starts (1-based lines)."""

    data: Any
    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def _walk(node: Any, path: KeyPath, lines: dict[KeyPath, int], file: str) -> Any:
    import yaml

    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError("YAML merge keys (<<) are not supported", file=file, line=key_node.start_mark.line + 1)
            key = yaml.SafeLoader(" ").construct_object(key_node) if not isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar(key_node)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise InputError("a mapping key must be a plain scalar", file=file, line=key_node.start_mark.line + 1)
            skey = str(key)
            if skey in out:
                raise InputError(
                    f"duplicate key {skey!r}", file=file, line=key_node.start_mark.line + 1, key=format_path(path + (skey,))
                )
            lines[path + (skey,)] = key_node.start_mark.line + 1
            out[skey] = _walk(value_node, path + (skey,), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: Any) -> Any:
    import yaml

    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def loads(text: str, file: str = "<string>") -> Document:
    import yaml

    try:
        try:
            node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            # libyaml's messages are terser; the pure-Python parser explains the same error better
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", file=file, line=line) from None
    if node is None:
        return Document(None, file, {(): 1})
    lines: dict[KeyPath, int] = {}
    data = _walk(node, (), lines, file)
    return Document(data, file, lines)


def load(path: Path | str) -> Document:
    from envkit.fsutil import read_input

    p = Path(path)
    try:
        text = read_input(p, "a YAML file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(p)) from None
    return loads(text, str(p))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "a mapping"}


class Reader:
    """A cursor into a Document at one key path, with strict typed accessors."""

    def __init__(self, doc: Document, path: KeyPath = (), error: type[InputError] = InputError) -> None:
        self.doc = doc
        self.path = path
        self.error = error
        value = doc.data
        for part in path:
            value = value[part]
        self.value = value

    def fail(self, message: str, hint: str | None = None, path: KeyPath | None = None) -> InputError:
        p = self.path if path is None else path
        return self.error(message, hint, file=self.doc.file, line=self.doc.line(p), key=format_path(p))

    def child(self, key: str | int) -> Reader:
        return Reader(self.doc, self.path + (key,), self.error)

    def expect_mapping(self, allowed: Iterable[str], required: Iterable[str] = ()) -> Reader:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {_describe(self.value)}")
        allowed_list = list(allowed)
        for key in self.value:
            if key not in allowed_list:
                raise self.fail(
                    f"unknown key {key!r}",
                    did_you_mean(key, allowed_list) or f"allowed keys: {', '.join(sorted(allowed_list))}",
                    self.path + (key,),
                )
        for key in required:
            if key not in self.value:
                raise self.fail(f"missing required key {key!r}")
        return self

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def get(self, key: str, kind: type[T], default: Any = None, *, required: bool = False) -> Any:
        if not self.has(key):
            if required:
                raise self.fail(f"missing required key {key!r}")
            return default
        value = self.value[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            raise self.fail(
                f"expected a string, got the number {value!r}",
                f"quote it: {key}: \"{value}\" (YAML reads 12.10 as the number 12.1)",
                self.path + (key,),
            )
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {_describe(value)}", path=self.path + (key,))
        return value

    def str_list(self, key: str, *, required: bool = False) -> list[str]:
        items = self.get(key, list, [], required=required)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                if isinstance(item, (int, float)) and not isinstance(item, bool):
                    raise self.fail(
                        f"expected a string, got the number {item!r}",
                        "quote version numbers in YAML (\"12.10\", not 12.10)",
                        self.path + (key, i),
                    )
                raise self.fail(f"expected a string, got {_describe(item)}", path=self.path + (key, i))
        return list(items)

    def items(self, key: str) -> list[Reader]:
        seq = self.get(key, list, [])
        return [self.child(key).child(i) for i in range(len(seq))]

def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
