"""Evidence extraction for ``envkit validate``: what an environment file says about its stack.

Every conda spec, pip requirement and channel that tells something about the CUDA, cuDNN,
TensorRT or Python version becomes an :class:`Evidence` record with its line. Only naming
conventions live here (``-cu12`` means a CUDA 12 build, ``+cu124`` a CUDA 12.4 wheel,
``cuda10.2.89`` in a build string the CUDA it was built with); compatibility facts come
from the matrix (``envkit.validate.rules_stack``, ``envkit.validate.rules_host``). The lowest layer of
validate: it also holds :class:`Finding` and what the rule modules share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envkit.envfile import CondaDep, EnvFile, PipDep, conda_version_match
from envkit.matrix.model import Matrix
from envkit.versions import V, is_version

SEVERITIES = ("error", "warning", "info")

# component names
CUDA, CUDNN, TRT, PYTHON = "cuda", "cudnn", "tensorrt", "python"

# conda packages whose version is the CUDA version (major.minor)
CONDA_CUDA = {
    "cuda-version": 0,
    "cudatoolkit": 0,
    "cudatoolkit-dev": 1,
    "cuda-toolkit": 1,
    "cuda-runtime": 1,
    "cuda-cudart": 1,
    "cuda-cudart-dev": 1,
    "cuda-libraries": 1,
    "cuda-libraries-dev": 1,
    "cuda-nvcc": 1,
    "cuda-nvrtc": 1,
    "cuda": 1,
    "pytorch-cuda": 2,
}
CONDA_CUDNN = {"cudnn", "libcudnn", "libcudnn-dev"}
_CONDA_TRT = re.compile(r"^(tensorrt|tensorrt-tools|libnvinfer(-[a-z0-9-]+)?|libnvonnxparser(-[a-z0-9-]+)?)$")
_PIP_TRT = re.compile(r"^tensorrt(?:-(?:lean|dispatch))?(?:-cu(?P<cu>\d+))?(?:-(?P<part>libs|bindings))?$")
_PIP_CUDNN = re.compile(r"^nvidia-cudnn(?:-cu(?P<cu>\d+))?$")
_PIP_CUDART = re.compile(r"^nvidia-cuda-runtime(?:-cu(?P<cu>\d+))?$")
_PIP_CU_SUFFIX = re.compile(r"^[a-z0-9][a-z0-9-]*-cu(?P<cu>\d{2})$")
_PIP_CUPY = re.compile(r"^cupy-cuda(?P<cu>\d{2,3})(?P<x>x)?$")
_LOCAL_CU = re.compile(r"^\+cu(?P<cu>\d{2,3})$")
_BUILD_CUDA = re.compile(r"(?:^|[_\-.*])cuda_?(?P<v>\d+(?:\.\d+)+|\d{2,3})(?=$|[_a-z\-])")
_BUILD_CUDNN = re.compile(r"(?:^|[_\-.*])cudnn_?(?P<v>\d+(?:\.\d+)+)")
_LABEL_CUDA = re.compile(r"(?:^|/)label/cuda-(?P<v>\d+\.\d+(?:\.\d+)?)$")
_TORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/)?cu(?P<cu>\d{2,3})\b")

# CUDA evidence origins, most authoritative first (the first versioned one is the environment's CUDA)
ORIGIN_RANK = {
    "conda": 0,
    "conda-component": 1,
    "pytorch-cuda": 2,
    "channel-label": 3,
    "pip-runtime": 4,
    "local-tag": 5,
    "build-string": 6,
    "index-url": 7,
    "pip-suffix": 8,
    "trt-suffix": 9,
    "cudnn-suffix": 10,
}


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | info
    line: int | None
    code: str
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "line": self.line, "code": self.code, "message": self.message,
                "hint": self.hint}


@dataclass(frozen=True)
class Evidence:
    """One statement of the file about a stack component."""

    component: str  # cuda | cudnn | tensorrt | python
    package: str  # the package (or channel) that says it
    source: str  # the text as written, for messages
    line: int | None
    origin: str  # conda | conda-component | pip | pip-runtime | local-tag | build-string | ...
    version: str | None = None  # one version ("11.8", "8.9.7", "10.3.0.26"), None for ranges/unpinned
    spec: str | None = None  # the version constraint as written, None when unpinned
    major: int | None = None  # known even when the version is not (``-cu12``)
    manager: str = "conda"  # conda | pip
    pinned: bool = False  # a single version, or a range with an upper bound

    def admits(self, version: str) -> bool | None:
        """Does this evidence's constraint allow ``version``? None when it cannot tell."""
        if self.version is not None:
            return _prefix_eq(self.version, version)
        if not self.spec:
            return True if self.major is None else _safe_major(version) == self.major
        try:
            if self.manager == "pip":
                return SpecifierSet(self.spec).contains(version, prereleases=True)
            return conda_version_match(self.spec, version)
        except (ValueError, InvalidSpecifier):
            return None



def _safe_major(version: str) -> int | None:
    try:
        return V(version).release[0]
    except ValueError:
        return None


def same_release(a: str, b: str) -> bool:
    """'11.8' vs '11.8.0' -> True (compare on the shorter release); ValueError on junk."""
    ra, rb = V(a).release, V(b).release
    n = min(len(ra), len(rb))
    return ra[:n] == rb[:n]


def _prefix_eq(pinned: str, version: str) -> bool | None:
    """``same_release``, None when either is not a version."""
    try:
        return same_release(pinned, version)
    except ValueError:
        return None


def cu_digits(digits: str) -> str | None:
    """'124' -> '12.4', '118' -> '11.8', '92' -> '9.2' (the ``cuXYZ`` naming convention)."""
    if len(digits) == 3:
        return f"{int(digits[:2])}.{digits[2]}"
    if len(digits) == 2:
        return f"{digits[0]}.{digits[1]}"
    return None


def short(version: str, parts: int = 2) -> str:
    """'10.2.89' -> '10.2'."""
    try:
        rel = V(version).release
    except ValueError:
        return version
    rel = rel + (0,) * (parts - len(rel)) if len(rel) < parts else rel
    return ".".join(str(x) for x in rel[:parts])



def _is_version(text: str | None) -> bool:
    return bool(text) and is_version(text or "")


def _has_upper_bound(spec: str) -> bool:
    s = spec.replace(" ", "")
    if "|" in s:
        return all(_has_upper_bound(alt) for alt in s.split("|"))
    terms = [t for t in s.split(",") if t]
    for t in terms:
        if t.startswith(("<", "~=")) or (t.startswith("==") and "*" in t):
            return True
        if not t.startswith((">", "!")) and t not in ("*",):
            return True  # =1.2, 1.2.*, ==1.2: a release line
    return False


def conda_pin(dep: CondaDep) -> tuple[str | None, str | None, bool]:
    """(single version or None, spec as written, pinned?) of a conda dependency."""
    if not dep.version or dep.version.strip() in ("*", ""):
        return None, None, False
    exact = dep.exact_or_prefix
    if exact is not None and _is_version(exact):
        return exact, dep.version, True
    return None, dep.version, _has_upper_bound(dep.version)


def pip_pin(dep: PipDep) -> tuple[str | None, str | None, bool]:
    if not dep.specifier:
        return None, None, False
    pv = dep.pinned_version
    if pv and "*" not in pv and _is_version(pv):
        return pv, dep.specifier, True
    if pv and pv.endswith(".*") and _is_version(pv[:-2]):
        return pv[:-2], dep.specifier, True
    return None, dep.specifier, _has_upper_bound(dep.specifier)


def _major_of(version: str | None) -> int | None:
    return _safe_major(version) if version else None


# ---- collection --------------------------------------------------------------------------------


def collect(env: EnvFile) -> tuple[list[Evidence], list[Finding]]:
    """Every piece of stack evidence in the file, plus info findings for specs it could not read."""
    out: list[Evidence] = []
    notes: list[Finding] = [
        Finding("info", line, "unparsed-spec", f"could not interpret {raw!r}: {why}; it is left out of the checks")
        for line, raw, why in env.unparsed
    ]
    for i, ch in enumerate(env.channels):
        m = _LABEL_CUDA.search(ch.strip())
        if m:
            line = env.channel_lines[i] if i < len(env.channel_lines) else None
            out.append(_ev(CUDA, ch, ch, line, "channel-label", version=short(m.group("v"))))
    for dep in env.conda:
        try:
            out.extend(_from_conda(dep))
        except Exception as exc:  # never crash on an odd spec
            notes.append(Finding("info", dep.line, "unparsed-spec", f"could not interpret {dep.raw!r}: {exc}"))
    torch_tagged = any(
        d.name in ("torch", "torchvision", "torchaudio") and d.local and _LOCAL_CU.match(d.local) for d in env.pip
    )
    for pdep in env.pip:
        try:
            out.extend(_from_pip(pdep, env, torch_tagged))
        except Exception as exc:
            notes.append(Finding("info", pdep.line, "unparsed-spec", f"could not interpret {pdep.raw!r}: {exc}"))
    return out, notes


def _ev(component: str, package: str, source: str, line: int | None, origin: str, **kw: Any) -> Evidence:
    version = kw.get("version")
    if version is not None and "major" not in kw:
        kw["major"] = _major_of(version)
    return Evidence(component=component, package=package, source=source.strip(), line=line, origin=origin, **kw)


def _from_conda(dep: CondaDep) -> Iterable[Evidence]:
    name = dep.name.lower()
    version, spec, pinned = conda_pin(dep)
    src = dep.raw
    if dep.channel:
        m = _LABEL_CUDA.search(dep.channel)
        if m:
            yield _ev(CUDA, dep.channel, dep.channel, dep.line, "channel-label", version=short(m.group("v")))
    if name in CONDA_CUDA:
        origin = {0: "conda", 1: "conda-component", 2: "pytorch-cuda"}[CONDA_CUDA[name]]
        yield _ev(CUDA, name, src, dep.line, origin, version=short(version) if version else None, spec=spec,
                  pinned=pinned)
    elif name in CONDA_CUDNN:
        yield _ev(CUDNN, name, src, dep.line, "conda", version=version, spec=spec, pinned=pinned)
    elif _CONDA_TRT.match(name):
        yield _ev(TRT, name, src, dep.line, "conda", version=version, spec=spec, pinned=pinned)
    elif name == "python":
        yield _ev(PYTHON, name, src, dep.line, "conda", version=short(version) if version else None, spec=spec,
                  pinned=pinned)
    if dep.build:
        b = dep.build.lower()
        m = _BUILD_CUDA.search(b)
        if m and name not in CONDA_CUDA:
            v = m.group("v")
            cv = short(v) if "." in v else cu_digits(v)
            if cv:
                yield _ev(CUDA, name, src, dep.line, "build-string", version=cv, pinned=True)
        m = _BUILD_CUDNN.search(b)
        if m and name not in CONDA_CUDNN:
            yield _ev(CUDNN, name, src, dep.line, "build-string", version=m.group("v"), pinned=True)


def _pip_ev(component: str, dep: PipDep, origin: str, **kw: Any) -> Evidence:
    return _ev(component, dep.name or "", dep.raw, dep.line, origin, manager="pip", **kw)


def _from_pip(dep: PipDep, env: EnvFile, torch_tagged: bool) -> Iterable[Evidence]:
    if not dep.name:
        if dep.option and not torch_tagged and any(d.name in ("torch", "torchvision", "torchaudio") for d in env.pip):
            m = _TORCH_INDEX.search(dep.option)
            if m and cu_digits(m.group("cu")):
                yield _ev(CUDA, "torch", dep.raw, dep.line, "index-url", version=cu_digits(m.group("cu")),
                          manager="pip")
        return
    name = dep.name
    version, spec, pinned = pip_pin(dep)
    m = _PIP_TRT.match(name)
    if m or name == "nvidia-tensorrt":
        cu = m.group("cu") if m else None
        yield _pip_ev(TRT, dep, "pip", version=version, spec=spec, pinned=pinned)
        if cu:
            yield _pip_ev(CUDA, dep, "trt-suffix", major=int(cu))
        return
    m = _PIP_CUDNN.match(name)
    if m:
        yield _pip_ev(CUDNN, dep, "pip", version=version, spec=spec, pinned=pinned)
        if m.group("cu"):
            yield _pip_ev(CUDA, dep, "cudnn-suffix", major=int(m.group("cu")))
        return
    m = _PIP_CUDART.match(name)
    if m:
        cu = int(m.group("cu")) if m.group("cu") else None
        yield _pip_ev(CUDA, dep, "pip-runtime", version=short(version) if version else None, spec=spec,
                      pinned=pinned, major=cu if cu is not None else _major_of(version))
        return
    if dep.local:
        lm = _LOCAL_CU.match(dep.local)
        if lm and cu_digits(lm.group("cu")):
            yield _pip_ev(CUDA, dep, "local-tag", version=cu_digits(lm.group("cu")), pinned=True)
            return
    m = _PIP_CU_SUFFIX.match(name)
    if m:
        yield _pip_ev(CUDA, dep, "pip-suffix", major=int(m.group("cu")))
        return
    m = _PIP_CUPY.match(name)
    if m:
        digits = m.group("cu")
        if m.group("x"):
            yield _pip_ev(CUDA, dep, "pip-suffix", major=int(digits))
        elif cu_digits(digits):
            yield _pip_ev(CUDA, dep, "pip-suffix", version=cu_digits(digits))


# ---- helpers for the rules ----------------------------------------------------------------------


def of(evidence: list[Evidence], component: str, origins: Iterable[str] | None = None) -> list[Evidence]:
    wanted = set(origins) if origins is not None else None
    return [e for e in evidence if e.component == component and (wanted is None or e.origin in wanted)]


def primary(evidence: list[Evidence]) -> Evidence | None:
    """The most authoritative evidence carrying a version; else one carrying a major; else any."""
    ranked = sorted(evidence, key=lambda e: (ORIGIN_RANK.get(e.origin, 50), e.line or 10**9))
    for e in ranked:
        if e.version:
            return e
    for e in ranked:
        if e.major is not None:
            return e
    return ranked[0] if ranked else None


def where(e: Evidence) -> str:
    return f"{e.source} at line {e.line}" if e.line else e.source


class _Versioned(Protocol):
    @property
    def version(self) -> str: ...


_Rec = TypeVar("_Rec", bound=_Versioned)


def by_version(records: Iterable[_Rec]) -> list[_Rec]:
    """Matrix records (``.version``) oldest first."""
    return sorted(records, key=lambda rec: V(rec.version))


class RuleContext(Protocol):
    """What the rule modules need from the checker (``envkit.validate.rules_stack.Checker``)."""

    env: EnvFile
    m: Matrix
    ev: list[Evidence]

    def add(self, severity: str, line: int | None, code: str, message: str, hint: str | None = None) -> None: ...
