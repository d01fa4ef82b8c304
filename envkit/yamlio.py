"""YAML reading with line numbers, and a strict reader for typed models.

``load(path)`` returns the data together with a map from key path to line, so every
model built from YAML (matrix, profiles, environment files, config) can say
"file:line: key.path: what was expected" and suggest "did you mean".
"""

from __future__ import annotations

import re
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

    from envkit.limits import MAX_YAML_DEPTH

    if len(path) > MAX_YAML_DEPTH:
        raise InputError(f"nested deeper than {MAX_YAML_DEPTH} levels", file=file, line=node.start_mark.line + 1)
    lines.setdefault(path, node.start_mark.line + 1)
    _check_tag(node, file)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError("YAML merge keys (<<) are not supported", file=file, line=key_node.start_mark.line + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError("a mapping key must be a plain scalar", file=file, line=key_node.start_mark.line + 1)
            key = _scalar(key_node, file)
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
        items = [_walk(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
        return items
    return _scalar(node, file)


_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null",
                                                             "timestamp", "binary"))


def _check_tag(node: Any, file: str) -> None:
    if node.tag not in _PLAIN_TAGS:
        raise InputError(f"unsupported YAML tag {str(node.tag)[:80]!r}", "remove the tag (envkit reads plain YAML only)",
                         file=file, line=node.start_mark.line + 1)


def _scalar(node: Any, file: str) -> Any:
    import yaml

    _check_tag(node, file)
    try:  # the constructor alone (a whole SafeLoader per scalar cost 3x the parse of matrix.yaml)
        value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", file=file, line=node.start_mark.line + 1) from None
    if isinstance(value, str) and _SURROGATE.search(value):  # "\ud800" in a quoted string: no output can print it
        raise InputError("a string holds a lone UTF-16 surrogate (like \\ud800), which is not text",
                         file=file, line=node.start_mark.line + 1)
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _compose(text: str, file: str) -> Any:
    import yaml

    try:
        try:
            return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as first:
            # libyaml's messages are terser; the pure-Python parser explains the same error better
            try:
                return yaml.compose(text, Loader=yaml.SafeLoader)
            except RecursionError:
                raise first from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", file=file, line=line) from None
    except RecursionError:
        raise InputError("not valid YAML: nested too deeply", file=file) from None


def _expanded_size(root: Any, file: str) -> int:
    """How many values ``root`` expands to with every alias written out (memoised per node, no recursion)."""
    import yaml

    size: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children: list[Any] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if done:
            visiting.discard(id(node))
            size[id(node)] = min(1 + sum(size[id(c)] for c in children), 1 << 62)
            continue
        if id(node) in visiting:
            raise InputError("an alias refers to a node that contains it (a recursive YAML structure)",
                             file=file, line=node.start_mark.line + 1)
        visiting.add(id(node))
        stack.append((node, True))
        for c in children:
            if id(c) in visiting:
                raise InputError("an alias refers to a node that contains it (a recursive YAML structure)",
                                 file=file, line=c.start_mark.line + 1)
            if id(c) not in size:
                stack.append((c, False))
    return size[id(root)]


def loads(text: str, file: str = "<string>") -> Document:
    from envkit.limits import MAX_YAML_NODES

    node = _compose(text, file)
    if node is None:
        return Document(None, file, {(): 1})
    if _expanded_size(node, file) > MAX_YAML_NODES:
        raise InputError(f"the document expands to more than {MAX_YAML_NODES} values (an alias bomb?)",
                         "write the values out; envkit bounds YAML aliases", file=file)
    lines: dict[KeyPath, int] = {}
    try:
        data = _walk(node, (), lines, file)
    except RecursionError:
        raise InputError("not valid YAML: nested too deeply", file=file) from None
    return Document(data, file, lines)


def load(path: Path | str) -> Document:
    from envkit import yamlcache
    from envkit.fsutil import read_input
    from envkit.limits import MAX_YAML_BYTES

    p = Path(path)
    raw = read_input(p, "a YAML file", limit=MAX_YAML_BYTES)
    hit = yamlcache.lookup(raw)
    if hit is not None:  # the same bytes parsed before: no PyYAML at all (envkit.yamlcache)
        return Document(hit[0], str(p), hit[1])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(p)) from None
    doc = loads(text, str(p))
    yamlcache.store(raw, doc.data, doc.lines)
    return doc


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    import difflib

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
