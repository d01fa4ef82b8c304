"""The rules of ``envkit matrix --check``, one function per topic, each adding findings to a ``Checker``.

``RULES`` lists them in order; every rule name appears in the findings' ``rule`` field and has a test
in tests/matrix/test_matrix_check.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from envkit.matrix.gpus import norm_gpu
from envkit.matrix.model import UNSUPPORTED, CudaRelease, Matrix, TensorRTRelease
from envkit.matrix.read import PLATFORMS
from envkit.versions import V, cc_key, in_any, major_minor
from envkit.yamlio import did_you_mean

if TYPE_CHECKING:
    from envkit.matrix.check import Checker


def sources(c: Checker) -> None:
    m = c.m
    for k, url in m.sources.items():
        if not (url.startswith("https://") or url.startswith("http://")):
            c.add("error", f"sources.{k}", f"source {k!r} is not a URL: {url!r}")
    keyed = [(key, meta.source) for key, meta in c.records()]
    keyed += [(f"tensorrt[{i}].routes[{j}]", ru.source) for i, t in enumerate(m.tensorrt)
              for j, ru in enumerate(t.routes) if ru.source]
    for key, keys in keyed:
        for i, k in enumerate(keys):
            if k not in m.sources:
                sub = f"{key}.source" + (f"[{i}]" if len(keys) > 1 else "")
                c.add("error", sub, f"unknown source key {k!r}", did_you_mean(k, m.sources) or "add it to `sources:`")


def duplicates(c: Checker) -> None:
    m = c.m

    def dupes(kind: str, items: list[str], keyfmt: Callable[[int], str]) -> None:
        seen: dict[str, int] = {}
        for i, v in enumerate(items):
            norm = v.lower() if kind == "NGC tag" else str(V(v))
            if norm in seen:
                c.add("error", keyfmt(i), f"duplicate {kind} {v!r} (also {keyfmt(seen[norm])})")
            else:
                seen[norm] = i

    dupes("CUDA release", [x.version for x in m.cuda], lambda i: f"cuda[{i}].version")
    dupes("cuDNN release", [x.version for x in m.cudnn], lambda i: f"cudnn[{i}].version")
    dupes("TensorRT release", [t.version for t in m.tensorrt], lambda i: f"tensorrt[{i}].version")
    spell = [(i, s) for i, t in enumerate(m.tensorrt) for s in (t.full_version, *t.other_versions)]
    seen: dict[tuple[int, ...], int] = {}
    for i, s in spell:
        k = V(s).release
        if k in seen and seen[k] != i:
            c.add("error", f"tensorrt[{i}]", f"TensorRT {s} is claimed by two lines (also tensorrt[{seen[k]}])")
        seen.setdefault(k, i)
    dupes("NGC tag", [n.tag for n in m.ngc], lambda i: f"ngc[{i}].tag")
    dupes("JetPack release", [j.version for j in m.jetpack], lambda i: f"jetpack[{i}].version")


def gpu_names(c: Checker) -> None:
    seen_gpu: dict[str, tuple[int, str]] = {}
    for i, g in enumerate(c.m.gpus):
        cands = [(f"gpus[{i}].name", g.name)] + [(f"gpus[{i}].aliases[{j}]", a) for j, a in enumerate(g.aliases)]
        for key, gname in cands:
            norm = norm_gpu(gname)
            if not norm:
                c.add("error", key, f"GPU name {gname!r} is empty once normalised")
            elif norm in seen_gpu and seen_gpu[norm][0] != i:
                c.add("error", key, f"GPU name {gname!r} is already defined at {seen_gpu[norm][1]}")
            else:
                seen_gpu.setdefault(norm, (i, key))


def cuda(c: Checker) -> None:
    m = c.m
    for i, rel in enumerate(m.cuda):
        if rel.major not in m.cuda_majors:
            c.add("error", f"cuda[{i}].version", f"CUDA {rel.version} has no `cuda_majors:` record for major "
                  f"{rel.major}", f"defined majors: {', '.join(str(k) for k in sorted(m.cuda_majors))}")
        lo = m.cuda_min_cc(rel)
        if lo and rel.max_compute_capability and V(lo) > V(rel.max_compute_capability):
            c.add("error", f"cuda[{i}].max_compute_capability",
                  f"max compute capability {rel.max_compute_capability} is below the minimum {lo}")
        _archs_agree(c, f"cuda[{i}]", rel.architectures, None, rel.max_compute_capability)
        cm = m.cuda_majors.get(rel.major)
        if cm and rel.architectures and cc_key(min(rel.architectures, key=cc_key)) < cc_key(cm.min_compute_capability):
            c.add("error", f"cuda[{i}].architectures", f"CUDA {rel.version} lists an architecture below its major's "
                  f"floor {cm.min_compute_capability}")
    _cuda_drivers(c)


def _cuda_drivers(c: Checker) -> None:
    m = c.m
    by_major: dict[int, list[tuple[int, CudaRelease]]] = {}
    for i, rel in enumerate(m.cuda):
        by_major.setdefault(rel.major, []).append((i, rel))
    for rels in by_major.values():
        rels.sort(key=lambda ic: V(ic[1].version))
        for plat in PLATFORMS:
            prev: tuple[int, CudaRelease] | None = None
            for i, rel in rels:
                d = rel.min_driver.get(plat)
                if d is None:
                    continue
                if prev is not None and V(d) < V(prev[1].min_driver[plat]):
                    c.add("error", f"cuda[{i}].min_driver.{plat}",
                          f"CUDA {rel.version} needs driver {d}, lower than CUDA {prev[1].version}'s "
                          f"{prev[1].min_driver[plat]}", "minimum drivers never decrease with the CUDA version")
                prev = (i, rel)
    for i, cm in enumerate(m.cuda_majors.values()):
        for plat, d in cm.minor_compat_min_driver.items():
            for rel in m.cuda:
                full = rel.min_driver.get(plat)
                # the floor is for running later minors: X.0's own GA driver may lie below it (11.0: 450.51.05)
                if rel.major == cm.major and V(rel.version).release[1:2] != (0,) and full and V(full) < V(d):
                    c.add("error", f"cuda_majors[{i}].minor_compat_min_driver.{plat}",
                          f"minor-compatibility floor {d} is above CUDA {rel.version}'s full-support driver {full}")


def _archs_agree(c: Checker, key: str, archs: tuple[str, ...], lo: str | None, hi: str | None) -> None:
    """An explicit architecture list and a stated min/max must say the same."""
    if not archs:
        return
    keys = sorted(archs, key=cc_key)
    if hi and cc_key(hi) != cc_key(keys[-1]):
        c.add("error", f"{key}.max_compute_capability", f"max compute capability {hi} disagrees with "
              f"architectures (newest {keys[-1]})", "drop max_compute_capability: architectures decides")
    if lo and cc_key(lo) != cc_key(keys[0]):
        c.add("error", f"{key}.min_compute_capability", f"min compute capability {lo} disagrees with "
              f"architectures (oldest {keys[0]})", "drop min_compute_capability: architectures decides")


def _specs(c: Checker, key: str, specs: tuple[str, ...]) -> None:
    defined = ", ".join(x.version for x in c.m.cuda)
    for j, s in enumerate(specs):
        if not any(in_any((s,), x.version) for x in c.m.cuda):
            c.add("error", f"{key}.cuda[{j}]", f"no CUDA release matches {s!r} (defined: {defined})")


def cudnn(c: Checker) -> None:
    m = c.m
    for i, dn in enumerate(m.cudnn):
        _specs(c, f"cudnn[{i}]", dn.cuda)
        if dn.min_compute_capability and dn.max_compute_capability and \
                V(dn.min_compute_capability) > V(dn.max_compute_capability):
            c.add("error", f"cudnn[{i}].max_compute_capability",
                  f"max compute capability {dn.max_compute_capability} is below the minimum {dn.min_compute_capability}")
        if not dn.full_version.startswith(dn.version):
            c.add("error", f"cudnn[{i}].full_version", f"full_version {dn.full_version} does not start with "
                  f"{dn.version}")
        for cu in dn.pip:
            cmaj = int(cu[2:])
            if not any(x.major == cmaj and in_any(dn.cuda, x.version) for x in m.cuda):
                c.add("error", f"cudnn[{i}].pip.{cu}",
                      f"a {cu} wheel is named but cuDNN {dn.version} supports no CUDA {cmaj}.x")


def tensorrt(c: Checker) -> None:
    m = c.m
    for i, t in enumerate(m.tensorrt):
        key = f"tensorrt[{i}]"
        _specs(c, key, t.cuda)
        if t.max_compute_capability and V(t.min_compute_capability) > V(t.max_compute_capability):
            c.add("error", f"{key}.max_compute_capability",
                  f"max compute capability {t.max_compute_capability} is below the minimum {t.min_compute_capability}")
        if not t.full_version.startswith(t.version):
            c.add("error", f"{key}.full_version", f"full_version {t.full_version} does not start with {t.version}")
        for j, v in enumerate(t.other_versions):
            if V(v).release[:2] != V(t.version).release[:2] and V(v).release[:1] != V(t.version).release:
                c.add("error", f"{key}.other_versions[{j}]", f"{v} is not a release of the {t.version} line")
        for j, v in enumerate(t.cudnn_versions):
            if not any(in_any((v,), dr.version) or in_any((v,), dr.full_version) for dr in m.cudnn):
                c.add("warning", f"{key}.cudnn.versions[{j}]", f"no cuDNN record matches {v!r}")
        if t.cudnn_required and not t.cudnn_versions:
            c.add("error", f"{key}.cudnn", "cuDNN is required but no versions are listed")
        for name in t.precisions:
            if name not in m.precisions:
                c.add("error", f"{key}.precisions.{name}", f"unknown precision {name!r}",
                      did_you_mean(name, m.precisions))
        _route_uses(c, key, t)


def _route_uses(c: Checker, key: str, t: TensorRTRelease) -> None:
    m = c.m
    majors = {x.major for x in m.cuda if in_any(t.cuda, x.version)}
    seen_routes: set[str] = set()
    for j, ru in enumerate(t.routes):
        rkey = f"{key}.routes[{j}]"
        if ru.route not in m.routes:
            c.add("error", f"{rkey}.route", f"unknown route {ru.route!r}",
                  did_you_mean(ru.route, m.routes) or f"defined routes: {', '.join(m.routes)}")
        if ru.route in seen_routes:
            c.add("error", f"{rkey}.route", f"route {ru.route!r} is listed twice for TensorRT {t.version}")
        seen_routes.add(ru.route)
        if not ru.cuda_majors:
            c.add("error", f"{rkey}.cuda_majors", "a route must name at least one CUDA major")
        for ci, rmaj in enumerate(ru.cuda_majors):
            if rmaj not in majors:
                c.add("error", f"{rkey}.cuda_majors[{ci}]", f"CUDA {rmaj} is not a CUDA major TensorRT {t.version} "
                      f"supports (its cuda: {', '.join(t.cuda)})")
        if not ru.conda and not ru.pip:
            c.add("error", rkey, "a route use must give conda or pip packages")


def routes(c: Checker) -> None:
    m = c.m
    for i, r in enumerate(m.routes.values()):
        for j, ix in enumerate(r.pip_indexes):
            if ix not in m.pip_indexes:
                c.add("error", f"routes[{i}].pip_indexes[{j}]", f"unknown pip index {ix!r}",
                      did_you_mean(ix, m.pip_indexes) or f"defined: {', '.join(m.pip_indexes)}")
    for i, p in enumerate(m.precisions.values()):
        if not p.name.islower():
            c.add("warning", f"precisions[{i}].name", f"precision names are lower case, got {p.name!r}")


def _trt_for(m: Matrix, version: str) -> TensorRTRelease | None:
    """The TensorRT record whose line a full version belongs to (longest line prefix)."""
    want = V(version).release
    matches = [t for t in m.tensorrt if want[: len(V(t.version).release)] == V(t.version).release]
    if not matches:
        return None
    return max(matches, key=lambda t: (len(V(t.version).release), V(t.version)))


def ngc(c: Checker) -> None:
    m = c.m
    defined = ", ".join(x.version for x in m.cuda)
    for i, n in enumerate(m.ngc):
        key = f"ngc[{i}]"
        trt = _trt_for(m, n.tensorrt)
        if trt is None:
            c.add("error", f"{key}.tensorrt", f"no TensorRT line matches {n.tensorrt!r}",
                  f"defined: {', '.join(t.version for t in m.tensorrt)}")
        if m.cuda_release(n.cuda) is None:
            c.add("error", f"{key}.cuda", f"no CUDA release matches {n.cuda!r} (defined: {defined})")
        elif trt is not None and not in_any(trt.cuda, major_minor(n.cuda)):
            c.add("warning", f"{key}.cuda", f"TensorRT {trt.version} does not list CUDA {major_minor(n.cuda)} "
                  f"(its cuda: {', '.join(trt.cuda)}): an NGC-only build")
        if n.cudnn and m.cudnn_release(n.cudnn) is None:
            c.add("warning", f"{key}.cudnn", f"no cuDNN record matches {n.cudnn!r}")


def jetpack(c: Checker) -> None:
    m = c.m
    for i, j in enumerate(m.jetpack):
        key = f"jetpack[{i}]"
        if m.cuda_release(j.cuda) is None:
            c.add("error", f"{key}.cuda", f"no CUDA release matches {j.cuda!r}")
        if _trt_for(m, j.tensorrt) is None:
            c.add("warning", f"{key}.tensorrt", f"no TensorRT line matches {j.tensorrt!r}")
        if j.cudnn and m.cudnn_release(j.cudnn) is None:
            c.add("warning", f"{key}.cudnn", f"no cuDNN record matches {j.cudnn!r}")


# -- cross-record contradictions --------------------------------------------------------------------

def ngc_architecture(c: Checker) -> None:
    """An NGC stack cannot run on GPUs its TensorRT does not support."""
    for i, n in enumerate(c.m.ngc):
        trt = _trt_for(c.m, n.tensorrt)
        if trt and n.min_compute_capability and cc_key(n.min_compute_capability) < cc_key(trt.min_compute_capability):
            c.add("error", f"ngc[{i}].min_compute_capability",
                  f"NGC {n.tag} claims compute capability {n.min_compute_capability}, below its TensorRT "
                  f"{trt.version}'s minimum {trt.min_compute_capability}",
                  f"a container runs only where its TensorRT does: {trt.min_compute_capability} or newer")


def cudnn_coverage(c: Checker) -> None:
    """Every CUDA a TensorRT release allows must have one of its cuDNN versions built for it."""
    m = c.m
    for i, t in enumerate(m.tensorrt):
        if not t.cudnn_versions:
            continue
        lines = [d for d in m.cudnn if any(in_any((v,), d.version) or in_any((v,), d.full_version)
                                           for v in t.cudnn_versions)]
        if not lines:
            continue
        bare = [x.version for x in m.cuda_versions_for(t.cuda) if not any(in_any(d.cuda, x.version) for d in lines)]
        if bare:
            sev = "error" if t.cudnn_required else "info"  # optional cuDNN (10.x+) serves plugins only
            c.add(sev, f"tensorrt[{i}].cudnn.versions",
                  f"TensorRT {t.version} allows CUDA {', '.join(bare)} but its cuDNN "
                  f"{', '.join(d.version for d in lines)} has no build for {'it' if len(bare) == 1 else 'them'}",
                  "list a cuDNN release built for those CUDA versions, or narrow the CUDA range")


def architecture_coverage(c: Checker) -> None:
    """A TensorRT architecture needs a CUDA release the TensorRT allows that builds for it."""
    m = c.m
    for i, t in enumerate(m.tensorrt):
        _archs_agree(c, f"tensorrt[{i}]", t.architectures, None, None)
        cudas = m.cuda_versions_for(t.cuda)
        for j, a in enumerate(t.architectures):
            if cudas and not any(m.cuda_arch_verdict(x, a) == "supported" for x in cudas):
                c.add("error", f"tensorrt[{i}].architectures[{j}]",
                      f"TensorRT {t.version} lists compute capability {a} but none of its CUDA releases "
                      f"({', '.join(x.version for x in cudas)}) builds for it")


def precision_scope(c: Checker) -> None:
    """A per-release precision floor must be an architecture the release supports."""
    for i, t in enumerate(c.m.tensorrt):
        for name, floor in t.precisions.items():
            if floor == UNSUPPORTED or not t.max_compute_capability:
                continue
            if cc_key(floor) > cc_key(t.max_compute_capability):
                c.add("error", f"tensorrt[{i}].precisions.{name}",
                      f"{name} from compute capability {floor}, above TensorRT {t.version}'s newest "
                      f"{t.max_compute_capability}", f"write `{name}: {UNSUPPORTED}` if the release lacks it")


def legacy_consistency(c: Checker) -> None:
    """A current release must not depend only on legacy ones (resolve would have nothing to propose)."""
    m = c.m
    for i, t in enumerate(m.tensorrt):
        cudas = m.cuda_versions_for(t.cuda)
        if not t.legacy and cudas and all(x.legacy for x in cudas):
            c.add("error", f"tensorrt[{i}].legacy", f"TensorRT {t.version} is current but every CUDA it allows is "
                  "legacy", "mark it `legacy: true`")


RULES: list[tuple[str, Callable[[Checker], None]]] = [
    ("sources", sources),
    ("duplicates", duplicates),
    ("gpu-names", gpu_names),
    ("cuda", cuda),
    ("cudnn", cudnn),
    ("tensorrt", tensorrt),
    ("routes", routes),
    ("ngc", ngc),
    ("jetpack", jetpack),
    ("ngc-architecture", ngc_architecture),
    ("cudnn-coverage", cudnn_coverage),
    ("architecture-coverage", architecture_coverage),
    ("precision-scope", precision_scope),
    ("legacy-consistency", legacy_consistency),
]
