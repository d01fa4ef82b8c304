"""Read matrix.yaml into ``envkit.matrix.model.Matrix`` (strict schema) and check it for contradictions.

``load_matrix(path)`` raises ``MatrixError`` (file, line, key path, "did you mean") on a schema
error and, unless ``check=False``, on the first reference/contradiction error that
``check_matrix`` finds. ``check_matrix(m)`` returns every finding; ``envkit matrix --check``
reports them all. The schema is documented in docs/matrix-schema.md.

Layout: this module loads and parses (``parse_matrix``); the typed field accessors are in
``envkit.matrix.read``; ``check_matrix`` and ``Finding`` live in ``envkit.matrix.check``
and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from envkit.errors import InputError, MatrixError
from envkit.matrix.check import Finding, check_matrix
from envkit.matrix.model import (
    CONFIDENCES,
    SCHEMA_VERSION,
    CudaMajor,
    CudaRelease,
    CudnnRelease,
    GpuEntry,
    Matrix,
    NgcStack,
    Precision,
    Route,
    RouteUse,
    Sourced,
    TensorRTRelease,
)
from envkit.matrix.read import META_KEYS, PLATFORMS, TEMPLATE_FIELDS, MatrixReader, req
from envkit.versions import V
from envkit.yamlio import Document, format_path
from envkit.yamlio import load as yaml_load
from envkit.yamlio import loads as yaml_loads

__all__ = [
    "META_KEYS",
    "PLATFORMS",
    "TEMPLATE_FIELDS",
    "TOP_KEYS",
    "Finding",
    "check_matrix",
    "load_matrix",
    "loads_matrix",
    "parse_matrix",
]

_CACHE: dict[tuple[str, int, int, bool], Matrix] = {}


# -- loading ---------------------------------------------------------------------------------------
def load_matrix(path: Path | str, *, check: bool = True) -> Matrix:
    """Read and validate matrix.yaml; cached by (path, mtime, size)."""
    p = Path(path)
    try:
        st = p.stat()
        key: tuple[str, int, int, bool] | None = (str(p.resolve()), st.st_mtime_ns, st.st_size, check)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    m = _from_disk_cache(p, check)
    if m is not None:
        m.path = str(p)  # the cache is keyed by content: another installation's copy may have filled it
    else:
        doc = _read(lambda: yaml_load(p))
        m = _load_doc(doc, check=check)
        _to_disk_cache(p, check, m)
    if key is not None:
        _CACHE[key] = m
    return m


def _disk_cache_file(p: Path, check: bool) -> Path | None:
    """``<cache>/matrix/<sha256 of the file's bytes, envkit version, check>.pickle``: a parsed matrix is
    reused only for exactly the same bytes, by the same envkit."""
    import hashlib
    import os

    from envkit import __version__
    from envkit.context import user_cache_dir

    try:
        data = p.read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(data + f"\0{__version__}\0{check}".encode()).hexdigest()[:32]
    base = Path(os.environ.get("ENVKIT_CACHE_DIR") or user_cache_dir())
    return base / "matrix" / f"{digest}.pickle"


def _from_disk_cache(p: Path, check: bool) -> Matrix | None:
    import pickle

    f = _disk_cache_file(p, check)
    if f is None or not f.is_file():
        return None
    try:
        m = pickle.loads(f.read_bytes())
    except Exception:  # a torn or foreign cache file is only a cache miss
        return None
    return m if isinstance(m, Matrix) else None


def _to_disk_cache(p: Path, check: bool, m: Matrix) -> None:
    import pickle

    from envkit.fsutil import write_atomic

    f = _disk_cache_file(p, check)
    if f is not None:
        try:
            write_atomic(f, pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass


def loads_matrix(text: str, file: str = "matrix.yaml", *, check: bool = True) -> Matrix:
    """Like ``load_matrix`` from a string (tests, tools)."""
    return _load_doc(_read(lambda: yaml_loads(text, file)), check=check)


def _read(func: Callable[[], Document]) -> Document:
    """yamlio raises InputError for unreadable/invalid YAML: report it as a MatrixError (same file/line)."""
    try:
        return func()
    except MatrixError:
        raise
    except InputError as exc:
        raise MatrixError(exc.message.split(": ", 1)[-1] if exc.file else exc.message, exc.hint,
                          file=exc.file, line=exc.line, key=exc.key) from None


def _load_doc(doc: Document, *, check: bool) -> Matrix:
    m = parse_matrix(doc)
    if check:
        errors = [f for f in check_matrix(m) if f.severity == "error"]
        if errors:
            err = errors[0].to_error()
            if len(errors) > 1:
                more = f"{len(errors) - 1} more error(s); run `envkit matrix --check` to see all"
                err.hint = f"{err.hint}; {more}" if err.hint else more
            raise err
    return m


TOP_KEYS = (
    "schema_version",
    "matrix_version",
    "notes",
    "sources",
    "pip_indexes",
    "cuda_majors",
    "cuda",
    "cudnn",
    "tensorrt",
    "routes",
    "precisions",
    "gpus",
    "ngc",
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


def parse_matrix(doc: Document) -> Matrix:
    """Build the typed Matrix from a parsed document; raises MatrixError on any schema error."""
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
    top.expect_mapping(TOP_KEYS, required=("matrix_version", "sources"))
    matrix_version = top.get("matrix_version", str, required=True)
    top.get("notes", str, None)

    src = top.child("sources")
    if not isinstance(src.value, dict) or not src.value:
        raise src.fail("expected a non-empty mapping of source key -> URL")
    sources: dict[str, str] = {}
    for k in src.value:
        sources[str(k)] = src.get(str(k), str, required=True)

    pip_indexes: dict[str, str] = {}
    pip_index_meta: list[Sourced] = []
    for r in top.ritems("pip_indexes"):
        r.expect_mapping(("name", "url", *META_KEYS), required=("name", "url"))
        name = r.get("name", str, required=True)
        if name in pip_indexes:
            raise r.fail(f"duplicate pip index {name!r}", path=(*r.path, "name"))
        pip_indexes[name] = r.get("url", str, required=True)
        pip_index_meta.append(r.meta())

    cuda_majors: dict[int, CudaMajor] = {}
    for r in top.ritems("cuda_majors"):
        r.expect_mapping(
            ("major", "minor_compat_min_driver", "min_compute_capability", "conda_packages", "pip_packages",
             *META_KEYS),
            required=("major", "minor_compat_min_driver", "min_compute_capability"),
        )
        mj = r.get("major", int, required=True)
        if mj in cuda_majors:
            raise r.fail(f"duplicate CUDA major {mj}", path=(*r.path, "major"))
        cuda_majors[mj] = CudaMajor(
            major=mj,
            minor_compat_min_driver=r.drivers("minor_compat_min_driver"),
            min_compute_capability=req(r.cc("min_compute_capability")),
            conda_packages=tuple(r.templates("conda_packages")),
            pip_packages=tuple(r.templates("pip_packages")),
            meta=r.meta(),
        )

    cuda: list[CudaRelease] = []
    for r in top.ritems("cuda"):
        r.expect_mapping(
            ("version", "min_driver", "max_compute_capability", "min_compute_capability", *META_KEYS),
            required=("version", "min_driver"),
        )
        version = req(r.version("version"))
        if len(V(version).release) != 2:
            raise r.fail(f"a CUDA record is one minor release MAJOR.MINOR, got {version!r}", path=(*r.path, "version"))
        cuda.append(
            CudaRelease(
                version=version,
                min_driver=r.drivers("min_driver"),
                max_compute_capability=r.cc("max_compute_capability", required=False),
                min_compute_capability=r.cc("min_compute_capability", required=False),
                meta=r.meta(),
            )
        )

    cudnn: list[CudnnRelease] = []
    for r in top.ritems("cudnn"):
        r.expect_mapping(
            ("version", "full_version", "cuda", "min_compute_capability", "max_compute_capability", "conda", "pip",
             *META_KEYS),
            required=("version", "full_version", "cuda"),
        )
        conda = r.str_map("conda", ("channel", "package")) or None
        if conda is not None and "package" not in conda:
            raise r.child("conda").fail("missing required key 'package'")
        cudnn.append(
            CudnnRelease(
                version=req(r.version("version")),
                full_version=req(r.version("full_version")),
                cuda=tuple(r.spec_list("cuda", required=True)),
                min_compute_capability=r.cc("min_compute_capability", required=False),
                max_compute_capability=r.cc("max_compute_capability", required=False),
                conda=conda,
                pip=r.str_map("pip", ("cu11", "cu12", "cu13")),
                meta=r.meta(),
            )
        )

    tensorrt: list[TensorRTRelease] = []
    for r in top.ritems("tensorrt"):
        r.expect_mapping(
            ("version", "full_version", "pypi_version", "cuda", "cudnn", "min_compute_capability",
             "max_compute_capability", "python", "precisions", "routes", *META_KEYS),
            required=("version", "full_version", "cuda", "cudnn", "min_compute_capability", "python"),
        )
        cd = r.child("cudnn")
        cd.expect_mapping(("required", "versions", "notes"), required=("required",))
        required = cd.get("required", bool, required=True)
        routes: list[RouteUse] = []
        for rr in r.ritems("routes"):
            rr.expect_mapping(
                ("route", "cuda_majors", "conda", "pip", "confidence", "reason", "unconfirmed", "notes", "source"),
                required=("route", "cuda_majors"),
            )
            rsource: tuple[str, ...] = ()
            if rr.has("source"):
                rsource = rr.meta().source
            confidence, reason = _route_confidence(rr, rsource or r.meta().source)
            routes.append(
                RouteUse(
                    route=rr.get("route", str, required=True),
                    cuda_majors=tuple(rr.int_list("cuda_majors")),
                    conda=tuple(rr.templates("conda")),
                    pip=tuple(rr.templates("pip")),
                    unconfirmed=rr.get("unconfirmed", str, None),
                    notes=rr.get("notes", str, None),
                    source=rsource,
                    confidence=confidence,
                    reason=reason,
                )
            )
        precisions: dict[str, str] = {}
        if r.has("precisions"):
            pr = r.child("precisions")
            if not isinstance(pr.value, dict):
                raise pr.fail("expected a mapping of precision name -> minimum compute capability")
            for name in pr.value:
                precisions[str(name)] = req(pr.cc(str(name)))
        tensorrt.append(
            TensorRTRelease(
                version=req(r.version("version")),
                full_version=req(r.version("full_version")),
                cuda=tuple(r.spec_list("cuda", required=True)),
                cudnn_required=required,
                cudnn_versions=tuple(cd.spec_list("versions")),
                min_compute_capability=req(r.cc("min_compute_capability")),
                max_compute_capability=r.cc("max_compute_capability", required=False),
                python=tuple(r.version_list("python", required=True)),
                precisions=precisions,
                routes=tuple(routes),
                meta=r.meta(),
                pypi_version=r.version("pypi_version", required=False),
            )
        )

    routes_by_id: dict[str, Route] = {}
    for r in top.ritems("routes"):
        r.expect_mapping(("id", "description", "conda_channels", "pip_indexes", *META_KEYS), required=("id",))
        rid = r.get("id", str, required=True)
        if rid in routes_by_id:
            raise r.fail(f"duplicate route id {rid!r}", path=(*r.path, "id"))
        routes_by_id[rid] = Route(
            id=rid,
            description=r.get("description", str, ""),
            conda_channels=tuple(r.str_list("conda_channels")),
            pip_indexes=tuple(r.str_list("pip_indexes")),
            meta=r.meta(),
        )

    precisions_by_name: dict[str, Precision] = {}
    for r in top.ritems("precisions"):
        r.expect_mapping(("name", "min_compute_capability", "excluded", *META_KEYS),
                         required=("name", "min_compute_capability"))
        name = r.get("name", str, required=True)
        if name in precisions_by_name:
            raise r.fail(f"duplicate precision {name!r}", path=(*r.path, "name"))
        precisions_by_name[name] = Precision(
            name=name,
            min_compute_capability=req(r.cc("min_compute_capability")),
            meta=r.meta(),
            excluded=tuple(r.version_list("excluded")),
        )

    gpus: list[GpuEntry] = []
    for r in top.ritems("gpus"):
        r.expect_mapping(("name", "aliases", "compute_capability", *META_KEYS), required=("name", "compute_capability"))
        gpus.append(
            GpuEntry(
                name=r.get("name", str, required=True),
                aliases=tuple(r.str_list("aliases")),
                compute_capability=req(r.cc("compute_capability")),
                meta=r.meta(),
            )
        )

    ngc: list[NgcStack] = []
    for r in top.ritems("ngc"):
        r.expect_mapping(
            ("tag", "tensorrt", "cuda", "cudnn", "python", "min_driver", "min_compute_capability", *META_KEYS),
            required=("tag", "tensorrt", "cuda"),
        )
        tag = r.get("tag", str, required=True)
        if not tag.endswith("-py3"):
            raise r.fail(f"an NGC TensorRT tag looks like \"24.05-py3\", got {tag!r}", path=(*r.path, "tag"))
        ngc.append(
            NgcStack(
                tag=tag,
                tensorrt=req(r.version("tensorrt")),
                cuda=req(r.version("cuda")),
                cudnn=r.version("cudnn", required=False),
                python=r.version("python", required=False),
                min_driver=r.drivers("min_driver", required=False),
                meta=r.meta(),
                min_compute_capability=r.cc("min_compute_capability", required=False),
            )
        )

    lines = {format_path(p): ln for p, ln in doc.lines.items()}
    return Matrix(
        schema_version=SCHEMA_VERSION,
        matrix_version=matrix_version,
        path=doc.file,
        sources=sources,
        pip_indexes=pip_indexes,
        cuda_majors=cuda_majors,
        cuda=cuda,
        cudnn=cudnn,
        tensorrt=tensorrt,
        routes=routes_by_id,
        precisions=precisions_by_name,
        gpus=gpus,
        ngc=ngc,
        lines=lines,
    )
