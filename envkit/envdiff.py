"""What changes between two sets of conda packages (``envkit update``), as pixi and conda-lock show it.

``diff_packages(old, new)`` takes ``{name: (version, build)}`` maps and returns the changes sorted by kind
(added, removed, upgraded, downgraded, rebuilt) then name; ``stack_changes(old, new)`` the stack line
("TensorRT 10.3.0.26 -> 11.0.0.1").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("upgraded", "downgraded", "added", "removed", "rebuilt")
STACK_LABELS = {"tensorrt": "TensorRT", "cuda": "CUDA", "cudnn": "cuDNN", "python": "Python"}


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    name: str
    old: str | None  # "version build"
    new: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "old": self.old, "new": self.new}

    def text(self) -> str:
        mark = {"added": "+", "removed": "-", "upgraded": "↑", "downgraded": "↓", "rebuilt": "~"}[self.kind]
        if self.kind == "added":
            return f"{mark} {self.name} {self.new}"
        if self.kind == "removed":
            return f"{mark} {self.name} {self.old}"
        return f"{mark} {self.name} {self.old} -> {self.new}"


def parse_dist(dist: str) -> tuple[str, str, str]:
    """``tensorrt-10.3.0.26-cuda12_0`` -> (name, version, build); versions and builds hold no '-'."""
    name, version, build = dist.rsplit("-", 2)
    return name, version, build


def _newer(a: str, b: str) -> bool | None:
    """b newer than a? None when the versions cannot be compared."""
    from envkit.versions import V

    try:
        return V(b) > V(a)
    except ValueError:
        return None


def diff_packages(old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]]) -> list[Change]:
    out: list[Change] = []
    for name in sorted(set(old) | set(new)):
        o, n = old.get(name), new.get(name)
        if o == n:
            continue
        if o is None:
            out.append(Change("added", name, None, " ".join(n or ())))
        elif n is None:
            out.append(Change("removed", name, " ".join(o), None))
        elif o[0] == n[0]:
            out.append(Change("rebuilt", name, " ".join(o), " ".join(n)))
        else:
            newer = _newer(o[0], n[0])
            kind = "downgraded" if newer is False else "upgraded"
            out.append(Change(kind, name, " ".join(o), " ".join(n)))
    return sorted(out, key=lambda c: (KINDS.index(c.kind), c.name))


def stack_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    old, new = old or {}, new or {}
    out = []
    for key, label in STACK_LABELS.items():
        a, b = old.get(key), new.get(key)
        if a != b:
            out.append(f"{label} {a or 'none'} -> {b or 'none'}")
    return out
