"""The explain catalogue: what envkit knows about error texts, as typed records read strictly from YAML.

The knowledge lives in ``envkit/explain/catalogue.yaml`` (shipped in the package) and in a team's overlay
files (``environments/explain.d/*.yaml`` of the project, or ``ENVKIT_EXPLAIN_CATALOGUES``: paths separated by
the OS path separator). An overlay entry with the id of a shipped one replaces it. Every error names the file,
the line and the key (``file:line: entries[3].fix[0]: ...``), like the matrix.

An entry::

    - id: nvml-driver-library-mismatch        # unique, [a-z0-9-]
      class: nvidia-driver                     # one of `classes:`
      severity: error                          # error | warning (warnings never lead)
      certainty: certain                       # certain | likely | possible
      title: one line, what failed
      match: ['regex with (?P<fact>named groups)', ...]   # any one matching is a hit
      facts: {fact: version}                   # the type of each named group (default text)
      ask: [driver_for_cuda, ...]              # matrix questions (envkit.explain.questions)
      cause: template with {facts}, or alternatives like fix
      fix: ['template', ['alternative', 'used when the first cannot be filled']]
      unless: [other-entry-id]                 # dropped when one of these also matched
      source: [KEY]                            # keys of `sources:` (URLs establishing the cause)
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.errors import InputError
from envkit.yamlio import Document, Reader, did_you_mean

SCHEMA_VERSION = 1
FACT_TYPES = ("text", "version", "int", "cc", "sm", "cuda_api", "cuda_tag", "trt_code", "pyver", "lib", "list")
CERTAINTIES = ("certain", "likely", "possible")
SEVERITIES = ("error", "warning")
COMPONENTS = ("driver", "cuda", "cudnn", "tensorrt", "other")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MAX_PATTERN = 2000


class CatalogueError(InputError):
    """An explain catalogue file is malformed."""


@dataclass(frozen=True)
class GlobalFact:
    """A fact read from any line of the log (an nvidia-smi header, an ONNX opset line)."""

    name: str
    pattern: re.Pattern[str]
    type: str


@dataclass(frozen=True)
class LibraryFamily:
    """Shared libraries named by a stem (``cudart``, ``cudnn_ops_infer``) and the component shipping them
    (the packages that provide them: the matrix, and envkit.libs.families for the other CUDA libraries)."""

    family: str
    stems: tuple[str, ...]
    component: str
    dll_digits: str  # "major" (nvinfer_10.dll) or "cuda" (cudart64_110.dll: major*10+minor)


@dataclass(frozen=True)
class Entry:
    id: str
    cls: str
    severity: str
    certainty: str
    title: str
    patterns: tuple[re.Pattern[str], ...]
    fact_types: dict[str, str]
    ask: tuple[str, ...]
    cause: tuple[str, ...]
    fix: tuple[tuple[str, ...], ...]
    unless: tuple[str, ...]
    source: tuple[str, ...]
    file: str
    line: int | None


@dataclass
class Catalogue:
    version: str
    files: list[str]
    classes: dict[str, str]
    sources: dict[str, str]
    facts: list[GlobalFact]
    libraries: list[LibraryFamily]
    entries: list[Entry]
    no_cuda_platforms: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def urls(self, keys: tuple[str, ...]) -> list[str]:
        return [self.sources.get(k, k) for k in keys]


def packaged_catalogue() -> Path:
    return Path(__file__).resolve().parent / "catalogue.yaml"


def overlay_paths(project_dir: Path | None, env: dict[str, str] | None = None) -> list[Path]:
    """Team catalogues: <project>/environments/explain.d/*.yaml, then ENVKIT_EXPLAIN_CATALOGUES."""
    paths: list[Path] = []
    if project_dir is not None:
        d = project_dir / "environments" / "explain.d"
        if d.is_dir():
            paths.extend(sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
    extra = (env if env is not None else dict(os.environ)).get("ENVKIT_EXPLAIN_CATALOGUES", "")
    paths.extend(Path(p) for p in extra.split(os.pathsep) if p.strip())
    return paths


def load_catalogue(project_dir: Path | None = None, env: dict[str, str] | None = None,
                   *, base: Path | None = None) -> Catalogue:
    """The shipped catalogue with the team overlays applied; CatalogueError names file, line and key."""
    from envkit.yamlio import load

    cat = _parse(load(base or packaged_catalogue()), None)
    for path in overlay_paths(project_dir, env):
        if not path.is_file():
            raise CatalogueError("no such catalogue file", file=str(path), key="ENVKIT_EXPLAIN_CATALOGUES")
        _parse(load(path), cat)
    _check_references(cat)
    return cat


def loads_catalogue(text: str, file: str = "catalogue.yaml") -> Catalogue:
    from envkit.yamlio import loads

    cat = _parse(loads(text, file), None)
    _check_references(cat)
    return cat


def _parse(doc: Document, into: Catalogue | None) -> Catalogue:
    if not isinstance(doc.data, dict):
        raise CatalogueError("expected a mapping with schema_version and entries", file=doc.file, line=1)
    r = Reader(doc, (), CatalogueError)
    r.expect_mapping(("schema_version", "catalogue_version", "notes", "classes", "sources", "facts", "libraries",
                      "no_cuda_platforms", "entries"), required=("schema_version",) if into is not None else
                     ("schema_version", "catalogue_version", "classes", "sources", "entries"))
    if r.get("schema_version", int, required=True) != SCHEMA_VERSION:
        raise r.fail(f"schema_version must be {SCHEMA_VERSION}", path=("schema_version",))
    cat = into or Catalogue(version="", files=[], classes={}, sources={}, facts=[], libraries=[], entries=[])
    cat.files.append(doc.file)
    if into is None:
        cat.version = r.get("catalogue_version", str, required=True)
    for key, value in (r.get("classes", dict, {}) or {}).items():
        if not isinstance(value, str):
            raise r.fail("a class maps to its description (a string)", path=("classes", key))
        cat.classes[key] = value
    for key, value in (r.get("sources", dict, {}) or {}).items():
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise r.fail("a source maps to a URL", path=("sources", key))
        cat.sources[key] = value
    for fr in r.items("facts"):
        fr.expect_mapping(("name", "pattern", "type"), required=("name", "pattern"))
        name = fr.get("name", str)
        pattern = _compile(fr, "pattern", fr.get("pattern", str))
        if name not in pattern.groupindex:
            raise fr.fail(f"the pattern has no named group (?P<{name}>...)", path=fr.path + ("pattern",))
        cat.facts = [f for f in cat.facts if f.name != name] + [GlobalFact(name, pattern, _fact_type(fr, "type"))]
    cat.no_cuda_platforms.extend(r.str_list("no_cuda_platforms"))
    for lr in r.items("libraries"):
        cat.libraries.append(_library(lr))
    ids = {e.id for e in cat.entries}
    for er in r.items("entries"):
        entry = _entry(er, doc)
        if entry.id in ids:
            if into is None or any(e.id == entry.id and e.file == doc.file for e in cat.entries):
                raise er.fail(f"duplicate entry id {entry.id!r}", path=er.path + ("id",))
            cat.notes.append(f"{doc.file}: entry {entry.id!r} replaces the shipped one")
            cat.entries = [e for e in cat.entries if e.id != entry.id]
        ids.add(entry.id)
        cat.entries.append(entry)
    return cat


def _compile(r: Reader, key: str, text: str) -> re.Pattern[str]:
    if len(text) > _MAX_PATTERN:
        raise r.fail(f"pattern longer than {_MAX_PATTERN} characters", path=r.path + (key,))
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise r.fail(f"not a valid regular expression: {exc}", path=r.path + (key,)) from None
    from envkit.explain.scan import MIN_NEEDLE, needle_of

    if pattern.flags & re.IGNORECASE:
        raise r.fail("(?i) is not supported: spell the cases out ([Cc]uda)", path=r.path + (key,))
    if needle_of(pattern) is None:
        raise r.fail(f"the pattern needs a fixed phrase of {MIN_NEEDLE}+ characters outside groups' alternatives",
                     "big logs are searched for a pattern's literal text first", path=r.path + (key,))
    return pattern


def _fact_type(r: Reader, key: str) -> str:
    kind = r.get(key, str, "text")
    if kind not in FACT_TYPES:
        raise r.fail(f"unknown fact type {kind!r}", did_you_mean(kind, FACT_TYPES) or f"one of {', '.join(FACT_TYPES)}",
                     path=r.path + (key,))
    return str(kind)


def _library(r: Reader) -> LibraryFamily:
    r.expect_mapping(("family", "stems", "component", "dll_digits"), required=("family", "component"))
    component = r.get("component", str)
    if component not in COMPONENTS:
        raise r.fail(f"unknown component {component!r}", f"one of {', '.join(COMPONENTS)}", path=r.path + ("component",))
    digits = r.get("dll_digits", str, "major")
    if digits not in ("major", "cuda"):
        raise r.fail("dll_digits is 'major' or 'cuda'", path=r.path + ("dll_digits",))
    family = r.get("family", str)
    return LibraryFamily(family, tuple(r.str_list("stems") or [family]), component, digits)


def _entry(r: Reader, doc: Document) -> Entry:
    r.expect_mapping(("id", "class", "severity", "certainty", "title", "match", "facts", "ask", "cause", "fix",
                      "unless", "source"), required=("id", "class", "certainty", "title", "match", "cause", "fix",
                                                     "source"))
    entry_id = r.get("id", str)
    if not _ID.match(entry_id):
        raise r.fail("an id is lowercase letters, digits and '-'", path=r.path + ("id",))
    severity = r.get("severity", str, "error")
    if severity not in SEVERITIES:
        raise r.fail(f"severity is one of {', '.join(SEVERITIES)}", path=r.path + ("severity",))
    certainty = r.get("certainty", str)
    if certainty not in CERTAINTIES:
        raise r.fail(f"certainty is one of {', '.join(CERTAINTIES)}", did_you_mean(certainty, CERTAINTIES),
                     path=r.path + ("certainty",))
    patterns = tuple(_compile(r.child("match"), str(i), p) for i, p in enumerate(r.str_list("match", required=True)))
    if not patterns:
        raise r.fail("match needs at least one pattern", path=r.path + ("match",))
    types: dict[str, str] = {}
    for name in r.get("facts", dict, {}) or {}:
        types[name] = _fact_type(r.child("facts"), name)
    groups = {g for p in patterns for g in p.groupindex}
    for name in types:
        if name not in groups:
            raise r.fail(f"fact {name!r} is not a named group of any match pattern", path=r.path + ("facts", name))
    fixes: list[tuple[str, ...]] = []
    raw_fix = r.get("fix", list, required=True)
    for i, item in enumerate(raw_fix):
        alts = [item] if isinstance(item, str) else item
        if not isinstance(alts, list) or not alts or not all(isinstance(a, str) for a in alts):
            raise r.fail("a fix is a template string or a list of alternative templates", path=r.path + ("fix", i))
        for j, a in enumerate(alts):
            _check_template(r, a, r.path + ("fix", i) if isinstance(item, str) else r.path + ("fix", i, j),
                            last=j == len(alts) - 1)
        fixes.append(tuple(alts))
    raw_cause = r.value.get("cause")
    cause = [raw_cause] if isinstance(raw_cause, str) else raw_cause
    if not isinstance(cause, list) or not cause or not all(isinstance(c, str) for c in cause):
        raise r.fail("cause is a template string or a list of alternative templates", path=r.path + ("cause",))
    for j, c in enumerate(cause):
        _check_template(r, c, r.path + ("cause",) if isinstance(raw_cause, str) else r.path + ("cause", j),
                        last=j == len(cause) - 1)
    return Entry(
        id=entry_id, cls=r.get("class", str), severity=severity, certainty=certainty, title=r.get("title", str),
        patterns=patterns, fact_types=types, ask=tuple(r.str_list("ask")), cause=tuple(cause), fix=tuple(fixes),
        unless=tuple(r.str_list("unless")), source=tuple(_str_or_list(r, "source")), file=doc.file,
        line=doc.line(r.path),
    )


def _str_or_list(r: Reader, key: str) -> list[str]:
    value = r.value.get(key)
    if isinstance(value, str):
        return [value]
    return r.str_list(key, required=True)


def template_fields(text: str) -> list[str]:
    """The {placeholders} of a template (``{a}`` -> ["a"])."""
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def _check_template(r: Reader, text: str, path: tuple[str | int, ...], *, last: bool = True) -> None:
    try:
        names = template_fields(text)
    except ValueError as exc:
        raise r.fail(f"bad template: {exc}", "write a literal brace as {{ or }}", path=path) from None
    if not names and not last:
        raise r.fail("an alternative without {facts} always applies, so the ones after it never do",
                     "move it last, or name the fact that makes it apply", path=path)
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise r.fail(f"bad placeholder {{{name}}}: use {{fact_name}}", path=path)


def _check_references(cat: Catalogue) -> None:
    """Classes, sources, questions, `unless` ids and placeholders every entry names must exist."""
    from envkit.explain.questions import CONTEXT_FACTS, QUESTIONS

    ids = {e.id for e in cat.entries}
    global_names = {f.name for f in cat.facts}
    for e in cat.entries:
        where: dict[str, Any] = {"file": e.file, "line": e.line}
        if e.cls not in cat.classes:
            raise CatalogueError(f"unknown class {e.cls!r}", did_you_mean(e.cls, cat.classes), key=f"{e.id}.class",
                                 **where)
        for key in e.source:
            if key not in cat.sources:
                raise CatalogueError(f"unknown source {key!r}", did_you_mean(key, cat.sources), key=f"{e.id}.source",
                                     **where)
        known = set(global_names) | set(CONTEXT_FACTS) | {g for p in e.patterns for g in p.groupindex}
        for q in e.ask:
            if q not in QUESTIONS:
                raise CatalogueError(f"unknown question {q!r}", did_you_mean(q, QUESTIONS) or
                                     f"known: {', '.join(sorted(QUESTIONS))}", key=f"{e.id}.ask", **where)
            known |= set(QUESTIONS[q].answers)
        for other in e.unless:
            if other not in ids:
                raise CatalogueError(f"unknown entry {other!r}", did_you_mean(other, ids), key=f"{e.id}.unless",
                                     **where)
        for text in (*e.cause, *(a for alts in e.fix for a in alts)):
            for name in template_fields(text):
                if name not in known:
                    raise CatalogueError(
                        f"placeholder {{{name}}} is no fact of this entry", did_you_mean(name, known) or
                        "name a group of its patterns, a log-wide fact, a machine/environment fact or a question's answer",
                        key=f"{e.id}", **where)
