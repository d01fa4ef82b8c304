"""Engine data types: ``VirtualPackage`` and ``Target`` (what to solve for), ``Record`` (a solved package), ``InstallStats``, ``Reporter``.

No rattler import here: ``Record.from_rattler`` only reads attributes of the object it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class VirtualPackage:
    """A conda virtual package (``__cuda=12.4=0``): what the solve assumes about the machine."""

    name: str
    version: str
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    @classmethod
    def parse(cls, text: str) -> VirtualPackage:
        """``"__name=version=build"`` (as a lock file stores it)."""
        name, _, rest = text.partition("=")
        version, _, build = rest.partition("=")
        return cls(name, version or "0", build or "0")


@dataclass(frozen=True)
class Target:
    """What a solve is for: a conda platform and the machine's virtual packages."""

    platform: str
    virtual_packages: tuple[VirtualPackage, ...]

    @classmethod
    def parse(cls, platform: str, virtual_packages: Iterable[str]) -> Target:
        return cls(platform, tuple(VirtualPackage.parse(v) for v in virtual_packages))

    def virtual(self, name: str) -> str | None:
        """The version of virtual package ``name`` (``"__cuda"``), or None."""
        return next((vp.version for vp in self.virtual_packages if vp.name == name), None)

    def strings(self) -> list[str]:
        return [str(vp) for vp in self.virtual_packages]

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "virtual_packages": self.strings()}

    def summary(self) -> str:
        return " ".join([self.platform, *self.strings()])


@dataclass(frozen=True)
class Record:
    name: str
    version: str
    build: str
    url: str
    sha256: str | None
    md5: str | None
    channel: str | None
    subdir: str
    file_name: str
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    size: int | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_rattler(cls, r: Any) -> Record:
        return cls(
            name=r.name.normalized,
            version=str(r.version),
            build=r.build,
            url=str(r.url),
            sha256=r.sha256.hex() if r.sha256 else None,
            md5=r.md5.hex() if r.md5 else None,
            channel=str(r.channel) if r.channel else None,
            subdir=r.subdir,
            file_name=r.file_name,
            depends=tuple(r.depends),
            constrains=tuple(r.constrains),
            size=r.size,
            raw=r,
        )

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


@dataclass
class InstallStats:
    seconds: float = 0.0
    operations: int = 0
    linked: int = 0
    unlinked: int = 0
    downloaded: int = 0
    post_link_failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "operations": self.operations,
            "linked": self.linked,
            "unlinked": self.unlinked,
            "downloaded": self.downloaded,
            "post_link_failures": self.post_link_failures,
        }


class Reporter(Protocol):
    """What envkit's core tells a progress display (the CLI passes one in, or None for no display)."""

    def step(self, name: str, detail: str = "") -> None: ...

    def progress(self, kind: str, done: int, total: int | None, label: str = "") -> None: ...


# How rattler's error texts say "the server could not be reached" / "the file is not there"
# (shared by the solve's and the install's error translation).
_UNREACHABLE = ("connection refused", "error sending request", "dns error", "dns ", "timed out")


def says_unreachable(low: str) -> bool:
    return any(x in low for x in _UNREACHABLE)


def says_not_found(low: str) -> bool:
    return "404" in low or "not found" in low
