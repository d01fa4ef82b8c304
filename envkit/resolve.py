"""Resolve: the newest (TensorRT, CUDA, cuDNN, Python) stack a profile allows, the matrix
supports, the configured channels can deliver and the host can run, with a reason in plain
words for every rejected candidate.

Pure reasoning over typed records: no I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.matrix.model import CudaRelease, Matrix, RouteUse, TensorRTRelease
from envkit.versions import V, in_any, spec

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.profile import Profile

PYPI_URL = "https://pypi.org/simple"


@dataclass(frozen=True)
class Stack:
    tensorrt: str  # full version, e.g. 10.16.1.11
    tensorrt_line: str  # matrix line, e.g. 10.16
    cuda: str
    cudnn: str | None
    python: str
    route: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tensorrt": self.tensorrt,
            "tensorrt_line": self.tensorrt_line,
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "python": self.python,
            "route": self.route,
        }

    def label(self) -> str:
        cudnn = f", cuDNN {self.cudnn}" if self.cudnn else ""
        return f"TensorRT {self.tensorrt}, CUDA {self.cuda}{cudnn}, Python {self.python}"


@dataclass
class Rejected:
    candidate: dict[str, Any]
    reasons: list[str]
    kinds: set[str] = field(default_factory=set)  # "profile", "host", "route", "matrix"

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "reasons": self.reasons, "kinds": sorted(self.kinds)}


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

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "chosen": self.chosen.to_json() if self.chosen else None,
            "verified": self.verified,
            "rejected": [r.to_json() for r in self.rejected],
            "closest": self.closest.to_json() if self.closest else None,
            "suggestions": self.suggestions,
            "notes": self.notes,
        }


# -- what the configured sources can deliver --------------------------------------------------

def _source_names(items: tuple[str, ...], known: dict[str, str]) -> set[str]:
    """Names of channels/indexes; URLs count as the name of their last path part or a known URL."""
    names: set[str] = set()
    for item in items:
        text = item.rstrip("/")
        names.add(text)
        for name, url in known.items():
            if text == url.rstrip("/"):
                names.add(name)
        if "://" in text:
            names.add(text.rsplit("/", 1)[-1])
    return names


def usable_route(
    trt: TensorRTRelease, cuda_major: int, matrix: Matrix, channels: tuple[str, ...], pip_indexes: tuple[str, ...]
) -> tuple[RouteUse | None, list[str]]:
    """The first route of this release that serves this CUDA major from the configured sources."""
    have_channels = _source_names(channels, {})
    have_indexes = _source_names(pip_indexes, matrix.pip_indexes)
    misses: list[str] = []
    for use in trt.routes:
        if cuda_major not in use.cuda_majors:
            continue
        route = matrix.routes.get(use.route)
        if route is None:
            continue
        lacking = [f"channel '{c}'" for c in route.conda_channels if c not in have_channels]
        lacking += [
            f"pip index '{i}' ({matrix.pip_indexes.get(i, '?')})" for i in route.pip_indexes if i not in have_indexes
        ]
        if not lacking:
            return use, []
        misses.append(f"{use.route} needs {', '.join(lacking)}")
    if not misses:
        misses.append(f"no route in the matrix ships TensorRT {trt.full_version} for CUDA {cuda_major}")
    return None, misses


# -- the host -----------------------------------------------------------------------------------

def _driver_reasons(host: HostInfo, cuda: CudaRelease, matrix: Matrix) -> list[str]:
    reasons: list[str] = []
    need = cuda.min_driver.get("linux")
    if host.driver_version and need:
        try:
            too_old = V(host.driver_version) < V(need)
        except ValueError:
            too_old = False
        if too_old:
            compat = matrix.minor_compat_driver(cuda.version)
            extra = ""
            if compat and V(host.driver_version) >= V(compat):
                extra = f" (minor-version compatibility from {compat} allows only limited use; envkit requires full support)"
            reasons.append(f"CUDA {cuda.version} needs driver >= {need}; this host has {host.driver_version}{extra}")
    eff = host.effective_cuda()
    if eff and not reasons:
        try:
            if V(eff).release[:2] < V(cuda.version).release[:2]:
                what = "CONDA_OVERRIDE_CUDA" if host.conda_override_cuda else "the driver"
                reasons.append(f"CUDA {cuda.version} is newer than the CUDA {eff} that {what} supports")
        except ValueError:
            pass
    return reasons


def _gpu_reasons(host: HostInfo, trt: TensorRTRelease, cuda: CudaRelease, matrix: Matrix) -> list[str]:
    reasons: list[str] = []
    for gpu in host.gpus:
        cc = gpu.compute_capability
        if not cc:
            continue
        label = f"GPU {gpu.index} {gpu.name} (compute capability {cc})"
        if V(cc) < V(trt.min_compute_capability):
            reasons.append(f"TensorRT {trt.version} needs compute capability >= {trt.min_compute_capability}; {label}")
        elif trt.max_compute_capability and V(cc) > V(trt.max_compute_capability):
            reasons.append(
                f"TensorRT {trt.version} supports compute capability <= {trt.max_compute_capability}; {label} is newer"
            )
        cuda_min = matrix.cuda_min_cc(cuda)
        if cuda_min and V(cc) < V(cuda_min):
            reasons.append(f"CUDA {cuda.version} dropped compute capability < {cuda_min}; {label}")
        elif cuda.max_compute_capability and V(cc) > V(cuda.max_compute_capability):
            reasons.append(
                f"CUDA {cuda.version} cannot build for compute capability {cc} (newest: {cuda.max_compute_capability}); "
                f"{label}"
            )
    return reasons


def _precision_reasons(prof: Profile, host: HostInfo | None, trt: TensorRTRelease, matrix: Matrix) -> list[str]:
    if host is None:
        return []
    low = host.min_compute_capability()
    if not low:
        return []
    reasons = []
    for name in prof.precisions:
        floor = matrix.precision_floor(name, trt)
        if floor and V(low) < V(floor):
            reasons.append(f"{name.upper()} needs compute capability >= {floor}; this host has a GPU with {low}")
    return reasons


# -- the search -----------------------------------------------------------------------------------

def _pick_python(prof: Profile, trt: TensorRTRelease, pinned: str | None) -> str | None:
    allowed = [p for p in trt.python if (pinned is None or V(p).release[:2] == V(pinned).release[:2])]
    if prof.python:
        allowed = [p for p in allowed if in_any((prof.python,), p)]
    return max(allowed, key=V) if allowed else None


def _pick_cudnn(prof: Profile, trt: TensorRTRelease, cuda: CudaRelease, matrix: Matrix, pinned: str | None) -> tuple[
    str | None, str | None
]:
    """(cudnn full version or None, reason when a needed cuDNN is missing)."""
    need = trt.cudnn_required or prof.cudnn_required or pinned is not None
    if not need:
        return None, None
    options = []
    for rel in matrix.cudnn:
        if not in_any(rel.cuda, cuda.version):
            continue
        if trt.cudnn_required and trt.cudnn_versions and not in_any(trt.cudnn_versions, rel.version):
            continue
        if prof.cudnn and prof.cudnn != "required" and not in_any((prof.cudnn,), rel.version):
            continue
        if pinned and V(pinned).release[:2] != V(rel.version).release[:2]:
            continue
        options.append(rel)
    if not options:
        wanted = f"cuDNN {prof.cudnn}" if prof.cudnn and prof.cudnn != "required" else "cuDNN"
        if trt.cudnn_required:
            wanted += f" of TensorRT {trt.version}'s tested versions ({', '.join(trt.cudnn_versions)})"
        return None, f"no {wanted} is built for CUDA {cuda.version}"
    best = max(options, key=lambda r: V(r.version))
    return best.full_version, None


def resolve_profile(prof: Profile, matrix: Matrix, host: HostInfo | None) -> Resolution:
    notes: list[str] = []
    ngc = None
    if prof.ngc:
        ngc = matrix.ngc_stack(prof.ngc)
        if ngc is None:
            from envkit.errors import ProfileError
            from envkit.yamlio import did_you_mean

            raise ProfileError(
                f"unknown NGC tag {prof.ngc!r}",
                did_you_mean(prof.ngc, [n.tag for n in matrix.ngc]) or "see `envkit matrix --json` (ngc)",
                file=prof.path,
                line=prof.lines.get("ngc"),
                key="ngc",
            )
        notes.append(f"pinned to NGC {ngc.tag}: TensorRT {ngc.tensorrt}, CUDA {ngc.cuda}")
    rejected: list[Rejected] = []
    chosen: Stack | None = None
    chosen_use: RouteUse | None = None
    for trt in sorted(matrix.tensorrt, key=lambda t: V(t.full_version), reverse=True):
        for cuda in sorted(matrix.cuda_versions_for(trt.cuda), key=lambda c: V(c.version), reverse=True):
            cand = {"tensorrt": trt.full_version, "cuda": cuda.version}
            rej = Rejected(cand, [])
            if ngc is not None:
                if V(trt.full_version).release[:2] != V(ngc.tensorrt).release[:2]:
                    rej.reasons.append(f"NGC {ngc.tag} ships TensorRT {ngc.tensorrt}")
                    rej.kinds.add("profile")
                if V(cuda.version).release[:2] != V(ngc.cuda).release[:2]:
                    rej.reasons.append(f"NGC {ngc.tag} ships CUDA {ngc.cuda}")
                    rej.kinds.add("profile")
            if prof.tensorrt and not in_any((prof.tensorrt,), trt.full_version):
                rej.reasons.append(f"the profile allows TensorRT {prof.tensorrt}")
                rej.kinds.add("profile")
            if prof.cuda and not in_any((prof.cuda,), cuda.version):
                rej.reasons.append(f"the profile allows CUDA {prof.cuda}")
                rej.kinds.add("profile")
            python = _pick_python(prof, trt, ngc.python if ngc else None)
            if python is None:
                rej.reasons.append(
                    f"TensorRT {trt.version} wheels exist for Python {', '.join(trt.python)}; "
                    f"the profile allows {prof.python or 'any'}"
                )
                rej.kinds.add("profile")
            cudnn, cudnn_miss = _pick_cudnn(prof, trt, cuda, matrix, ngc.cudnn if ngc else None)
            if cudnn_miss:
                rej.reasons.append(cudnn_miss)
                rej.kinds.add("matrix")
            use, route_miss = usable_route(trt, cuda.major, matrix, prof.channels, prof.pip_indexes)
            if use is None:
                rej.reasons.append("no delivery route: " + "; ".join(route_miss))
                rej.kinds.add("route")
            if host is not None:
                dr = _driver_reasons(host, cuda, matrix)
                gr = _gpu_reasons(host, trt, cuda, matrix) + _precision_reasons(prof, host, trt, matrix)
                if dr:
                    rej.reasons.extend(dr)
                    rej.kinds.add("driver")
                if gr:
                    rej.reasons.extend(gr)
                    rej.kinds.add("gpu")
            if rej.reasons or chosen is not None:
                if not rej.reasons:
                    rej.reasons.append(f"older than the chosen {chosen.label() if chosen else ''}".rstrip())
                    rej.kinds.add("older")
                rejected.append(rej)
                continue
            assert python is not None and use is not None
            chosen = Stack(trt.full_version, trt.version, cuda.version, cudnn, python, use.route)
            chosen_use = use
    res = Resolution(
        profile=prof.name,
        chosen=chosen,
        rejected=rejected,
        host_summary=host.summary() if host is not None else None,
        verified=host is not None and host.format != "envkit-targets",
        notes=notes,
        route_use=chosen_use,
    )
    if chosen_use is not None and getattr(chosen_use, "unconfirmed", None):
        notes.append(f"delivery route {chosen_use.route} is unconfirmed: {chosen_use.unconfirmed}")
    if host is None:
        notes.append("no host facts (no GPU here and no --host): resolved for any driver; the result is unverified")
    if chosen is None:
        _explain_failure(res, prof, matrix, host)
    return res


def _driver_needed(matrix: Matrix, r: Rejected) -> str | None:
    rel = matrix.cuda_release(r.candidate["cuda"])
    return rel.min_driver.get("linux") if rel else None


_EFFORT = {"profile": 1, "driver": 2, "route": 2, "gpu": 5, "matrix": 5}


def _or(res: Resolution) -> str:
    return "or " if res.suggestions else ""


def _label(r: Rejected) -> str:
    return f"TensorRT {r.candidate['tensorrt']} with CUDA {r.candidate['cuda']}"


def _explain_failure(res: Resolution, prof: Profile, matrix: Matrix, host: HostInfo | None) -> None:
    """Pick the closest miss and say what to change, from the candidates that fail for one kind of reason."""
    if not res.rejected:
        return
    by_kinds: dict[frozenset[str], list[Rejected]] = {}
    for r in res.rejected:  # newest first
        by_kinds.setdefault(frozenset(r.kinds), []).append(r)
    driver_only = by_kinds.get(frozenset({"driver"}), [])
    if driver_only and host is not None and host.driver_version:
        newest = driver_only[0]
        cheapest = min(driver_only, key=lambda r: V(_driver_needed(matrix, r) or "0"))
        need = _driver_needed(matrix, cheapest)
        text = f"upgrade the driver to >= {need} (enables {_label(cheapest)})"
        if newest is not cheapest:
            text += f"; >= {_driver_needed(matrix, newest)} for the newest, {_label(newest)}"
        res.suggestions.append(text)
    profile_only = by_kinds.get(frozenset({"profile"}), [])
    if profile_only:
        trt = matrix.tensorrt_release(profile_only[0].candidate["tensorrt"])
        line = trt.version if trt else profile_only[0].candidate["tensorrt"]
        res.suggestions.append(
            f"{_or(res)}allow TensorRT {line} / CUDA {profile_only[0].candidate['cuda']} in {prof.path} "
            "(it runs on this host)"
        )
    profile_driver = by_kinds.get(frozenset({"profile", "driver"}), [])
    if profile_driver and not profile_only and host is not None:
        r = profile_driver[0]
        trt = matrix.tensorrt_release(r.candidate["tensorrt"])
        res.suggestions.append(
            f"{_or(res)}allow TensorRT {trt.version if trt else r.candidate['tensorrt']} in {prof.path} and upgrade the "
            f"driver to >= {_driver_needed(matrix, r)} ({_label(r)} supports this GPU)"
        )
    route_only = by_kinds.get(frozenset({"route"}), [])
    if route_only:
        reason = next((x for x in route_only[0].reasons if x.startswith("no delivery route")), "")
        res.suggestions.append(f"{_or(res)}make a delivery route available for {_label(route_only[0])}: {reason}")
    if not driver_only and not profile_only and any("gpu" in r.kinds for r in res.rejected) and host is not None:
        low = host.min_compute_capability()
        fits = [t.version for t in matrix.tensorrt
                if low and V(t.min_compute_capability) <= V(low)
                and (not t.max_compute_capability or V(low) <= V(t.max_compute_capability))]
        if fits:
            res.suggestions.append(
                f"this GPU (compute capability {low}) is outside what the profile's TensorRT supports; "
                f"TensorRT {', '.join(fits)} support it"
            )
    # the closest miss: the newest candidate that is cheapest to fix (a profile edit < a driver or channel
    # change < new hardware or a missing package)
    res.closest = min(res.rejected, key=lambda r: sum(_EFFORT.get(k, 3) for k in r.kinds))
    if not res.suggestions:
        res.suggestions.append(f"see why each candidate was rejected: envkit resolve {prof.name} --json")


def ranges_ok(text: str) -> bool:
    try:
        spec(text)
    except ValueError:
        return False
    return True
