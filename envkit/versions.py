"""Version helpers shared by the matrix, resolve and validate (packaging under the hood)."""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


@lru_cache(maxsize=4096)
def V(text: str) -> Version:
    """Parse a version string ("12.4", "535.104.05", "8.6"); raises ValueError on junk."""
    try:
        return Version(str(text).strip())
    except InvalidVersion:
        raise ValueError(f"not a version: {text!r}") from None


def is_version(text: str) -> bool:
    try:
        V(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def spec(text: str) -> SpecifierSet:
    """A version range: a PEP 440 specifier set (">=12.0,<12.7") or a plain version, which names every release it
    is a prefix of ("11.8" means ==11.8.*, "10.13.2" takes in 10.13.2.6); a local or post version stays exact."""
    t = str(text).strip()
    if t and (t[0].isdigit()):
        v = V(t)  # validate
        exact = v.is_postrelease or v.is_devrelease or v.is_prerelease or v.local is not None
        return SpecifierSet(f"=={t}" if exact else f"=={t}.*")
    try:
        return SpecifierSet(t)
    except InvalidSpecifier:
        raise ValueError(f"not a version or version range: {text!r}") from None


def in_any(specs: tuple[str, ...] | list[str], version: str) -> bool:
    """True when ``version`` lies in at least one of ``specs``."""
    v = V(version)
    return any(spec(s).contains(v, prereleases=True) for s in specs)


def major(version: str) -> int:
    return V(version).release[0]


def major_minor(version: str) -> str:
    rel = V(version).release
    return f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}"


def sm(cc: str) -> str:
    """Compute capability "9.0" -> "sm90"."""
    rel = V(cc).release
    return f"sm{rel[0]}{rel[1] if len(rel) > 1 else 0}"


def cc_key(cc: str) -> tuple[int, int]:
    """A compute capability as a sort key: '8.6' -> (8, 6); '12.0' sorts above '9.0'. ValueError on anything else."""
    major, _, minor = cc.strip().partition(".")
    return int(major), int(minor or 0)


def arch_verdict(archs: tuple[str, ...], cc: str) -> str:
    """'supported' | 'too-old' (below every listed architecture) | 'too-new' | 'not-listed' (inside the range)."""
    k = cc_key(cc)
    keys = sorted(cc_key(a) for a in archs)
    if k in keys:
        return "supported"
    if k < keys[0]:
        return "too-old"
    if k > keys[-1]:
        return "too-new"
    return "not-listed"
