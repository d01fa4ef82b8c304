"""``Matrix.to_json()``: the documented JSON form of the matrix (schema ``envkit.matrix.model/1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envkit.matrix.model import (
        CudaMajor,
        CudaRelease,
        CudnnRelease,
        JetPackRelease,
        Matrix,
        NgcStack,
        RouteUse,
        Sourced,
        TensorRTRelease,
    )


def meta_json(m: Matrix, meta: Sourced) -> dict[str, Any]:
    out: dict[str, Any] = {"source": m.urls(meta.source)}
    if meta.unconfirmed:
        out["unconfirmed"] = meta.unconfirmed
    if meta.notes:
        out["notes"] = meta.notes
    out["origin"] = meta.origin or m.path
    return out


def _cuda(m: Matrix, c: CudaRelease) -> dict[str, Any]:
    cm = m.cuda_majors.get(c.major)
    return {
        "version": c.version,
        "min_driver": c.min_driver,
        "minor_compat_min_driver": cm.minor_compat_min_driver if cm else None,
        "min_compute_capability": m.cuda_min_cc(c),
        "max_compute_capability": c.max_compute_capability,
        "architectures": list(c.architectures),
        "legacy": c.legacy,
        "conda_packages": [p.format(version=c.version) for p in cm.conda_packages] if cm else [],
        "pip_packages": [p.format(version=c.version) for p in cm.pip_packages] if cm else [],
        **meta_json(m, c.meta),
    }


def _route_use(m: Matrix, r: RouteUse) -> dict[str, Any]:
    return {
        "route": r.route,
        "cuda_majors": list(r.cuda_majors),
        "platforms": {f"cu{mj}": list(r.platforms_for(mj)) for mj in r.cuda_majors},
        "conda": list(r.conda),
        "pip": list(r.pip),
        "confidence": r.confidence,
        "reason": r.reason,
        **({"unconfirmed": r.unconfirmed} if r.unconfirmed else {}),
        **({"notes": r.notes} if r.notes else {}),
        **({"source": m.urls(r.source)} if r.source else {}),
    }


def _tensorrt(m: Matrix, t: TensorRTRelease) -> dict[str, Any]:
    return {
        "version": t.version,
        "full_version": t.full_version,
        "other_versions": list(t.other_versions),
        "cuda": list(t.cuda),
        "cudnn": {"required": t.cudnn_required, "versions": list(t.cudnn_versions)},
        "min_compute_capability": t.min_compute_capability,
        "max_compute_capability": t.max_compute_capability,
        "architectures": list(t.architectures),
        "pypi_version": t.pip_version,
        "python": list(t.python),
        "precisions": t.precisions,
        "legacy": t.legacy,
        "routes": [_route_use(m, r) for r in t.routes],
        **meta_json(m, t.meta),
    }


def _cudnn(m: Matrix, d: CudnnRelease) -> dict[str, Any]:
    return {
        "version": d.version,
        "full_version": d.full_version,
        "cuda": list(d.cuda),
        "min_compute_capability": d.min_compute_capability,
        "max_compute_capability": d.max_compute_capability,
        "conda": d.conda,
        "pip": d.pip,
        "legacy": d.legacy,
        **meta_json(m, d.meta),
    }


def _major(m: Matrix, c: CudaMajor) -> dict[str, Any]:
    return {
        "major": c.major,
        "minor_compat_min_driver": c.minor_compat_min_driver,
        "min_compute_capability": c.min_compute_capability,
        "conda_packages": list(c.conda_packages),
        "pip_packages": list(c.pip_packages),
        **meta_json(m, c.meta),
    }


def _ngc(m: Matrix, n: NgcStack) -> dict[str, Any]:
    return {
        "tag": n.tag, "tensorrt": n.tensorrt, "cuda": n.cuda, "cudnn": n.cudnn, "python": n.python,
        "min_driver": n.min_driver, "min_compute_capability": n.min_compute_capability, **meta_json(m, n.meta),
    }


def _jetpack(m: Matrix, j: JetPackRelease) -> dict[str, Any]:
    return {
        "version": j.version, "l4t": j.l4t, "cuda": j.cuda, "cudnn": j.cudnn, "tensorrt": j.tensorrt,
        "python": j.python, "compute_capabilities": list(j.compute_capabilities), **meta_json(m, j.meta),
    }


def matrix_to_json(m: Matrix) -> dict[str, Any]:
    return {
        "schema": "envkit.matrix.model/1",
        "schema_version": m.schema_version,
        "matrix_version": m.matrix_version,
        "path": m.path,
        "overlays": list(m.overlays),
        "cuda": [_cuda(m, c) for c in m.cuda],
        "tensorrt": [_tensorrt(m, t) for t in m.tensorrt],
        "cudnn": [_cudnn(m, d) for d in m.cudnn],
        "cuda_majors": [_major(m, c) for c in m.cuda_majors.values()],
        "routes": [
            {"id": r.id, "description": r.description, "conda_channels": list(r.conda_channels),
             "pip_indexes": list(r.pip_indexes), **meta_json(m, r.meta)}
            for r in m.routes.values()
        ],
        "pip_indexes": m.pip_indexes,
        "precisions": [
            {"name": p.name, "min_compute_capability": p.min_compute_capability, "excluded": list(p.excluded),
             **meta_json(m, p.meta)}
            for p in m.precisions.values()
        ],
        "gpus": [
            {"name": g.name, "aliases": list(g.aliases), "compute_capability": g.compute_capability,
             **meta_json(m, g.meta)}
            for g in m.gpus
        ],
        "ngc": [_ngc(m, n) for n in m.ngc],
        "jetpack": [_jetpack(m, j) for j in m.jetpack],
        "sources": m.sources,
    }
