"""Read matrix.yaml into ``envkit.matrix.Matrix`` (strict schema) and check it for contradictions.

``load_matrix(path)`` raises ``MatrixError`` (file, line, key path, "did you mean") on a schema
error and, unless ``check=False``, on the first reference/contradiction error that
``check_matrix`` finds. ``check_matrix(m)`` returns every finding; ``envkit matrix --check``
reports them all. The schema is documented in docs/matrix-schema.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, MatrixError
from .matrix import (
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
from .versions import V, in_any, spec
from .yamlio import Document, Reader, did_you_mean, format_path
from .yamlio import load as yaml_load
from .yamlio import loads as yaml_loads

PLATFORMS = ("linux", "windows")
META_KEYS = ("source", "unconfirmed", "notes")
TEMPLATE_FIELDS = ("version", "full_version", "pypi_version", "cuda_major", "cuda_version", "cudnn_version", "python")

_CACHE: dict[tuple[str, int, int, bool], Matrix] = {}


# -- findings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One problem ``check_matrix`` found: severity "error" | "warning" | "info"."""

    severity: str
    key: str
    line: int | None
    message: str
    file: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = (self.file or "matrix.yaml") + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.key}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "key": self.key,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }

    def to_error(self) -> MatrixError:
        return MatrixError(self.message, self.hint, file=self.file, line=self.line, key=self.key)


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
    doc = _read(lambda: yaml_load(p))
    m = _load_doc(doc, check=check)
    if key is not None:
        _CACHE[key] = m
    return m


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


class _R(Reader):
    """Reader raising MatrixError, with matrix-specific typed accessors."""

    def __init__(self, doc: Document, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(doc, path, MatrixError)

    def child(self, key: str | int) -> _R:
        return _R(self.doc, (*self.path, key))

    def items(self, key: str) -> list[Reader]:
        seq = self.get(key, list, [])
        return [self.child(key).child(i) for i in range(len(seq))]

    def ritems(self, key: str) -> list[_R]:
        seq = self.get(key, list, [])
        return [self.child(key).child(i) for i in range(len(seq))]

    # versions -------------------------------------------------------------------------------
    def version(self, key: str, *, required: bool = True, what: str = "a version like \"12.4\"") -> str | None:
        value = self.get(key, str, None, required=required)
        if value is None:
            return None
        _check_version(self, value, (*self.path, key), what)
        return value

    def cc(self, key: str, *, required: bool = True) -> str | None:
        value = self.version(key, required=required, what="a compute capability like \"8.6\"")
        if value is not None and len(V(value).release) != 2:
            raise self.fail(
                f"expected a compute capability MAJOR.MINOR like \"8.6\", got {value!r}", path=(*self.path, key)
            )
        return value

    def version_list(self, key: str, *, required: bool = False) -> list[str]:
        values = self.str_list(key, required=required)
        for i, v in enumerate(values):
            _check_version(self, v, (*self.path, key, i), "a version like \"3.10\"")
        return values

    def spec_list(self, key: str, *, required: bool = False) -> list[str]:
        values = self.str_list(key, required=required)
        if required and not values:
            raise self.fail(f"{key!r} must list at least one version or range", path=(*self.path, key))
        for i, v in enumerate(values):
            try:
                spec(v)
            except ValueError:
                raise self.fail(
                    f"expected a version (\"12.4\") or a PEP 440 range (\">=12.0,<12.7\"), got {v!r}",
                    path=(*self.path, key, i),
                ) from None
        return values

    def drivers(self, key: str, *, required: bool = True) -> dict[str, str]:
        if not self.has(key):
            if required:
                raise self.fail(f"missing required key {key!r}")
            return {}
        r = self.child(key)
        r.expect_mapping(PLATFORMS, required=("linux",))
        out: dict[str, str] = {}
        for plat in PLATFORMS:
            v = r.version(plat, required=False, what="a driver version like \"535.104.05\"")
            if v is not None:
                out[plat] = v
        return out

    def templates(self, key: str) -> list[str]:
        values = self.str_list(key)
        for i, t in enumerate(values):
            _check_template(self, t, (*self.path, key, i))
        return values

    def int_list(self, key: str) -> list[int]:
        items = self.get(key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, int) or isinstance(item, bool):
                raise self.fail(f"expected an integer (a CUDA major like 12), got {item!r}", path=(*self.path, key, i))
        return list(items)

    def str_map(self, key: str, allowed: tuple[str, ...] | None = None) -> dict[str, str]:
        if not self.has(key):
            return {}
        r = self.child(key)
        if allowed is not None:
            r.expect_mapping(allowed)
        elif not isinstance(r.value, dict):
            raise r.fail("expected a mapping")
        out: dict[str, str] = {}
        for k in r.value:
            out[str(k)] = r.get(str(k), str, required=True)
        return out

    def meta(self) -> Sourced:
        if not self.has("source"):
            raise self.fail("missing required key 'source'", "every record names its source (a key of `sources:`)")
        raw = self.value["source"]
        if isinstance(raw, str):
            keys: tuple[str, ...] = (raw,)
        elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            keys = tuple(raw)
        else:
            raise self.fail(
                "expected a source key or a non-empty list of source keys", path=(*self.path, "source")
            )
        return Sourced(
            source=keys,
            unconfirmed=self.get("unconfirmed", str, None),
            notes=self.get("notes", str, None),
        )


def _check_version(r: Reader, value: str, path: tuple[str | int, ...], what: str) -> None:
    try:
        V(value)
    except ValueError:
        raise r.fail(f"expected {what}, got {value!r}", path=path) from None


def _check_template(r: Reader, text: str, path: tuple[str | int, ...]) -> None:
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise r.fail(f"bad template {text!r}: {exc}", path=path) from None
    for f in fields:
        if f not in TEMPLATE_FIELDS:
            raise r.fail(
                f"unknown template field {{{f}}} in {text!r}",
                did_you_mean(f, TEMPLATE_FIELDS) or f"allowed: {', '.join('{' + t + '}' for t in TEMPLATE_FIELDS)}",
                path=path,
            )


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


def parse_matrix(doc: Document) -> Matrix:
    """Build the typed Matrix from a parsed document; raises MatrixError on any schema error."""
    top = _R(doc)
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
            min_compute_capability=_req(r.cc("min_compute_capability")),
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
        version = _req(r.version("version"))
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
                version=_req(r.version("version")),
                full_version=_req(r.version("full_version")),
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
                ("route", "cuda_majors", "conda", "pip", "unconfirmed", "notes", "source"),
                required=("route", "cuda_majors"),
            )
            rsource: tuple[str, ...] = ()
            if rr.has("source"):
                rsource = rr.meta().source
            routes.append(
                RouteUse(
                    route=rr.get("route", str, required=True),
                    cuda_majors=tuple(rr.int_list("cuda_majors")),
                    conda=tuple(rr.templates("conda")),
                    pip=tuple(rr.templates("pip")),
                    unconfirmed=rr.get("unconfirmed", str, None),
                    notes=rr.get("notes", str, None),
                    source=rsource,
                )
            )
        precisions: dict[str, str] = {}
        if r.has("precisions"):
            pr = r.child("precisions")
            if not isinstance(pr.value, dict):
                raise pr.fail("expected a mapping of precision name -> minimum compute capability")
            for name in pr.value:
                precisions[str(name)] = _req(pr.cc(str(name)))
        tensorrt.append(
            TensorRTRelease(
                version=_req(r.version("version")),
                full_version=_req(r.version("full_version")),
                cuda=tuple(r.spec_list("cuda", required=True)),
                cudnn_required=required,
                cudnn_versions=tuple(cd.spec_list("versions")),
                min_compute_capability=_req(r.cc("min_compute_capability")),
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
            min_compute_capability=_req(r.cc("min_compute_capability")),
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
                compute_capability=_req(r.cc("compute_capability")),
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
                tensorrt=_req(r.version("tensorrt")),
                cuda=_req(r.version("cuda")),
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


def _req(value: str | None) -> str:
    assert value is not None  # guarded by required=True
    return value


# -- checking --------------------------------------------------------------------------------------
def check_matrix(m: Matrix) -> list[Finding]:
    """References and contradictions (docs/matrix-schema.md "What --check verifies")."""
    out: list[Finding] = []

    def add(severity: str, key: str, message: str, hint: str | None = None) -> None:
        out.append(Finding(severity, key, m.line_of(key), message, m.path, hint))

    cuda_defined = ", ".join(c.version for c in m.cuda)

    def check_sources(key: str, keys: tuple[str, ...]) -> None:
        for i, k in enumerate(keys):
            if k not in m.sources:
                sub = f"{key}.source" + (f"[{i}]" if len(keys) > 1 else "")
                add("error", sub, f"unknown source key {k!r}", did_you_mean(k, m.sources) or "add it to `sources:`")

    for k, url in m.sources.items():
        if not (url.startswith("https://") or url.startswith("http://")):
            add("error", f"sources.{k}", f"source {k!r} is not a URL: {url!r}")

    records: list[tuple[str, Sourced]] = []
    records += [(f"pip_indexes[{i}]", s) for i, s in enumerate(m.pip_index_meta)]
    records += [(f"cuda_majors[{i}]", c.meta) for i, c in enumerate(m.cuda_majors.values())]
    records += [(f"cuda[{i}]", c.meta) for i, c in enumerate(m.cuda)]
    records += [(f"cudnn[{i}]", c.meta) for i, c in enumerate(m.cudnn)]
    records += [(f"tensorrt[{i}]", t.meta) for i, t in enumerate(m.tensorrt)]
    records += [(f"routes[{i}]", r.meta) for i, r in enumerate(m.routes.values())]
    records += [(f"precisions[{i}]", p.meta) for i, p in enumerate(m.precisions.values())]
    records += [(f"gpus[{i}]", g.meta) for i, g in enumerate(m.gpus)]
    records += [(f"ngc[{i}]", n.meta) for i, n in enumerate(m.ngc)]
    for key, meta in records:
        check_sources(key, meta.source)
    for i, t in enumerate(m.tensorrt):
        for j, ru in enumerate(t.routes):
            if ru.source:
                check_sources(f"tensorrt[{i}].routes[{j}]", ru.source)

    # duplicates
    def dupes(kind: str, items: list[str], keyfmt: Callable[[int], str]) -> None:
        seen: dict[str, int] = {}
        for i, v in enumerate(items):
            norm = v.lower() if kind == "NGC tag" else str(V(v))
            if norm in seen:
                add("error", keyfmt(i), f"duplicate {kind} {v!r} (also {keyfmt(seen[norm])})")
            else:
                seen[norm] = i

    dupes("CUDA release", [c.version for c in m.cuda], lambda i: f"cuda[{i}].version")
    dupes("cuDNN release", [c.version for c in m.cudnn], lambda i: f"cudnn[{i}].version")
    dupes("TensorRT release", [t.version for t in m.tensorrt], lambda i: f"tensorrt[{i}].version")
    dupes("TensorRT full version", [t.full_version for t in m.tensorrt], lambda i: f"tensorrt[{i}].full_version")
    dupes("NGC tag", [n.tag for n in m.ngc], lambda i: f"ngc[{i}].tag")
    seen_gpu: dict[str, tuple[int, str]] = {}
    from .matrix import _norm_gpu

    for i, g in enumerate(m.gpus):
        cands = [(f"gpus[{i}].name", g.name)] + [(f"gpus[{i}].aliases[{j}]", a) for j, a in enumerate(g.aliases)]
        for key, gname in cands:
            norm = _norm_gpu(gname)
            if not norm:
                add("error", key, f"GPU name {gname!r} is empty once normalised")
            elif norm in seen_gpu and seen_gpu[norm][0] != i:
                add("error", key, f"GPU name {gname!r} is already defined at {seen_gpu[norm][1]}")
            else:
                seen_gpu.setdefault(norm, (i, key))

    # CUDA: majors, drivers, compute capability
    for i, c in enumerate(m.cuda):
        if c.major not in m.cuda_majors:
            add("error", f"cuda[{i}].version", f"CUDA {c.version} has no `cuda_majors:` record for major {c.major}",
                f"defined majors: {', '.join(str(k) for k in sorted(m.cuda_majors))}")
        lo = m.cuda_min_cc(c)
        if lo and c.max_compute_capability and V(lo) > V(c.max_compute_capability):
            add("error", f"cuda[{i}].max_compute_capability",
                f"max compute capability {c.max_compute_capability} is below the minimum {lo}")
    by_major: dict[int, list[tuple[int, CudaRelease]]] = {}
    for i, c in enumerate(m.cuda):
        by_major.setdefault(c.major, []).append((i, c))
    for _mj, rels in by_major.items():
        rels.sort(key=lambda ic: V(ic[1].version))
        for plat in PLATFORMS:
            prev: tuple[int, CudaRelease] | None = None
            for i, c in rels:
                d = c.min_driver.get(plat)
                if d is None:
                    continue
                if prev is not None and V(d) < V(prev[1].min_driver[plat]):
                    add("error", f"cuda[{i}].min_driver.{plat}",
                        f"CUDA {c.version} needs driver {d}, lower than "
                        f"CUDA {prev[1].version}'s {prev[1].min_driver[plat]}",
                        "minimum drivers never decrease with the CUDA version")
                prev = (i, c)
    for i, cm in enumerate(m.cuda_majors.values()):
        for plat, d in cm.minor_compat_min_driver.items():
            for c in m.cuda:
                full = c.min_driver.get(plat)
                if c.major == cm.major and full and V(full) < V(d):
                    add("error", f"cuda_majors[{i}].minor_compat_min_driver.{plat}",
                        f"minor-compatibility floor {d} is above CUDA {c.version}'s full-support driver {full}")

    def check_specs(key: str, specs: tuple[str, ...]) -> None:
        for j, s in enumerate(specs):
            if not any(in_any((s,), c.version) for c in m.cuda):
                add("error", f"{key}.cuda[{j}]", f"no CUDA release matches {s!r} (defined: {cuda_defined})")

    def check_cc(key: str, lo: str | None, hi: str | None) -> None:
        if lo and hi and V(lo) > V(hi):
            add("error", f"{key}.max_compute_capability", f"max compute capability {hi} is below the minimum {lo}")

    for i, dn in enumerate(m.cudnn):
        check_specs(f"cudnn[{i}]", dn.cuda)
        check_cc(f"cudnn[{i}]", dn.min_compute_capability, dn.max_compute_capability)
        if not dn.full_version.startswith(dn.version):
            add("error", f"cudnn[{i}].full_version", f"full_version {dn.full_version} does not start with {dn.version}")
        for cu in dn.pip:
            cmaj = int(cu[2:])
            if not any(c.major == cmaj and in_any(dn.cuda, c.version) for c in m.cuda):
                add("error", f"cudnn[{i}].pip.{cu}",
                    f"a {cu} wheel is named but cuDNN {dn.version} supports no CUDA {cmaj}.x")

    for i, t in enumerate(m.tensorrt):
        key = f"tensorrt[{i}]"
        check_specs(key, t.cuda)
        check_cc(key, t.min_compute_capability, t.max_compute_capability)
        if not t.full_version.startswith(t.version):
            add("error", f"{key}.full_version", f"full_version {t.full_version} does not start with {t.version}")
        majors = {c.major for c in m.cuda if in_any(t.cuda, c.version)}
        for j, v in enumerate(t.cudnn_versions):
            if not any(in_any((v,), dr.version) or in_any((v,), dr.full_version) for dr in m.cudnn):
                add("warning", f"{key}.cudnn.versions[{j}]", f"no cuDNN record matches {v!r}")
        if t.cudnn_required and not t.cudnn_versions:
            add("error", f"{key}.cudnn", "cuDNN is required but no versions are listed")
        for name in t.precisions:
            if name not in m.precisions:
                add("error", f"{key}.precisions.{name}", f"unknown precision {name!r}",
                    did_you_mean(name, m.precisions))
        seen_routes: set[str] = set()
        for j, ru in enumerate(t.routes):
            rkey = f"{key}.routes[{j}]"
            if ru.route not in m.routes:
                add("error", f"{rkey}.route", f"unknown route {ru.route!r}",
                    did_you_mean(ru.route, m.routes) or f"defined routes: {', '.join(m.routes)}")
            if ru.route in seen_routes:
                add("error", f"{rkey}.route", f"route {ru.route!r} is listed twice for TensorRT {t.version}")
            seen_routes.add(ru.route)
            if not ru.cuda_majors:
                add("error", f"{rkey}.cuda_majors", "a route must name at least one CUDA major")
            for ci, rmaj in enumerate(ru.cuda_majors):
                if rmaj not in majors:
                    add("error", f"{rkey}.cuda_majors[{ci}]",
                        f"CUDA {rmaj} is not a CUDA major TensorRT {t.version} supports "
                        f"(its cuda: {', '.join(t.cuda)})")
            if not ru.conda and not ru.pip:
                add("error", rkey, "a route use must give conda or pip packages")

    for i, r in enumerate(m.routes.values()):
        for j, ix in enumerate(r.pip_indexes):
            if ix not in m.pip_indexes:
                add("error", f"routes[{i}].pip_indexes[{j}]", f"unknown pip index {ix!r}",
                    did_you_mean(ix, m.pip_indexes) or f"defined: {', '.join(m.pip_indexes)}")

    for i, p in enumerate(m.precisions.values()):
        if not p.name.islower():
            add("warning", f"precisions[{i}].name", f"precision names are lower case, got {p.name!r}")

    for i, n in enumerate(m.ngc):
        key = f"ngc[{i}]"
        if _trt_for(m, n.tensorrt) is None:
            add("error", f"{key}.tensorrt", f"no TensorRT line matches {n.tensorrt!r}",
                f"defined: {', '.join(t.version for t in m.tensorrt)}")
        if m.cuda_release(n.cuda) is None:
            add("error", f"{key}.cuda", f"no CUDA release matches {n.cuda!r} (defined: {cuda_defined})")
        else:
            trt = _trt_for(m, n.tensorrt)
            if trt is not None and not in_any(trt.cuda, _mm(n.cuda)):
                add("warning", f"{key}.cuda",
                    f"TensorRT {trt.version} does not list CUDA {_mm(n.cuda)} (its cuda: {', '.join(trt.cuda)}): "
                    "an NGC-only build")
        if n.cudnn and m.cudnn_release(n.cudnn) is None:
            add("warning", f"{key}.cudnn", f"no cuDNN record matches {n.cudnn!r}")

    unconfirmed = sum(1 for _, meta in records if meta.unconfirmed)
    if unconfirmed:
        out.append(Finding("info", "(top level)", None, f"{unconfirmed} record(s) are marked unconfirmed", m.path))
    return out


def _mm(version: str) -> str:
    rel = V(version).release
    return f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}"


def _trt_for(m: Matrix, version: str) -> TensorRTRelease | None:
    """The TensorRT record whose line a full version belongs to (longest line prefix)."""
    want = V(version).release
    matches = [t for t in m.tensorrt if want[: len(V(t.version).release)] == V(t.version).release]
    if not matches:
        return None
    return max(matches, key=lambda t: (len(V(t.version).release), V(t.version)))

