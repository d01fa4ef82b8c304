"""Cross-reference and contradiction checks of a loaded matrix (``envkit matrix --check``).

``check_matrix(m)`` returns every :class:`Finding` (error, warning or info); ``load_matrix``
raises the first error. What is verified is listed in docs/matrix-schema.md
("What --check verifies").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from envkit.errors import MatrixError
from envkit.matrix.model import CudaRelease, Matrix, Sourced, TensorRTRelease, _norm_gpu
from envkit.matrix.read import PLATFORMS
from envkit.versions import V, in_any, major_minor
from envkit.yamlio import did_you_mean


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
            if trt is not None and not in_any(trt.cuda, major_minor(n.cuda)):
                add("warning", f"{key}.cuda",
                    f"TensorRT {trt.version} does not list CUDA {major_minor(n.cuda)} (its cuda: {', '.join(trt.cuda)}): "
                    "an NGC-only build")
        if n.cudnn and m.cudnn_release(n.cudnn) is None:
            add("warning", f"{key}.cudnn", f"no cuDNN record matches {n.cudnn!r}")

    unconfirmed = sum(1 for _, meta in records if meta.unconfirmed)
    if unconfirmed:
        out.append(Finding("info", "(top level)", None, f"{unconfirmed} record(s) are marked unconfirmed", m.path))
    return out


def _trt_for(m: Matrix, version: str) -> TensorRTRelease | None:
    """The TensorRT record whose line a full version belongs to (longest line prefix)."""
    want = V(version).release
    matches = [t for t in m.tensorrt if want[: len(V(t.version).release)] == V(t.version).release]
    if not matches:
        return None
    return max(matches, key=lambda t: (len(V(t.version).release), V(t.version)))
