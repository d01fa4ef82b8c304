"""The answer of ``envkit.resolve``: the chosen ``Stack``, the ``Rejected`` candidates with their ``Cause``,
and the ``Resolution`` that holds them (typed data only; the reasoning is in ``envkit.resolve``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envkit.matrix.model import RouteUse
    from envkit.resolve_groups import Group


@dataclass(frozen=True)
class Stack:
    tensorrt: str  # full version, e.g. 10.16.1.11
    tensorrt_line: str  # matrix line, e.g. 10.16
    cuda: str
    cudnn: str | None
    python: str
    route: str
    confidence: str = "confirmed"

    def to_json(self) -> dict[str, Any]:
        return {
            "tensorrt": self.tensorrt,
            "tensorrt_line": self.tensorrt_line,
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "python": self.python,
            "route": self.route,
            "confidence": self.confidence,
        }

    def label(self) -> str:
        cudnn = f", cuDNN {self.cudnn}" if self.cudnn else ""
        return f"TensorRT {self.tensorrt}, CUDA {self.cuda}{cudnn}, Python {self.python}"


@dataclass(frozen=True)
class Cause:
    """Why a candidate fails: ``key`` groups equal causes across candidates; ``unlock`` is the one change
    that removes this cause for this candidate (None when no edit can: new hardware, a missing package)."""

    kind: str  # profile, python, matrix, route, driver, gpu, precision, older
    key: str
    text: str
    unlock: str | None = None


@dataclass
class Rejected:
    candidate: dict[str, Any]
    causes: list[Cause] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [c.text for c in self.causes]

    @property
    def kinds(self) -> set[str]:
        return {c.kind for c in self.causes}

    def add(self, kind: str, key: str, text: str, unlock: str | None = None) -> None:
        self.causes.append(Cause(kind, key, text, unlock))

    def label(self) -> str:
        return f"TensorRT {self.candidate['tensorrt']} with CUDA {self.candidate['cuda']}"

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "reasons": self.reasons, "kinds": sorted(self.kinds),
                "causes": [c.key for c in self.causes]}


@dataclass
class Resolution:
    profile: str
    chosen: Stack | None
    rejected: list[Rejected]
    host_summary: str | None
    verified: bool
    notes: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    closest: Rejected | None = None
    route_use: RouteUse | None = None
    route_why: str = ""  # why this route: "confirmed", "only unconfirmed routes fit", ...
    outside: list[Rejected] = field(default_factory=list)  # candidates outside the profile's pins
    groups: list[Group] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "chosen": self.chosen.to_json() if self.chosen else None,
            "route": ({"id": self.route_use.route, "confidence": self.route_use.confidence,
                       "reason": self.route_use.reason, "why": self.route_why} if self.route_use else None),
            "verified": self.verified,
            "resolved_for": self.host_summary,
            "groups": [g.to_json() for g in self.groups],
            "rejected": [r.to_json() for r in self.rejected],
            "outside_profile": len(self.outside),
            "closest": self.closest.to_json() if self.closest else None,
            "suggestions": self.suggestions,
            "notes": self.notes,
        }
