"""The compatibility matrix as typed, immutable records, and the questions asked of it.

The schema is described in docs/matrix-schema.md; ``envkit.matrix.load.load_matrix`` reads
and checks matrix.yaml into these records. Nothing here touches the file system. The JSON
form is built by ``envkit.matrix.jsonout``; GPU-name matching lives in ``envkit.matrix.gpus``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from envkit.versions import V, arch_verdict, cc_key, in_any, major

SCHEMA_VERSION = 1
ROUTE_PLATFORMS = ("linux-64", "linux-aarch64", "win-64")
UNSUPPORTED = "unsupported"  # a per-release precision value: the release does not offer it at all


@dataclass(frozen=True)
class Sourced:
    source: tuple[str, ...]
    unconfirmed: str | None
    notes: str | None
    origin: str | None = None  # the file this record came from when it is not the packaged matrix (an overlay)


@dataclass(frozen=True)
class CudaMajor:
    major: int
    minor_compat_min_driver: dict[str, str]  # empty: this major has no minor-version compatibility (CUDA <= 10)
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
    architectures: tuple[str, ...] = ()  # explicit SASS targets of this toolkit (compute capabilities)
    legacy: bool = False  # judged by validate, never proposed by resolve unless a profile pins it

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
    legacy: bool = False


CONFIDENCES = ("confirmed", "unconfirmed", "expected-to-fail")


@dataclass(frozen=True)
class RouteUse:
    """One way to deliver one TensorRT release. ``confidence`` says how sure the matrix is that it installs:
    confirmed (read in a primary source or observed), unconfirmed (plausible, not read), expected-to-fail
    (the evidence says it does not solve); ``reason`` says why, in one sentence. ``platforms`` say where."""

    route: str
    cuda_majors: tuple[int, ...]
    conda: tuple[str, ...]
    pip: tuple[str, ...]
    unconfirmed: str | None = None
    notes: str | None = None
    source: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ("linux-64",)  # where this route delivers the release (real wheel/package tags)
    platforms_by_major: dict[int, tuple[str, ...]] = field(default_factory=dict)  # per CUDA major, when they differ
    confidence: str = "confirmed"
    reason: str = ""

    @property
    def rank(self) -> int:
        """0 for confirmed, 1 for unconfirmed, 2 for expected-to-fail: lower is preferred."""
        return CONFIDENCES.index(self.confidence)

    def platforms_for(self, cuda_major: int) -> tuple[str, ...]:
        return self.platforms_by_major.get(cuda_major, self.platforms)

    def delivers(self, cuda_major: int, platform: str) -> bool:
        return cuda_major in self.cuda_majors and platform in self.platforms_for(cuda_major)


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
    precisions: dict[str, str]  # name -> lowest compute capability, or UNSUPPORTED
    routes: tuple[RouteUse, ...]
    meta: Sourced
    pypi_version: str | None = None  # the version on PyPI when it differs from full_version (10.0.1, 10.7.0.post1)
    architectures: tuple[str, ...] = ()  # explicit compute capabilities this release supports
    other_versions: tuple[str, ...] = ()  # further GA releases of this line (8.5.1.7, 10.13.2.6)
    legacy: bool = False

    @property
    def major(self) -> int:
        return major(self.version)

    @property
    def pip_version(self) -> str:
        return self.pypi_version or self.full_version

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every version string that names a GA release of this line."""
        out = [self.full_version, *self.other_versions]
        if self.pypi_version:
            out.append(self.pypi_version)
        return tuple(out)

    def template_values(self, cuda_version: str | None = None) -> dict[str, str]:
        """Values for the {placeholders} of this release's route strings."""
        out = {"version": self.version, "full_version": self.full_version, "pypi_version": self.pip_version}
        if cuda_version:
            out["cuda_version"] = cuda_version
            out["cuda_major"] = str(major(cuda_version))
        return out

    def arch_verdict(self, cc: str) -> str:
        if self.architectures:
            return arch_verdict(self.architectures, cc)
        k = cc_key(cc)
        if k < cc_key(self.min_compute_capability):
            return "too-old"
        if self.max_compute_capability and k > cc_key(self.max_compute_capability):
            return "too-new"
        return "supported"


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


@dataclass(frozen=True)
class JetPackRelease:
    """One JetPack release: L4T, CUDA, cuDNN and TensorRT fixed together for Jetson modules."""

    version: str
    l4t: str
    cuda: str
    cudnn: str | None
    tensorrt: str
    python: str | None
    compute_capabilities: tuple[str, ...]  # the Jetson GPUs it supports (5.3 Nano ... 8.7 Orin, 11.0 Thor)
    meta: Sourced


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
    jetpack: list[JetPackRelease] = field(default_factory=list)
    overlays: tuple[str, ...] = ()  # overlay files merged into this matrix, in order
    line_files: dict[str, str] = field(default_factory=dict)  # key path -> overlay file, where not `path`

    def file_of(self, key: str) -> str:
        """The file a key path was read from (the packaged matrix or an overlay)."""
        k = key
        while k:
            if k in self.line_files:
                return self.line_files[k]
            if k in self.lines:
                return self.path
            cut = max(k.rfind("."), k.rfind("["))
            if cut <= 0:
                break
            k = k[:cut]
        return self.path

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
        """By line ("10.3"), full version ("10.3.0.26") or any PyPI spelling ("10.13.3.9.post1").

        An exact GA version wins ("10.13.2.6" is the 10.13.3 line); otherwise the newest line
        matching the prefix."""
        want = V(version).release
        newest = sorted(self.tensorrt, key=lambda r: V(r.version), reverse=True)
        for rel in newest:
            if any(V(s).release == want for s in rel.spellings):
                return rel
        for rel in newest:
            line = V(rel.version).release
            if line[: len(want)] == want or any(V(s).release[: len(want)] == want for s in rel.spellings):
                return rel
        return None

    def cudnn_release(self, version: str) -> CudnnRelease | None:
        """By line ("9.1"), full version ("9.1.0.70") or a release of a line ("8.2.1" is the 8.2 line)."""
        want = V(version).release
        newest = sorted(self.cudnn, key=lambda r: V(r.version), reverse=True)
        for rel in newest:
            if V(rel.full_version).release[: len(want)] == want or V(rel.version).release[: len(want)] == want:
                return rel
        for rel in newest:
            line = V(rel.version).release
            if want[: len(line)] == line:
                return rel
        return None

    def ngc_stack(self, tag: str) -> NgcStack | None:
        t = tag.strip()
        for stack in self.ngc:
            if stack.tag in (t, f"{t}-py3"):
                return stack
        return None

    def jetpack_release(self, version: str) -> JetPackRelease | None:
        want = V(version).release
        for jp in sorted(self.jetpack, key=lambda j: V(j.version), reverse=True):
            if V(jp.version).release[: len(want)] == want:
                return jp
        return None

    def jetpack_for_l4t(self, l4t: str) -> JetPackRelease | None:
        """The JetPack of an L4T release ("36.4.3", "R36.4.3"); else the newest JetPack of the same L4T major
        that is not newer than it (L4T 35.4.1 -> JetPack 5.1's stack: same TensorRT, cuDNN, CUDA)."""
        text = l4t.strip().lstrip("Rr")
        try:
            want = V(text)
        except ValueError:
            return None
        exact = [j for j in self.jetpack if V(j.l4t).release == want.release]
        pool = exact or [j for j in self.jetpack if V(j.l4t).release[0] == want.release[0] and V(j.l4t) <= want]
        return max(pool, key=lambda j: V(j.version)) if pool else None

    def jetpacks_for_cc(self, cc: str) -> list[JetPackRelease]:
        """JetPack releases that support a Jetson GPU, newest first."""
        k = cc_key(cc)
        fits = [j for j in self.jetpack if any(cc_key(c) == k for c in j.compute_capabilities)]
        return sorted(fits, key=lambda j: V(j.version), reverse=True)

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
        if rel.architectures:
            return min(rel.architectures, key=cc_key)
        m = self.cuda_majors.get(rel.major)
        return m.min_compute_capability if m else None

    def cuda_arch_verdict(self, rel: CudaRelease, cc: str) -> str:
        """'supported' | 'too-old' | 'too-new' | 'not-listed': does this toolkit build native code for ``cc``?"""
        if rel.architectures:
            return arch_verdict(rel.architectures, cc)
        lo = self.cuda_min_cc(rel)
        if lo and cc_key(cc) < cc_key(lo):
            return "too-old"
        if rel.max_compute_capability and cc_key(cc) > cc_key(rel.max_compute_capability):
            return "too-new"
        return "supported"

    def compute_capability_for(self, gpu_name: str) -> str | None:
        """Compute capability from a GPU name (longest whole-word match; a truncated "..." name only when
        every table entry it could be agrees)."""
        from envkit.matrix.gpus import lookup

        return lookup(self.gpus, gpu_name)

    def precision_floor(self, name: str, trt: TensorRTRelease | None = None) -> str | None:
        if trt is not None and name in trt.precisions and trt.precisions[name] != UNSUPPORTED:
            return trt.precisions[name]
        p = self.precisions.get(name)
        return p.min_compute_capability if p else None

    def precision_unsupported(self, name: str, trt: TensorRTRelease | None) -> bool:
        """True when this TensorRT release does not offer the precision on any GPU."""
        return trt is not None and trt.precisions.get(name) == UNSUPPORTED

    def supports_precision(self, name: str, cc: str, trt: TensorRTRelease | None = None) -> bool | None:
        """True/False when the matrix knows whether GPUs of compute capability ``cc`` run ``name``; None if unknown."""
        if self.precision_unsupported(name, trt):
            return False
        floor = self.precision_floor(name, trt)
        if floor is None:
            return None
        p = self.precisions.get(name)
        if p is not None and any(V(cc) == V(x) for x in p.excluded):
            return False
        return V(cc) >= V(floor)

    def urls(self, keys: tuple[str, ...]) -> list[str]:
        return [self.sources.get(k, k) for k in keys]

    def to_json(self) -> dict[str, Any]:
        from envkit.matrix.jsonout import matrix_to_json

        return matrix_to_json(self)
