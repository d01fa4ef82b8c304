"""CUDA rules of ``envkit validate``: one CUDA for the whole environment.

Codes: cuda-major-conflict (two CUDA majors: ONE error naming the packages on each side),
cuda-minor-mismatch (same major, other minors: an error only where two conda pins cannot both be met,
else one warning), cuda-component-unpinned (a CUDA component that floats to the newest CUDA),
eol-cuda (older than any TensorRT 10 or later supports: a warning with what to move to),
unknown-version (a CUDA the matrix has no record of), cpu-build (a framework's CPU build next to CUDA).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envkit.validate.evidence_model import CPU, CUDA, Evidence, label, of, short, where
from envkit.versions import V, in_any

if TYPE_CHECKING:
    from envkit.validate.rules_stack import Checker

# origins that are real CUDA pins of the environment (not inferred from a wheel's naming)
_SELECTORS = ("cuda-version", "cudatoolkit")
_SUFFIX_ONLY = ("trt-suffix", "cudnn-suffix")
MAX_NAMED = 4


def _names(evs: list[Evidence]) -> str:
    seen: list[str] = []
    for e in evs:
        text = f"{label(e)} (line {e.line})" if e.line else label(e)
        if text not in seen:
            seen.append(text)
    more = len(seen) - MAX_NAMED
    return ", ".join(seen[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


def _vkey(v: str) -> tuple[int, ...]:
    try:
        return V(v).release
    except ValueError:
        return (0,)


def cuda_rules(c: Checker) -> None:
    evs = [e for e in of(c.ev, CUDA) if e.origin not in _SUFFIX_ONLY]
    if not evs:
        _cpu_builds(c)
        return
    by_major: dict[int, list[Evidence]] = {}
    for e in of(c.ev, CUDA):
        if e.major is not None and e.origin != "trt-suffix":  # TensorRT's own CUDA: trt-cuda-mismatch
            by_major.setdefault(e.major, []).append(e)
    main = c.cuda.major if c.cuda is not None and c.cuda.major is not None else None
    if len(by_major) > 1 and c.tr is not None and c.trt is not None:
        # a TensorRT release built for one CUDA major only (8.5: CUDA 11) sides with that major
        majors = {r.major for r in c.m.cuda if _in(c.tr.cuda, r.version)}
        if len(majors) == 1 and (m := majors.pop()) in by_major:
            by_major[m].append(c.trt)
    if len(by_major) > 1:
        _major_conflict(c, by_major, main)
    else:
        _minor_mix(c, evs)
    _ranges(c, evs)
    _components_unpinned(c)
    _cuda_known(c)
    _cpu_builds(c)


def _major_conflict(c: Checker, by_major: dict[int, list[Evidence]], primary: int | None) -> None:
    """Two CUDA majors in one file: one error, the root cause first (the side with fewer packages)."""
    ranked = sorted(by_major, key=lambda k: (len({e.package for e in by_major[k]}), k == primary))
    odd, keep = ranked[0], ranked[-1]
    sides = "; ".join(f"CUDA {k}: {_names(by_major[k])}" for k in sorted(by_major, reverse=True))
    odd_evs = by_major[odd]
    line = min((e.line for e in odd_evs if e.line), default=None)
    names = ", ".join(dict.fromkeys(e.package for e in odd_evs))
    c.add("error", line, "cuda-major-conflict",
          f"this environment mixes CUDA majors ({sides}): libraries of two CUDA majors do not load together",
          f"keep CUDA {keep}: replace or drop {names} (the CUDA {odd} side), or move the rest to CUDA {odd}")


def _minor_mix(c: Checker, evs: list[Evidence]) -> None:
    """Same major, other minors: conda pins that cannot both hold are an error; builds for another minor
    (or an exported environment that did solve) run by minor-version compatibility: one warning."""
    p = c.cuda
    if p is None or not p.version:
        return
    want = short(p.version)
    other = [e for e in evs if e is not p and e.version and short(e.version) != want]
    if not other:
        return
    hard = [e for e in other if _cannot_both(e, p)]
    if hard:
        c.add("error", hard[0].line, "cuda-minor-mismatch",
              f"{_names(hard)} ask(s) for CUDA {short(hard[0].version or '')} but {where(p)} pins CUDA {want}: "
              "the conda solver cannot satisfy both", f"pin one CUDA version ({p.package}={want}) and leave the "
              "other CUDA packages unpinned or equal")
    soft = [e for e in other if e not in hard]
    if soft:
        minors = ", ".join(sorted({short(e.version or "") for e in soft}, key=_vkey))
        c.add("warning", soft[0].line, "cuda-minor-mismatch",
              f"CUDA {minors} builds in a CUDA {want} environment ({where(p)}): {_names(soft)}. Same major, so they "
              "run (minor-version compatibility), but they bring their own CUDA libraries beside the environment's",
              f"prefer builds for CUDA {want} where they exist, or pin CUDA {minors.split(', ')[0]}")


def _cannot_both(e: Evidence, p: Evidence) -> bool:
    """Two conda pins no solve can meet: two CUDA selectors (cuda-version, cudatoolkit) on different minors, or
    a component (cuda-cudart=12.1) against cuda-version (conda-forge's components depend on cuda-version of
    their own minor); an exported file (build strings on both) did solve, so it is not this."""
    if e.manager != "conda" or p.manager != "conda" or (_exported(e) and _exported(p)):
        return False
    names = {e.package, p.package}
    if names <= set(_SELECTORS):
        return True
    return "cuda-version" in names and "conda-component" in (e.origin, p.origin)


def _exported(e: Evidence) -> bool:
    """A spec with a build string comes from `conda env export`: that environment solved once."""
    return e.source.count("=") >= 2 and not e.source.split("=")[-1].strip().startswith(("<", ">"))


def _ranges(c: Checker, evs: list[Evidence]) -> None:
    p = c.cuda
    if p is None or not p.version:
        return
    for e in evs:
        if e is p or e.version or not e.spec or e.manager != "conda" or p.manager != "conda":
            continue
        if e.admits(p.version) is False and e.origin != "channel-label":
            c.add("error", e.line, "cuda-major-conflict", f"{e.source} does not admit CUDA {p.version} pinned by "
                  f"{where(p)}", "make the CUDA constraints agree")


def _components_unpinned(c: Checker) -> None:
    """An unpinned CUDA component (cuda-nvcc) with no cuda-version pin takes the newest CUDA on the channel."""
    if any(d.name.lower() == "cuda-version" and d.version for d in c.env.conda):
        return
    p = c.cuda
    if p is None or not (p.version or p.major):
        return
    labels = of(c.ev, CUDA, ("channel-label",))  # nvidia/label/cuda-11.8.0 serves one CUDA release only
    for e in of(c.ev, CUDA, ("conda-component",)):
        if e.version or e.spec or any(lb.line == e.line or lb.package in c.env.channels for lb in labels):
            continue
        want = short(p.version) if p.version else f"{p.major}.*"
        c.add("warning", e.line, "cuda-component-unpinned",
              f"{e.source} is not pinned and nothing pins cuda-version: it takes the newest CUDA on its channel, "
              f"not the CUDA {p.version or p.major} of {where(p)}", f"pin it: {e.package}={want}")


def _cuda_known(c: Checker) -> None:
    p = c.cuda_any
    if p is None:
        return
    known = sorted({r.version for r in c.m.cuda}, key=_vkey)
    if not p.version:
        if p.major is not None and p.major not in c.m.cuda_majors:
            c.add("warning" if c.trt is not None else "info", p.line, "unknown-version",
                  f"CUDA {p.major} (from {p.source}) is not a CUDA major the matrix knows "
                  f"({', '.join(str(k) for k in sorted(c.m.cuda_majors))})")
        return
    if p.origin == "pypi-default":
        return  # the CUDA a framework's PyPI build was made with: the framework's choice, not the file's pin
    v = short(p.version)
    floor = eol_floor(c)
    rel = c.m.cuda_release(v)
    if rel is not None and getattr(rel, "legacy", False):
        _legacy_cuda(c, p, v)
    elif floor and V(v) < V(floor):
        newest = [t for t in c.m.tensorrt if _in(t.cuda, v)]
        trt = f"; the newest TensorRT for CUDA {v} is {max(newest, key=lambda t: V(t.version)).version}" if newest else ""
        c.add("warning", p.line, "eol-cuda",
              f"CUDA {v} ({label(p)}) is end of life for this stack: TensorRT 10 and later need CUDA {floor} or "
              f"newer{trt}", f"move to CUDA {floor} (the last CUDA {V(floor).release[0]}) or a newer major, with "
              "the framework builds for it")
    elif c.m.cuda_release(v) is None:
        trts = [t.version for t in c.m.tensorrt if _in(t.cuda, v)]
        extra = f"; TensorRT {', '.join(trts)} list it as supported" if trts else ""
        c.add("warning" if c.trt is not None else "info", p.line, "unknown-version",
              f"CUDA {v} ({label(p)}) is not in the matrix (it knows {', '.join(known)}), so there are no "
              f"driver or GPU facts for it{extra}")


def _legacy_cuda(c: Checker, p: Evidence, v: str) -> None:
    """A legacy CUDA (matrix `legacy: true`): known facts, but nothing current builds on it."""
    current = sorted((r.version for r in c.m.cuda if not r.legacy), key=_vkey)
    trts = sorted(c.m.tensorrt, key=lambda t: _vkey(t.version))
    current_trt = [t.version for t in trts if not t.legacy and _in(t.cuda, v)]
    old_trt = [t.version for t in trts if t.legacy and _in(t.cuda, v)]
    if current_trt:
        why = f"only TensorRT {', '.join(current_trt)} still list it"
    elif old_trt:
        why = f"no current TensorRT supports it (last: TensorRT {old_trt[-1]}, itself legacy)"
    else:
        why = "no TensorRT release in the matrix supports it"
    first12 = next((x for x in current if x.startswith("12.")), None)
    c.add("warning", p.line, "eol-cuda", f"CUDA {v} ({label(p)}) is a legacy release: {why}; envkit never proposes it",
          (f"move to CUDA {current[0]}" + (f" or {first12}+" if first12 else "")) if current else None)


def eol_floor(c: Checker) -> str | None:
    """The oldest CUDA any TensorRT >= 10 in the matrix supports (11.8): older CUDA is end of life."""
    ok = [r.version for r in c.m.cuda if not r.legacy and any(
        V(t.version).release[0] >= 10 and _in(t.cuda, r.version) for t in c.m.tensorrt)]
    return min(ok, key=_vkey) if ok else None


def _in(specs: tuple[str, ...], version: str) -> bool:
    try:
        return in_any(specs, version)
    except ValueError:
        return False


def _cpu_builds(c: Checker) -> None:
    cpu = of(c.ev, CPU)
    if not cpu:
        return
    cuda = [e for e in of(c.ev, CUDA) if e.manager == "conda"]
    first = cpu[0]
    if cuda:
        c.add("warning", first.line, "cpu-build",
              f"{_names(cpu)}: the CPU build of the framework, so it uses no GPU although the file installs CUDA "
              f"({_names(cuda[:2])})", "pin the CUDA build (e.g. pytorch-cuda=X or a *cuda* build string), or drop "
              "the CUDA packages")
    else:
        c.add("info", first.line, "cpu-build", f"{_names(cpu)}: a CPU build of the framework; this environment "
              "uses no GPU")
