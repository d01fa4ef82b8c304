"""Read any conda environment file (ours or not) into typed records with line numbers.

Handles the spec forms found in real projects: ``python=3.9``, ``python==3.7``,
``python >= 3.8``, ``cudatoolkit=10.2.89=hfd86e86_1``, ``pytorch::pytorch=2.0.0``,
``onnxruntime=1.22=*cuda``, ``tensorrt[version='>=10']``, ``numpy<1.23``, and a ``pip:``
section with requirements, options (``--extra-index-url``) and URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from envkit.errors import EnvFileError
from envkit.versions import V
from envkit.yamlio import Document, Reader, load, loads

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_BRACKET = re.compile(r"\[(?P<body>[^\]]*)\]\s*$")
_OPS = ("==", ">=", "<=", "!=", "~=", ">", "<", "=")
# micromamba's per-platform entries in environment files: `- sel(linux): cudatoolkit=11.8`
_SELECTOR = re.compile(r"sel\((.+)\)")
LINUX_SELECTORS = ("linux", "unix", "linux64", "linux-64")
ENV_KEYS = ("name", "channels", "dependencies", "prefix", "variables", "platforms", "category")


@dataclass(frozen=True)
class CondaDep:
    """One conda dependency line."""

    raw: str
    name: str
    version: str | None  # conda version spec as written ("3.9", "==3.7", ">=3.8", "1.22", ">=10")
    build: str | None
    channel: str | None
    line: int | None
    selector: str | None = None  # micromamba's `- sel(linux): spec` selector, as written ("linux")

    @property
    def exact_or_prefix(self) -> str | None:
        """The version this spec pins to a single release line, or None for ranges/unpinned.

        ``=11.8`` / ``11.8`` / ``11.8.*`` / ``==11.8.0`` -> "11.8" / "11.8" / "11.8" / "11.8.0".
        """
        v = self.version
        if not v:
            return None
        v = v.strip()
        if any(c in v for c in ",|<>!~") or " " in v:
            return None
        v = v.lstrip("=")
        v = v[:-2] if v.endswith(".*") else v
        if v.endswith("*"):
            v = v.rstrip("*").rstrip(".")
        try:
            V(v)
        except ValueError:
            return None
        return v

    def allows(self, version: str) -> bool | None:
        """Does this spec admit ``version``? None when the spec cannot be interpreted."""
        if not self.version:
            return True
        try:
            return conda_version_match(self.version, version)
        except ValueError:
            return None


@dataclass(frozen=True)
class PipDep:
    """One entry of the pip: section."""

    raw: str
    name: str | None  # normalized project name, None for options and bare URLs
    specifier: str  # "==10.3.0", ">=1.0", "" when unpinned
    local: str | None  # "+cu121" style local version label of an == pin
    option: str | None  # "--extra-index-url URL" and friends
    line: int | None

    @property
    def pinned_version(self) -> str | None:
        m = re.fullmatch(r"===?\s*([^,;\s]+)", self.specifier.strip())
        if not m:
            return None
        return m.group(1).split("+")[0]


@dataclass
class EnvFile:
    path: str
    name: str | None
    channels: list[str]
    channel_lines: list[int | None]
    conda: list[CondaDep]
    pip: list[PipDep]
    prefix: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    doc: Document | None = None
    # (line, spec as written, why) for specs a lenient read could not interpret
    unparsed: list[tuple[int | None, str, str]] = field(default_factory=list)
    # a lenient read keeps going past what conda only warns about: (key, line) of unknown top-level keys
    unknown_keys: list[tuple[str, int | None]] = field(default_factory=list)
    # (line, selector, spec) of `- sel(osx): spec` entries that do not apply on Linux (left out of conda)
    skipped_selectors: list[tuple[int | None, str, str]] = field(default_factory=list)

    def find(self, *names: str) -> list[CondaDep]:
        wanted = {n.lower() for n in names}
        return [d for d in self.conda if d.name.lower() in wanted]

    def find_pip(self, *names: str) -> list[PipDep]:
        wanted = {normalize(n) for n in names}
        return [d for d in self.pip if d.name and d.name in wanted]

    def pip_options(self) -> list[PipDep]:
        return [d for d in self.pip if d.option]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_conda_spec(raw: str, line: int | None = None) -> CondaDep:
    """Parse one conda match spec as written in an environment file."""
    text = raw.strip()
    channel = None
    if "::" in text:
        channel, text = text.split("::", 1)
        channel = channel.strip()
    bracket_version = None
    m = _BRACKET.search(text)
    if m:
        for part in re.split(r",\s*(?=\w+\s*=)", m.group("body")):
            if "=" in part:
                key, _, val = part.partition("=")
                if key.strip() == "version":
                    bracket_version = val.strip().strip("'\"")
        text = text[: m.start()].strip()
    nm = re.match(rf"\s*({_NAME})\s*(.*)$", text)
    if not nm:
        raise ValueError(f"not a conda package spec: {raw!r}")
    name, rest = nm.group(1), nm.group(2).strip()
    version: str | None = None
    build: str | None = None
    if rest:
        if rest.startswith("=") and not rest.startswith("=="):
            parts = rest[1:].split("=")
            version = parts[0].strip() or None
            build = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
        elif rest[0] in "=<>!~" or rest[0].isdigit() or rest[0] == "*":
            # "python >= 3.8", ">=8, <8.2": glue operators and commas to their versions first
            rest = re.sub(r"(==|>=|<=|!=|~=|>|<|=)\s+", r"\1", rest)
            rest = re.sub(r"\s*([,|])\s*", r"\1", rest)
            pieces = rest.split()
            if len(pieces) >= 2 and not any(pieces[1].startswith(o) for o in ("<", ">", "=", "!", ",", "|")):
                version, build = pieces[0], pieces[1]
            else:
                version = rest.replace(" ", "")
            if version and version.startswith("==") and version.count("=") > 2:
                # "==1.0=build"
                body = version[2:]
                version, _, build = body.partition("=")
                version = "==" + version
        else:
            raise ValueError(f"cannot read the version part {rest!r} of {raw!r}")
        if version is not None and ("===" in version or re.fullmatch(r"[=<>!~,|]*", version)):
            raise ValueError(f"unable to parse the version spec {version!r} of {raw!r}")
    if bracket_version:
        version = bracket_version
    return CondaDep(raw=raw, name=name, version=version, build=build, channel=channel, line=line)


def _glob_match(pattern: str, version: str) -> bool:
    if pattern.endswith(".*"):
        pattern = pattern[:-2]
    elif pattern.endswith("*"):
        pattern = pattern[:-1].rstrip(".")
    want = V(pattern).release
    have = V(version).release
    return have[: len(want)] == want


def conda_version_match(spec_text: str, version: str) -> bool:
    """Conda version-spec semantics: ``|`` (or), ``,`` (and), operators, globs, ``=X`` prefix."""
    s = spec_text.replace(" ", "")
    return any(all(_match_one(term, version) for term in alt.split(",") if term) for alt in s.split("|"))


def _match_one(term: str, version: str) -> bool:
    if term in ("*", ""):
        return True
    for op in _OPS:
        if term.startswith(op):
            target = term[len(op) :]
            break
    else:
        op, target = "", term
    if op in ("", "=") or (op == "==" and "*" in target):
        return _glob_match(target, version) if op != "==" or "*" in target else V(version) == V(target)
    if op == "==":
        return V(version) == V(target)
    if "*" in target:
        target = target.rstrip("*").rstrip(".")
    v, t = V(version), V(target)
    return {
        ">=": v >= t,
        "<=": v <= t,
        ">": v > t,
        "<": v < t,
        "!=": v != t,
        "~=": v >= t and v.release[: max(1, len(t.release) - 1)] == t.release[: max(1, len(t.release) - 1)],
    }[op]


def parse_pip_line(raw: str, line: int | None = None) -> PipDep:
    text = raw.strip()
    if text.startswith("-"):
        return PipDep(raw=raw, name=None, specifier="", local=None, option=text, line=line)
    if text.startswith((".", "/", "~")) or (re.match(r"^[A-Za-z]:[\\/]", text) is not None):
        # a local path (pip install ./pkg): a requirement without a project name
        return PipDep(raw=raw, name=None, specifier="", local=None, option=None, line=line)
    if "://" in text and "@" not in text.split("://")[0]:
        egg = re.search(r"#egg=([A-Za-z0-9_.\-]+)", text)
        return PipDep(raw=raw, name=normalize(egg.group(1)) if egg else None, specifier="", local=None, option=None, line=line)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(f"not a pip requirement: {raw!r} ({str(exc).splitlines()[0]})") from None
    spec = str(req.specifier)
    local = None
    for s in req.specifier:
        if s.operator in ("==", "===") and "+" in s.version:
            local = "+" + s.version.split("+", 1)[1]
    return PipDep(raw=raw, name=normalize(req.name), specifier=spec, local=local, option=None, line=line)


def read_env_file(path: Path | str, *, lenient: bool = False) -> EnvFile:
    """Read an environment file. ``lenient``: a spec string that cannot be interpreted is kept in
    ``EnvFile.unparsed`` instead of failing (the structure must still be right)."""
    return _from_doc(load(path), lenient)


def parse_env_text(text: str, file: str = "<string>", *, lenient: bool = False) -> EnvFile:
    return _from_doc(loads(text, file), lenient)


def _from_doc(doc: Document, lenient: bool = False) -> EnvFile:
    if doc.data is None:
        raise EnvFileError("the file is empty; expected a conda environment (name, channels, dependencies)", file=doc.file)
    if not isinstance(doc.data, dict):
        raise EnvFileError("expected a mapping with 'dependencies:' at the top level", file=doc.file, line=1)
    r = Reader(doc, (), EnvFileError)
    unknown = [(str(k), doc.line((k,))) for k in doc.data if k not in ENV_KEYS]
    if not lenient or not unknown:
        r.expect_mapping(ENV_KEYS)
    name = r.get("name", str)
    prefix = r.get("prefix", str)
    channels = r.str_list("channels")
    channel_lines = [doc.line(("channels", i)) for i in range(len(channels))]
    # "dependencies:" with nothing under it is an empty list, not an error
    deps = [] if doc.data.get("dependencies", 0) is None else r.get("dependencies", list, [])
    conda: list[CondaDep] = []
    pip: list[PipDep] = []
    unparsed: list[tuple[int | None, str, str]] = []
    skipped: list[tuple[int | None, str, str]] = []
    for i, item in enumerate(deps):
        path = ("dependencies", i)
        line = doc.line(path)
        selector = None
        if isinstance(item, dict) and len(item) == 1 and _SELECTOR.fullmatch(str(next(iter(item)))):
            key = str(next(iter(item)))
            selector = _SELECTOR.fullmatch(key).group(1).strip()  # type: ignore[union-attr]
            item = item[key]
            if selector not in LINUX_SELECTORS:
                skipped.append((line, selector, str(item)))
                continue
        if isinstance(item, dict):
            if set(item) != {"pip"}:
                raise r.fail(
                    f"expected a package spec or a 'pip:' list, got a mapping with {sorted(item)}",
                    "only 'pip' may nest under dependencies",
                    path,
                )
            entries = item["pip"] or []
            if not isinstance(entries, list):
                raise r.fail("expected a list of pip requirements", path=(*path, "pip"))
            for j, entry in enumerate(entries):
                pline = doc.line((*path, "pip", j))
                if not isinstance(entry, str):
                    raise r.fail(f"expected a pip requirement string, got {entry!r}", path=(*path, "pip", j))
                try:
                    pip.append(parse_pip_line(entry, pline))
                except ValueError as exc:
                    if lenient:
                        unparsed.append((pline, entry, str(exc)))
                        continue
                    raise r.fail(str(exc), path=(*path, "pip", j)) from None
            continue
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            raise r.fail(f"expected a package spec string, got the number {item!r}", path=path)
        if not isinstance(item, str):
            raise r.fail(f"expected a package spec string, got {item!r}", path=path)
        try:
            dep = parse_conda_spec(item, line)
            conda.append(replace(dep, selector=selector) if selector else dep)
        except ValueError as exc:
            if lenient:
                unparsed.append((line, item, str(exc)))
                continue
            raise r.fail(str(exc), "conda specs look like 'name', 'name=1.2', 'name>=1.2', 'channel::name=1.2'", path) from None
    variables: dict[str, Any] = r.get("variables", dict, {})
    return EnvFile(
        path=doc.file,
        name=name,
        channels=channels,
        channel_lines=channel_lines,
        conda=conda,
        pip=pip,
        prefix=prefix,
        variables={str(k): str(v) for k, v in variables.items()},
        doc=doc,
        unparsed=unparsed,
        unknown_keys=unknown,
        skipped_selectors=skipped,
    )
