"""The compatibility matrix as typed, immutable records, and the questions asked of it.

The schema is described in docs/matrix-schema.md; ``envkit.matrix.load.load_matrix`` reads
and checks matrix.yaml into these records. Nothing here touches the file system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envkit.versions import V, in_any, major

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Sourced:
    source: tuple[str, ...]
    unconfirmed: str | None
    notes: str | None


@dataclass(frozen=True)
class CudaMajor:
    major: int
    minor_compat_min_driver: dict[str, str]
    min_compute_capability: str
    conda_packages: tuple[str, ...]
    pip_packages: tuple[str, ...]
    meta: Sourced


@dataclass(frozen=True)
class CudaRelease:
    version: str
    min_driver: dict[str, str]
    max_compute_capability: str | None
    min_compute_capability: str | None
    meta: Sourced

    @property
    def major(self) -> int:
        return major(self.version)


@dataclass(frozen=True)
class CudnnRelease:
    version: str
    full_version: str
    cuda: tuple[str, ...]
    min_compute_capability: str | None
    max_compute_capability: str | None
    conda: dict[str, str] | None
    pip: dict[str, str]
    meta: Sourced


CONFIDENCES = ("confirmed", "unconfirmed", "expected-to-fail")


@dataclass(frozen=True)
class RouteUse:
    """One way to deliver one TensorRT release. ``confidence`` says how sure the matrix is that it installs:
    confirmed (read in a primary source or observed), unconfirmed (plausible, not read), expected-to-fail
    (the evidence says it does not solve); ``reason`` says why, in one sentence."""

    route: str
    cuda_majors: tuple[int, ...]
    conda: tuple[str, ...]
    pip: tuple[str, ...]
    unconfirmed: str | None = None
    notes: str | None = None
    source: tuple[str, ...] = ()
    confidence: str = "confirmed"
    reason: str = ""

    @property
    def rank(self) -> int:
        """0 for confirmed, 1 for unconfirmed, 2 for expected-to-fail: lower is preferred."""
        return CONFIDENCES.index(self.confidence)


@dataclass(frozen=True)
class TensorRTRelease:
    version: str
    full_version: str
    cuda: tuple[str, ...]
    cudnn_required: bool
    cudnn_versions: tuple[str, ...]
    min_compute_capability: str
    max_compute_capability: str | None
    python: tuple[str, ...]
    precisions: dict[str, str]
    routes: tuple[RouteUse, ...]
    meta: Sourced
    pypi_version: str | None = None  # the version on PyPI when it differs from full_version (10.0.1, 10.7.0.post1)

    @property
    def major(self) -> int:
        return major(self.version)

    @property
    def pip_version(self) -> str:
        return self.pypi_version or self.full_version

    def template_values(self, cuda_version: str | None = None) -> dict[str, str]:
        """Values for the {placeholders} of this release's route strings."""
        out = {"version": self.version, "full_version": self.full_version, "pypi_version": self.pip_version}
        if cuda_version:
            out["cuda_version"] = cuda_version
            out["cuda_major"] = str(major(cuda_version))
        return out


@dataclass(frozen=True)
class Route:
    id: str
    description: str
    conda_channels: tuple[str, ...]
    pip_indexes: tuple[str, ...]
    meta: Sourced


@dataclass(frozen=True)
class Precision:
    name: str
    min_compute_capability: str
    meta: Sourced
    excluded: tuple[str, ...] = ()  # compute capabilities at or above the floor that still lack it (6.1 for fp16)


@dataclass(frozen=True)
class GpuEntry:
    name: str
    aliases: tuple[str, ...]
    compute_capability: str
    meta: Sourced


@dataclass(frozen=True)
class NgcStack:
    tag: str
    tensorrt: str
    cuda: str
    cudnn: str | None
    python: str | None
    min_driver: dict[str, str]
    meta: Sourced
    min_compute_capability: str | None = None


def _norm_gpu(name: str) -> str:
    n = name.lower().replace("nvidia", " ").replace("geforce", " ").replace("tesla", " ")
    return re.sub(r"[^a-z0-9]+", " ", n).strip()


@dataclass
class Matrix:
    schema_version: int
    matrix_version: str
    path: str
    sources: dict[str, str]
    pip_indexes: dict[str, str]
    cuda_majors: dict[int, CudaMajor]
    cuda: list[CudaRelease]
    cudnn: list[CudnnRelease]
    tensorrt: list[TensorRTRelease]
    routes: dict[str, Route]
    precisions: dict[str, Precision]
    gpus: list[GpuEntry]
    ngc: list[NgcStack]
    extra: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key path ("tensorrt[3].cuda[0]") -> line in the file
    pip_index_meta: list[Sourced] = field(default_factory=list)

    def line_of(self, key: str) -> int | None:
        """The line of a key path, or of its nearest ancestor present in the file."""
        k = key
        while k:
            if k in self.lines:
                return self.lines[k]
            cut = max(k.rfind("."), k.rfind("["))
            if cut <= 0:
                break
            k = k[:cut]
        return self.lines.get(k)

    # -- lookups -------------------------------------------------------------------------
    def cuda_release(self, version: str) -> CudaRelease | None:
        want = V(version)
        for rel in self.cuda:
            r = V(rel.version)
            if r == want or r.release[:2] == want.release[:2]:
                return rel
        return None

    def tensorrt_release(self, version: str) -> TensorRTRelease | None:
        """By line ("10.3") or full version ("10.3.0.26"); the newest line matching a prefix."""
        want = V(version).release
        for rel in sorted(self.tensorrt, key=lambda r: V(r.version), reverse=True):
            full = V(rel.full_version).release
            line = V(rel.version).release
            if full[: len(want)] == want or line[: len(want)] == want:
                return rel
        return None

    def cudnn_release(self, version: str) -> CudnnRelease | None:
        want = V(version).release
        for rel in sorted(self.cudnn, key=lambda r: V(r.version), reverse=True):
            if V(rel.full_version).release[: len(want)] == want or V(rel.version).release[: len(want)] == want:
                return rel
        return None

    def ngc_stack(self, tag: str) -> NgcStack | None:
        t = tag.strip()
        for stack in self.ngc:
            if stack.tag in (t, f"{t}-py3"):
                return stack
        return None

    def cuda_versions_for(self, specs: tuple[str, ...]) -> list[CudaRelease]:
        return [c for c in self.cuda if in_any(specs, c.version)]

    def min_driver(self, cuda_version: str, platform: str = "linux") -> str | None:
        rel = self.cuda_release(cuda_version)
        return rel.min_driver.get(platform) if rel else None

    def minor_compat_driver(self, cuda_version: str, platform: str = "linux") -> str | None:
        m = self.cuda_majors.get(major(cuda_version))
        return m.minor_compat_min_driver.get(platform) if m else None

    def cuda_min_cc(self, rel: CudaRelease) -> str | None:
        if rel.min_compute_capability:
            return rel.min_compute_capability
        m = self.cuda_majors.get(rel.major)
        return m.min_compute_capability if m else None

    def compute_capability_for(self, gpu_name: str) -> str | None:
        """Compute capability from a GPU name; the longest matching table entry wins."""
        target = _norm_gpu(gpu_name)
        if not target:
            return None
        best: tuple[int, str] | None = None
        for gpu in self.gpus:
            for cand in (gpu.name, *gpu.aliases):
                c = _norm_gpu(cand)
                if c and (target == c or re.search(rf"(^| ){re.escape(c)}( |$)", target)):
                    score = len(c) + (1000 if target == c else 0)
                    if best is None or score > best[0]:
                        best = (score, gpu.compute_capability)
        return best[1] if best else None

    def precision_floor(self, name: str, trt: TensorRTRelease | None = None) -> str | None:
        if trt is not None and name in trt.precisions:
            return trt.precisions[name]
        p = self.precisions.get(name)
        return p.min_compute_capability if p else None

    def supports_precision(self, name: str, cc: str, trt: TensorRTRelease | None = None) -> bool | None:
        """True/False when the matrix knows whether GPUs of compute capability ``cc`` run ``name``; None if unknown."""
        floor = self.precision_floor(name, trt)
        if floor is None:
            return None
        p = self.precisions.get(name)
        if p is not None and any(V(cc) == V(x) for x in p.excluded):
            return False
        return V(cc) >= V(floor)

    def urls(self, keys: tuple[str, ...]) -> list[str]:
        return [self.sources.get(k, k) for k in keys]

    # -- JSON ------------------------------------------------------------------------------
    def _meta(self, meta: Sourced) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.urls(meta.source)}
        if meta.unconfirmed:
            out["unconfirmed"] = meta.unconfirmed
        if meta.notes:
            out["notes"] = meta.notes
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "envkit.matrix.model/1",
            "schema_version": self.schema_version,
            "matrix_version": self.matrix_version,
            "path": self.path,
            "cuda": [
                {
                    "version": c.version,
                    "min_driver": c.min_driver,
                    "minor_compat_min_driver": (
                        self.cuda_majors[c.major].minor_compat_min_driver if c.major in self.cuda_majors else None
                    ),
                    "min_compute_capability": self.cuda_min_cc(c),
                    "max_compute_capability": c.max_compute_capability,
                    "conda_packages": [
                        p.format(version=c.version) for p in self.cuda_majors[c.major].conda_packages
                    ]
                    if c.major in self.cuda_majors
                    else [],
                    "pip_packages": [p.format(version=c.version) for p in self.cuda_majors[c.major].pip_packages]
                    if c.major in self.cuda_majors
                    else [],
                    **self._meta(c.meta),
                }
                for c in self.cuda
            ],
            "tensorrt": [
                {
                    "version": t.version,
                    "full_version": t.full_version,
                    "cuda": list(t.cuda),
                    "cudnn": {"required": t.cudnn_required, "versions": list(t.cudnn_versions)},
                    "min_compute_capability": t.min_compute_capability,
                    "max_compute_capability": t.max_compute_capability,
                    "pypi_version": t.pip_version,
                    "python": list(t.python),
                    "precisions": t.precisions,
                    "routes": [
                        {
                            "route": r.route,
                            "cuda_majors": list(r.cuda_majors),
                            "conda": list(r.conda),
                            "pip": list(r.pip),
                            "confidence": r.confidence,
                            "reason": r.reason,
                            **({"unconfirmed": r.unconfirmed} if r.unconfirmed else {}),
                            **({"notes": r.notes} if r.notes else {}),
                            **({"source": self.urls(r.source)} if r.source else {}),
                        }
                        for r in t.routes
                    ],
                    **self._meta(t.meta),
                }
                for t in self.tensorrt
            ],
            "cudnn": [
                {
                    "version": d.version,
                    "full_version": d.full_version,
                    "cuda": list(d.cuda),
                    "min_compute_capability": d.min_compute_capability,
                    "max_compute_capability": d.max_compute_capability,
                    "conda": d.conda,
                    "pip": d.pip,
                    **self._meta(d.meta),
                }
                for d in self.cudnn
            ],
            "cuda_majors": [
                {
                    "major": m.major,
                    "minor_compat_min_driver": m.minor_compat_min_driver,
                    "min_compute_capability": m.min_compute_capability,
                    "conda_packages": list(m.conda_packages),
                    "pip_packages": list(m.pip_packages),
                    **self._meta(m.meta),
                }
                for m in self.cuda_majors.values()
            ],
            "routes": [
                {
                    "id": r.id,
                    "description": r.description,
                    "conda_channels": list(r.conda_channels),
                    "pip_indexes": list(r.pip_indexes),
                    **self._meta(r.meta),
                }
                for r in self.routes.values()
            ],
            "pip_indexes": self.pip_indexes,
            "precisions": [
                {
                    "name": p.name,
                    "min_compute_capability": p.min_compute_capability,
                    "excluded": list(p.excluded),
                    **self._meta(p.meta),
                }
                for p in self.precisions.values()
            ],
            "gpus": [
                {
                    "name": g.name,
                    "aliases": list(g.aliases),
                    "compute_capability": g.compute_capability,
                    **self._meta(g.meta),
                }
                for g in self.gpus
            ],
            "ngc": [
                {
                    "tag": n.tag,
                    "tensorrt": n.tensorrt,
                    "cuda": n.cuda,
                    "cudnn": n.cudnn,
                    "python": n.python,
                    "min_driver": n.min_driver,
                    "min_compute_capability": n.min_compute_capability,
                    **self._meta(n.meta),
                }
                for n in self.ngc
            ],
            "sources": self.sources,
        }
