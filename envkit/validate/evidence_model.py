"""The records of ``envkit validate``: a piece of stack evidence, a finding, and the helpers the rules
share. The lowest layer of validate; ``envkit.validate.evidence`` reads the evidence out of a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envkit.envfile import EnvFile, conda_version_match
from envkit.matrix.model import Matrix
from envkit.versions import V

SEVERITIES = ("error", "warning", "info")

# component names
CUDA, CUDNN, TRT, PYTHON = "cuda", "cudnn", "tensorrt", "python"
# "this framework is a CPU build" (pytorch ...=*cpu*, pytorch-mutex=*=cpu)
CPU = "cpu"

# CUDA evidence origins, most authoritative first (the first versioned one is the environment's CUDA)
ORIGIN_RANK = {
    "conda": 0,
    "conda-component": 1,
    "pytorch-cuda": 2,
    "channel-label": 3,
    "pip-runtime": 4,
    "local-tag": 5,
    "build-string": 6,
    "index-url": 7,
    "selector-package": 7,
    "pypi-default": 8,
    "name": 9,
    "pip-suffix": 9,
    "trt-suffix": 10,
    "cudnn-suffix": 11,
}


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | info
    line: int | None
    code: str
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "line": self.line, "code": self.code, "message": self.message,
                "hint": self.hint}


@dataclass(frozen=True)
class Evidence:
    """One statement of the file about a stack component."""

    component: str  # cuda | cudnn | tensorrt | python
    package: str  # the package (or channel) that says it
    source: str  # the text as written, for messages
    line: int | None
    origin: str  # conda | conda-component | pip | pip-runtime | local-tag | build-string | ...
    version: str | None = None  # one version ("11.8", "8.9.7", "10.3.0.26"), None for ranges/unpinned
    spec: str | None = None  # the version constraint as written, None when unpinned
    major: int | None = None  # known even when the version is not (``-cu12``)
    manager: str = "conda"  # conda | pip
    pinned: bool = False  # a single version, or a range with an upper bound

    def admits(self, version: str) -> bool | None:
        """Does this evidence's constraint allow ``version``? None when it cannot tell."""
        if self.version is not None:
            return _prefix_eq(self.version, version)
        if not self.spec:
            return True if self.major is None else _safe_major(version) == self.major
        try:
            if self.manager == "pip":
                return SpecifierSet(self.spec).contains(version, prereleases=True)
            return conda_version_match(self.spec, version)
        except (ValueError, InvalidSpecifier):
            return None



def _safe_major(version: str) -> int | None:
    try:
        return V(version).release[0]
    except ValueError:
        return None


def same_release(a: str, b: str) -> bool:
    """'11.8' vs '11.8.0' -> True (compare on the shorter release); ValueError on junk."""
    ra, rb = V(a).release, V(b).release
    n = min(len(ra), len(rb))
    return ra[:n] == rb[:n]


def _prefix_eq(pinned: str, version: str) -> bool | None:
    """``same_release``, None when either is not a version."""
    try:
        return same_release(pinned, version)
    except ValueError:
        return None


def cu_digits(digits: str) -> str | None:
    """'124' -> '12.4', '118' -> '11.8', '92' -> '9.2' (the ``cuXYZ`` naming convention)."""
    if len(digits) == 3:
        return f"{int(digits[:2])}.{digits[2]}"
    if len(digits) == 2:
        return f"{digits[0]}.{digits[1]}"
    return None


def short(version: str, parts: int = 2) -> str:
    """'10.2.89' -> '10.2'."""
    try:
        rel = V(version).release
    except ValueError:
        return version
    rel = rel + (0,) * (parts - len(rel)) if len(rel) < parts else rel
    return ".".join(str(x) for x in rel[:parts])




def of(evidence: list[Evidence], component: str, origins: Iterable[str] | None = None) -> list[Evidence]:
    wanted = set(origins) if origins is not None else None
    return [e for e in evidence if e.component == component and (wanted is None or e.origin in wanted)]


def primary(evidence: list[Evidence]) -> Evidence | None:
    """The most authoritative evidence carrying a version; else one carrying a major; else any."""
    ranked = sorted(evidence, key=lambda e: (ORIGIN_RANK.get(e.origin, 50), e.line or 10**9))
    for e in ranked:
        if e.version:
            return e
    for e in ranked:
        if e.major is not None:
            return e
    return ranked[0] if ranked else None


def label(e: Evidence) -> str:
    """The evidence as written, saying where an inferred CUDA comes from."""
    if e.origin == "pypi-default":
        return f"{e.source}, a CUDA {e.version or e.major} build on PyPI"
    return e.source


def where(e: Evidence) -> str:
    return f"{label(e)} at line {e.line}" if e.line else label(e)


class _Versioned(Protocol):
    @property
    def version(self) -> str: ...


_Rec = TypeVar("_Rec", bound=_Versioned)


def by_version(records: Iterable[_Rec]) -> list[_Rec]:
    """Matrix records (``.version``) oldest first."""
    return sorted(records, key=lambda rec: V(rec.version))


class RuleContext(Protocol):
    """What the rule modules need from the checker (``envkit.validate.rules_stack.Checker``)."""

    env: EnvFile
    m: Matrix
    ev: list[Evidence]
    findings: list[Finding]

    def add(self, severity: str, line: int | None, code: str, message: str, hint: str | None = None) -> None: ...
