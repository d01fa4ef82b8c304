"""matrix.yaml (or an overlay file) -> ``Matrix``: one function per top-level section.

Strict: an unknown key, a wrong type or a malformed version raises ``MatrixError`` naming the
file, line and key path. Cross-record checks are ``envkit.matrix.check``'s job.
"""

from __future__ import annotations

from envkit.matrix.model import (
    CONFIDENCES,
    ROUTE_PLATFORMS,
    SCHEMA_VERSION,
    UNSUPPORTED,
    CudaMajor,
    CudaRelease,
    CudnnRelease,
    GpuEntry,
    JetPackRelease,
    Matrix,
    NgcStack,
    Precision,
    Route,
    RouteUse,
    Sourced,
    TensorRTRelease,
    cc_key,
)
from envkit.matrix.read import META_KEYS, MatrixReader, req
from envkit.versions import V
from envkit.yamlio import Document, format_path

TOP_KEYS = (
    "schema_version", "matrix_version", "notes", "sources", "pip_indexes", "cuda_majors", "cuda", "cudnn",
    "tensorrt", "routes", "precisions", "gpus", "ngc", "jetpack",
)


def parse_matrix(doc: Document, *, overlay: bool = False) -> Matrix:
    """Build the typed Matrix from a parsed document; raises MatrixError on any schema error.

    An overlay (``matrix.d/*.yaml``) may leave out ``matrix_version`` and ``sources``."""
    top = _top(doc, overlay)
    sources = _sources(top, overlay)
    pip_indexes, pip_index_meta = _pip_indexes(top)
    return Matrix(
        schema_version=SCHEMA_VERSION,
        matrix_version=top.get("matrix_version", str, "", required=not overlay),
        path=doc.file,
        sources=sources,
        pip_indexes=pip_indexes,
        cuda_majors=_cuda_majors(top),
        cuda=[_cuda(r) for r in top.ritems("cuda")],
        cudnn=[_cudnn(r) for r in top.ritems("cudnn")],
        tensorrt=[_tensorrt(r) for r in top.ritems("tensorrt")],
        routes=_routes(top),
        precisions=_precisions(top),
        gpus=[_gpu(r) for r in top.ritems("gpus")],
        ngc=[_ngc(r) for r in top.ritems("ngc")],
        jetpack=[_jetpack(r) for r in top.ritems("jetpack")],
        lines={format_path(p): ln for p, ln in doc.lines.items()},
        pip_index_meta=pip_index_meta,
    )


def _top(doc: Document, overlay: bool) -> MatrixReader:
    top = MatrixReader(doc)
    if not isinstance(top.value, dict):
        raise top.fail("expected a mapping with schema_version, matrix_version, sources, ... at the top level")
    if not top.has("schema_version"):
        raise top.fail("missing required key 'schema_version'", f"add `schema_version: {SCHEMA_VERSION}`")
    sv = top.value["schema_version"]
    if sv != SCHEMA_VERSION or isinstance(sv, bool):
        raise top.fail(
            f"unsupported schema_version {sv!r}; this envkit reads schema_version {SCHEMA_VERSION}",
            "use a matrix.yaml written for this envkit version, or upgrade envkit",
            ("schema_version",),
        )
    top.expect_mapping(TOP_KEYS, required=() if overlay else ("matrix_version", "sources"))
    top.get("notes", str, None)
    return top


def _sources(top: MatrixReader, overlay: bool) -> dict[str, str]:
    if overlay and not top.has("sources"):
        return {}
    src = top.child("sources")
    if not isinstance(src.value, dict) or not src.value:
        raise src.fail("expected a non-empty mapping of source key -> URL")
    return {str(k): src.get(str(k), str, required=True) for k in src.value}


def _pip_indexes(top: MatrixReader) -> tuple[dict[str, str], list[Sourced]]:
    indexes: dict[str, str] = {}
    metas: list[Sourced] = []
    for r in top.ritems("pip_indexes"):
        r.expect_mapping(("name", "url", *META_KEYS), required=("name", "url"))
        name = r.get("name", str, required=True)
        if name in indexes:
            raise r.fail(f"duplicate pip index {name!r}", path=(*r.path, "name"))
        indexes[name] = r.get("url", str, required=True)
        metas.append(r.meta())
    return indexes, metas


def _cuda_majors(top: MatrixReader) -> dict[int, CudaMajor]:
    out: dict[int, CudaMajor] = {}
    for r in top.ritems("cuda_majors"):
        r.expect_mapping(
            ("major", "minor_compat_min_driver", "min_compute_capability", "conda_packages", "pip_packages",
             *META_KEYS),
            required=("major", "min_compute_capability"),
        )
        mj = r.get("major", int, required=True)
        if mj in out:
            raise r.fail(f"duplicate CUDA major {mj}", path=(*r.path, "major"))
        out[mj] = CudaMajor(
            major=mj,
            minor_compat_min_driver=r.drivers("minor_compat_min_driver", required=False),
            min_compute_capability=req(r.cc("min_compute_capability")),
            conda_packages=tuple(r.templates("conda_packages")),
            pip_packages=tuple(r.templates("pip_packages")),
            meta=r.meta(),
        )
    return out


def _cuda(r: MatrixReader) -> CudaRelease:
    r.expect_mapping(
        ("version", "min_driver", "max_compute_capability", "min_compute_capability", "architectures", "legacy",
         *META_KEYS),
        required=("version", "min_driver"),
    )
    version = req(r.version("version"))
    if len(V(version).release) != 2:
        raise r.fail(f"a CUDA record is one minor release MAJOR.MINOR, got {version!r}", path=(*r.path, "version"))
    archs = tuple(r.cc_list("architectures"))
    return CudaRelease(
        version=version,
        min_driver=r.drivers("min_driver"),
        max_compute_capability=r.cc("max_compute_capability", required=False) or _hi(archs),
        min_compute_capability=r.cc("min_compute_capability", required=False),
        meta=r.meta(),
        architectures=archs,
        legacy=r.get("legacy", bool, False),
    )


def _hi(archs: tuple[str, ...]) -> str | None:
    return max(archs, key=cc_key) if archs else None


def _lo(archs: tuple[str, ...]) -> str | None:
    return min(archs, key=cc_key) if archs else None


def _cudnn(r: MatrixReader) -> CudnnRelease:
    r.expect_mapping(
        ("version", "full_version", "cuda", "min_compute_capability", "max_compute_capability", "conda", "pip",
         "legacy", *META_KEYS),
        required=("version", "full_version", "cuda"),
    )
    conda = r.str_map("conda", ("channel", "package")) or None
    if conda is not None and "package" not in conda:
        raise r.child("conda").fail("missing required key 'package'")
    return CudnnRelease(
        version=req(r.version("version")),
        full_version=req(r.version("full_version")),
        cuda=tuple(r.spec_list("cuda", required=True)),
        min_compute_capability=r.cc("min_compute_capability", required=False),
        max_compute_capability=r.cc("max_compute_capability", required=False),
        conda=conda,
        pip=r.str_map("pip", ("cu11", "cu12", "cu13")),
        meta=r.meta(),
        legacy=r.get("legacy", bool, False),
    )


def _route_confidence(rr: MatrixReader, source: tuple[str, ...]) -> tuple[str, str]:
    """(confidence, reason) of a route use: ``confidence:`` as written, else unconfirmed when the record says
    what was not read, else confirmed; the reason is ``reason:``, the unconfirmed text, or the sources read."""
    unconfirmed = rr.get("unconfirmed", str, None)
    confidence = rr.get("confidence", str, None)
    if confidence is None:
        confidence = "unconfirmed" if unconfirmed else "confirmed"
    elif confidence not in CONFIDENCES:
        raise rr.fail(f"unknown confidence {confidence!r}", f"one of: {', '.join(CONFIDENCES)}",
                      (*rr.path, "confidence"))
    reason = rr.get("reason", str, None) or unconfirmed or ""
    if not reason and confidence == "confirmed":
        reason = "read in " + ", ".join(source)
    if not reason:
        raise rr.fail(f"a route with confidence {confidence!r} needs a `reason:`", path=(*rr.path, "confidence"))
    return confidence, reason


def _route_use(rr: MatrixReader, record_source: tuple[str, ...]) -> RouteUse:
    rr.expect_mapping(
        ("route", "cuda_majors", "platforms", "conda", "pip", "confidence", "reason", "unconfirmed", "notes",
         "source"),
        required=("route", "cuda_majors"),
    )
    platforms, by_major = _platforms(rr)
    source = rr.meta().source if rr.has("source") else ()
    confidence, reason = _route_confidence(rr, source or record_source)
    return RouteUse(
        route=rr.get("route", str, required=True),
        cuda_majors=tuple(rr.int_list("cuda_majors")),
        conda=tuple(rr.templates("conda")),
        pip=tuple(rr.templates("pip")),
        unconfirmed=rr.get("unconfirmed", str, None),
        notes=rr.get("notes", str, None),
        source=source,
        platforms=platforms,
        platforms_by_major=by_major,
        confidence=confidence,
        reason=reason,
    )


def _platform_list(r: MatrixReader, key: str) -> tuple[str, ...]:
    values = tuple(r.str_list(key))
    for i, p in enumerate(values):
        if p not in ROUTE_PLATFORMS:
            raise r.fail(f"unknown platform {p!r}", f"known: {', '.join(ROUTE_PLATFORMS)}", path=(*r.path, key, i))
    return values


def _platforms(rr: MatrixReader) -> tuple[tuple[str, ...], dict[int, tuple[str, ...]]]:
    """``platforms: [linux-64, win-64]`` for every CUDA major, or ``{cu12: [...], cu13: [...]}`` per major."""
    if not rr.has("platforms"):
        return ("linux-64",), {}
    if isinstance(rr.value["platforms"], dict):
        pr = rr.child("platforms")
        pr.expect_mapping(("cu9", "cu10", "cu11", "cu12", "cu13"))
        by_major = {int(str(k)[2:]): _platform_list(pr, str(k)) for k in pr.value}
        return tuple(sorted({p for v in by_major.values() for p in v})), by_major
    return _platform_list(rr, "platforms") or ("linux-64",), {}


def _trt_precisions(r: MatrixReader) -> dict[str, str]:
    if not r.has("precisions"):
        return {}
    pr = r.child("precisions")
    if not isinstance(pr.value, dict):
        raise pr.fail(f"expected a mapping of precision name -> minimum compute capability or {UNSUPPORTED!r}")
    out: dict[str, str] = {}
    for name in pr.value:
        out[str(name)] = UNSUPPORTED if pr.value[name] == UNSUPPORTED else req(pr.cc(str(name)))
    return out


def _tensorrt(r: MatrixReader) -> TensorRTRelease:
    r.expect_mapping(
        ("version", "full_version", "other_versions", "pypi_version", "cuda", "cudnn", "min_compute_capability",
         "max_compute_capability", "architectures", "python", "precisions", "routes", "legacy", *META_KEYS),
        required=("version", "full_version", "cuda", "cudnn", "python"),
    )
    archs = tuple(r.cc_list("architectures"))
    if not archs and not r.has("min_compute_capability"):
        raise r.fail("a TensorRT record needs `architectures:` (or `min_compute_capability:`)")
    cd = r.child("cudnn")
    cd.expect_mapping(("required", "versions", "notes"), required=("required",))
    meta = r.meta()
    return TensorRTRelease(
        version=req(r.version("version")),
        full_version=req(r.version("full_version")),
        cuda=tuple(r.spec_list("cuda", required=True)),
        cudnn_required=cd.get("required", bool, required=True),
        cudnn_versions=tuple(cd.spec_list("versions")),
        min_compute_capability=r.cc("min_compute_capability", required=False) or req(_lo(archs)),
        max_compute_capability=r.cc("max_compute_capability", required=False) or _hi(archs),
        python=tuple(r.version_list("python", required=True)),
        precisions=_trt_precisions(r),
        routes=tuple(_route_use(rr, meta.source) for rr in r.ritems("routes")),
        meta=meta,
        pypi_version=r.version("pypi_version", required=False),
        architectures=archs,
        other_versions=tuple(r.version_list("other_versions")),
        legacy=r.get("legacy", bool, False),
    )


def _routes(top: MatrixReader) -> dict[str, Route]:
    out: dict[str, Route] = {}
    for r in top.ritems("routes"):
        r.expect_mapping(("id", "description", "conda_channels", "pip_indexes", *META_KEYS), required=("id",))
        rid = r.get("id", str, required=True)
        if rid in out:
            raise r.fail(f"duplicate route id {rid!r}", path=(*r.path, "id"))
        out[rid] = Route(
            id=rid,
            description=r.get("description", str, ""),
            conda_channels=tuple(r.str_list("conda_channels")),
            pip_indexes=tuple(r.str_list("pip_indexes")),
            meta=r.meta(),
        )
    return out


def _precisions(top: MatrixReader) -> dict[str, Precision]:
    out: dict[str, Precision] = {}
    for r in top.ritems("precisions"):
        r.expect_mapping(("name", "min_compute_capability", "excluded", *META_KEYS),
                         required=("name", "min_compute_capability"))
        name = r.get("name", str, required=True)
        if name in out:
            raise r.fail(f"duplicate precision {name!r}", path=(*r.path, "name"))
        out[name] = Precision(
            name=name,
            min_compute_capability=req(r.cc("min_compute_capability")),
            meta=r.meta(),
            excluded=tuple(r.version_list("excluded")),
        )
    return out


def _gpu(r: MatrixReader) -> GpuEntry:
    r.expect_mapping(("name", "aliases", "compute_capability", *META_KEYS), required=("name", "compute_capability"))
    return GpuEntry(
        name=r.get("name", str, required=True),
        aliases=tuple(r.str_list("aliases")),
        compute_capability=req(r.cc("compute_capability")),
        meta=r.meta(),
    )


def _ngc(r: MatrixReader) -> NgcStack:
    r.expect_mapping(
        ("tag", "tensorrt", "cuda", "cudnn", "python", "min_driver", "min_compute_capability", *META_KEYS),
        required=("tag", "tensorrt", "cuda"),
    )
    tag = r.get("tag", str, required=True)
    if not tag.endswith("-py3"):
        raise r.fail(f"an NGC TensorRT tag looks like \"24.05-py3\", got {tag!r}", path=(*r.path, "tag"))
    return NgcStack(
        tag=tag,
        tensorrt=req(r.version("tensorrt")),
        cuda=req(r.version("cuda")),
        cudnn=r.version("cudnn", required=False),
        python=r.version("python", required=False),
        min_driver=r.drivers("min_driver", required=False),
        meta=r.meta(),
        min_compute_capability=r.cc("min_compute_capability", required=False),
    )


def _jetpack(r: MatrixReader) -> JetPackRelease:
    r.expect_mapping(
        ("version", "l4t", "cuda", "cudnn", "tensorrt", "python", "compute_capabilities", *META_KEYS),
        required=("version", "l4t", "cuda", "tensorrt", "compute_capabilities"),
    )
    return JetPackRelease(
        version=req(r.version("version")),
        l4t=req(r.version("l4t", what="an L4T release like \"36.4.3\"")),
        cuda=req(r.version("cuda")),
        cudnn=r.version("cudnn", required=False),
        tensorrt=req(r.version("tensorrt")),
        python=r.version("python", required=False),
        compute_capabilities=tuple(r.cc_list("compute_capabilities", required=True)),
        meta=r.meta(),
    )
