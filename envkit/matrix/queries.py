"""One-line answers to the questions people ask the matrix (``envkit matrix --gpu/--trt/--cuda/--driver``).

Each function returns an ``Answer``: the line to print and the same facts as data for ``--json``.
Pure functions of the matrix; an unknown name raises ``InputError`` with a did-you-mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from envkit.errors import InputError
from envkit.matrix.model import Matrix, TensorRTRelease
from envkit.versions import V, cc_key, major
from envkit.yamlio import did_you_mean


@dataclass
class Answer:
    question: str
    line: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.line, **self.data}


def _span(versions: list[str]) -> str:
    """["10.8", "10.9", ..., "11.4"] -> "10.8 ... 11.4" (or the one version)."""
    if not versions:
        return "none"
    return versions[0] if len(versions) == 1 else f"{versions[0]} … {versions[-1]}"


def _current(m: Matrix) -> list[TensorRTRelease]:
    return sorted((t for t in m.tensorrt if not t.legacy), key=lambda t: V(t.version))


def gpu(m: Matrix, name: str) -> Answer:
    cc = m.compute_capability_for(name)
    if cc is None:
        names = [g.name for g in m.gpus] + [a for g in m.gpus for a in g.aliases]
        raise InputError(f"no GPU named {name!r} in the matrix (or a truncated name that fits several)",
                         did_you_mean(name, names) or "try the full name nvidia-smi -L prints")
    trts = [t.version for t in _current(m) if t.arch_verdict(cc) == "supported"]
    cudas = [c.version for c in m.cuda if m.cuda_arch_verdict(c, cc) == "supported"]
    precisions = [p for p in m.precisions if m.supports_precision(p, cc)]
    jps = [j.version for j in m.jetpacks_for_cc(cc)]
    parts = [f"{name}: compute capability {cc}",
             f"TensorRT {_span(trts)}" if trts else "no current TensorRT release supports it",
             f"CUDA {_span(cudas)}" if cudas else "no CUDA release in the matrix builds for it"]
    if precisions:
        parts.append("precisions " + ", ".join(precisions))
    if jps:
        parts.append(f"JetPack {_span(sorted(jps, key=V))}")
    return Answer("gpu", "; ".join(parts), {"gpu": name, "compute_capability": cc, "tensorrt": trts, "cuda": cudas,
                                            "precisions": precisions, "jetpack": jps})


def tensorrt(m: Matrix, version: str) -> Answer:
    try:
        t = m.tensorrt_release(version)
    except ValueError:
        t = None
    if t is None:
        raise InputError(f"no TensorRT release {version!r} in the matrix",
                         f"known lines: {', '.join(r.version for r in sorted(m.tensorrt, key=lambda r: V(r.version)))}")
    cudas = [c.version for c in m.cuda_versions_for(t.cuda)]
    routes = []
    for r in t.routes:
        plats = "; ".join(f"cu{mj} {'/'.join(r.platforms_for(mj))}" for mj in r.cuda_majors)
        routes.append(f"{r.route} [{r.confidence}] ({plats})")
    fp = [f"{k} {'no' if v == 'unsupported' else '>= ' + v}" for k, v in t.precisions.items()]
    line = (f"TensorRT {t.version} ({t.full_version}{', ' + ', '.join(t.other_versions) if t.other_versions else ''})"
            f"{' [legacy]' if t.legacy else ''}: CUDA {_span(cudas)}; compute capability "
            f"{', '.join(t.architectures) or t.min_compute_capability + '+'}; Python {_span(list(t.python))}; "
            f"cuDNN {'required' if t.cudnn_required else 'optional'} {', '.join(t.cudnn_versions) or ''}".rstrip()
            + (f"; {', '.join(fp)}" if fp else "") + (f"; routes {', '.join(routes)}" if routes else "; no route"))
    return Answer("tensorrt", line, {"tensorrt": t.version, "full_version": t.full_version, "cuda": cudas,
                                     "architectures": list(t.architectures), "python": list(t.python),
                                     "legacy": t.legacy, "routes": routes})


def cuda(m: Matrix, version: str) -> Answer:
    try:
        rel = m.cuda_release(version)
    except ValueError:
        rel = None
    if rel is None:
        raise InputError(f"no CUDA release {version!r} in the matrix", f"known: {', '.join(c.version for c in m.cuda)}")
    drivers = ", ".join(f"{d} ({plat})" for plat, d in rel.min_driver.items())
    compat = m.minor_compat_driver(rel.version)
    trts = [t.version for t in _current(m) if any(c.version == rel.version for c in m.cuda_versions_for(t.cuda))]
    archs = list(rel.architectures)
    line = (f"CUDA {rel.version}{' [legacy]' if rel.legacy else ''}: driver >= {drivers}; "
            + (f">= {compat} with minor-version compatibility" if compat else "no minor-version compatibility")
            + f"; builds for compute capability {_span(archs) if archs else '?'}"
            + (f"; TensorRT {_span(trts)}" if trts else "; no current TensorRT release"))
    return Answer("cuda", line, {"cuda": rel.version, "min_driver": rel.min_driver, "minor_compat_min_driver": compat,
                                 "architectures": archs, "tensorrt": trts, "legacy": rel.legacy})


def driver(m: Matrix, version: str) -> Answer:
    """What a driver runs: full support, minor-version compatibility, the newest TensorRT."""
    try:
        d = V(version)
    except ValueError:
        raise InputError(f"not a driver version: {version!r}", "e.g. 535.104.05 (Linux) or 591.86 (Windows)") from None
    plat = "windows" if version.count(".") == 1 and d.release[0] >= 400 else "linux"
    # CUDA 13.x publishes no Windows minimum (Table 3: N/A, the driver is no longer bundled): the Linux value
    # of the same driver branch stands in, and the answer says so
    borrowed = [c.version for c in m.cuda if plat == "windows" and "windows" not in c.min_driver]
    full = [c.version for c in sorted(m.cuda, key=lambda c: V(c.version))
            if (c.min_driver.get(plat) or c.min_driver.get("linux")) and
            V(c.min_driver.get(plat) or c.min_driver["linux"]) <= d]
    compat = [c.version for c in sorted(m.cuda, key=lambda c: V(c.version)) if c.version not in full
              and (m.minor_compat_driver(c.version, plat) or "") and V(m.minor_compat_driver(c.version, plat) or "0") <= d
              and any(major(f) == c.major for f in full)]
    best = next(((t, c) for t in reversed(_current(m)) for c in reversed(full)
                 if any(x.version == c for x in m.cuda_versions_for(t.cuda))), None)
    line = f"driver {version} ({plat}): " + (f"CUDA {_span(full)} fully" if full else "no CUDA release in the matrix")
    if compat:
        line += f"; CUDA {_span(compat)} by minor-version compatibility"
    line += f"; newest TensorRT {best[0].version} with CUDA {best[1]}" if best else "; no current TensorRT release"
    used = [v for v in full if v in borrowed]
    if used:
        line += f" (no Windows minimum published for CUDA {_span(used)}: the Linux minimum was used)"
    return Answer("driver", line, {"driver": version, "platform": plat, "cuda_full": full, "cuda_minor_compat": compat,
                                   "newest_tensorrt": best[0].version if best else None,
                                   "newest_tensorrt_cuda": best[1] if best else None})


def cc_sort(ccs: list[str]) -> list[str]:
    return sorted(ccs, key=cc_key)
