"""Evidence extraction for ``envkit validate``: what an environment file says about its stack.

Every conda spec, pip requirement and channel that tells something about the CUDA, cuDNN,
TensorRT or Python version becomes an :class:`Evidence` record (``envkit.validate.evidence_model``) with
its line. Only naming conventions live here (``-cu12`` means a CUDA 12 build, ``+cu124`` a CUDA 12.4 wheel,
``cuda10.2.89`` in a build string the CUDA it was built with); compatibility facts come
from the matrix (``envkit.validate.rules_*``) and ``envkit.validate.facts`` (which CUDA a framework's
default PyPI build carries).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from envkit.envfile import CondaDep, EnvFile, PipDep
from envkit.validate.evidence_model import (  # noqa: F401 - re-exported for the rule modules
    CPU,
    CUDA,
    CUDNN,
    ORIGIN_RANK,
    PYTHON,
    SEVERITIES,
    TRT,
    Evidence,
    Finding,
    RuleContext,
    _safe_major,
    by_version,
    cu_digits,
    of,
    primary,
    same_release,
    short,
    where,
)
from envkit.versions import is_version

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
    "nvcc_linux-64": 1,  # conda-forge's old nvcc wrapper: its version is the CUDA it wraps
    "cuda": 1,
    "pytorch-cuda": 2,
}
CONDA_CUDNN = {"cudnn", "libcudnn", "libcudnn-dev"}
_CPU_FRAMEWORKS = {"pytorch", "torchvision", "torchaudio", "libtorch", "tensorflow", "tensorflow-base", "jaxlib",
                   "onnxruntime", "pytorch-mutex", "_pytorch_select"}
_CONDA_TRT = re.compile(r"^(tensorrt|tensorrt-tools|libnvinfer(-[a-z0-9-]+)?|libnvonnxparser(-[a-z0-9-]+)?)$")
_PIP_TRT = re.compile(r"^tensorrt(?:-(?:lean|dispatch))?(?:-cu(?P<cu>\d+))?(?:-(?P<part>libs|bindings))?$")
_PIP_CUDNN = re.compile(r"^nvidia-cudnn(?:-cu(?P<cu>\d+))?$")
_PIP_CUDART = re.compile(r"^nvidia-cuda-runtime(?:-cu(?P<cu>\d+))?$")
_PIP_CU_SUFFIX = re.compile(r"^[a-z0-9][a-z0-9-]*-cu(?P<cu>\d{2})$")
_PIP_CUPY = re.compile(r"^cupy-cuda(?P<cu>\d{2,3})(?P<x>x)?$")
_LOCAL_CU = re.compile(r"^\+cu(?P<cu>\d{2,3})$")
_LOCAL_JAX = re.compile(r"^\+cuda(?P<cu>\d{2,3})(?:\.cudnn(?P<dnn>\d{2,3}))?$")  # jaxlib 0.4.23+cuda11.cudnn86
# CUDA in a package name: dgl-cuda11.1 (version), jax-cuda12-plugin (major), pytorch's old cuda92 selector packages
_NAME_CUDA_VERSION = re.compile(r"^[a-z0-9][a-z0-9_.-]*?-cuda(?P<v>\d+\.\d+)$")
_NAME_CUDA_MAJOR = re.compile(r"^[a-z0-9][a-z0-9_.]*-cuda(?P<cu>\d{2})(?:-[a-z0-9-]+)?$")
_SELECTOR_PKG = re.compile(r"^cuda(?P<cu>\d{2,3})$")
_EXTRA_CUDA = re.compile(r"\[[^\]]*\bcuda(?P<cu>\d{2})(?:_[a-z]+)?\b[^\]]*\]")
_BRACKET_CUDA = re.compile(r"\[\s*cuda(?P<cu>\d{2,3})\s*\]\s*$")
_CPU_BUILD = re.compile(r"(?:^|[_\-.*])cpu(?:$|[_\-.*])")
_BUILD_CUDA = re.compile(r"(?:^|[_\-.*])cuda_?(?P<v>\d+(?:\.\d+)+|\d{2,3})(?=$|[_a-z\-*])")
_BUILD_CUDNN = re.compile(r"(?:^|[_\-.*])cudnn_?(?P<v>\d+(?:\.\d+)+)")
_LABEL_CUDA = re.compile(r"(?:^|/)label/cuda-(?P<v>\d+\.\d+(?:\.\d+)?)$")
_TORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/)?cu(?P<cu>\d{2,3})\b")

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
    if version is not None and "." not in version and version.isdigit() and name in (*CONDA_CUDA, "python"):
        # conda's `python=3` is any 3.x and `cudatoolkit=11` any 11.x: a major, not 3.0 / 11.0
        yield from _major_only(name, src, dep.line, int(version))
        return
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
    elif name in ("python", "cpython"):
        yield _ev(PYTHON, name, src, dep.line, "conda", version=short(version) if version else None, spec=spec,
                  pinned=pinned)
    yield from _conda_names(dep, name, src)
    m = _BRACKET_CUDA.search(src)
    if m and cu_digits(m.group("cu")):  # jaxlib=0.4.23[cuda118]: pip-extras syntax, but it names the CUDA
        yield _ev(CUDA, name, src, dep.line, "build-string", version=cu_digits(m.group("cu")), pinned=True)
    if dep.build:
        b = dep.build.lower()
        if name in _CPU_FRAMEWORKS and _CPU_BUILD.search(b):
            yield _ev(CPU, name, src, dep.line, "build-string")
        m = _BUILD_CUDA.search(b)
        if m and name not in CONDA_CUDA:
            v = m.group("v")
            cv = short(v) if "." in v else cu_digits(v)
            if cv:
                yield _ev(CUDA, name, src, dep.line, "build-string", version=cv, pinned=True)
        m = _BUILD_CUDNN.search(b)
        if m and name not in CONDA_CUDNN:
            yield _ev(CUDNN, name, src, dep.line, "build-string", version=m.group("v"), pinned=True)


def _major_only(name: str, src: str, line: int | None, major: int) -> Iterable[Evidence]:
    if name == "python":
        yield _ev(PYTHON, name, src, line, "conda", spec=f"{major}.*", major=major)
    else:
        origin = {0: "conda", 1: "conda-component", 2: "pytorch-cuda"}[CONDA_CUDA[name]]
        yield _ev(CUDA, name, src, line, origin, spec=f"{major}.*", major=major)


def _conda_names(dep: CondaDep, name: str, src: str) -> Iterable[Evidence]:
    """CUDA said by a package's name: dgl-cuda11.1, cuda92 (the pytorch channel's selector packages),
    cuda-python=11.8 (CUDA bindings of that release), pytorch-mutex=*=cpu."""
    m = _NAME_CUDA_VERSION.match(name)
    if m:
        yield _ev(CUDA, name, src, dep.line, "name", version=short(m.group("v")), pinned=True)
    m = _SELECTOR_PKG.match(name)
    if m and cu_digits(m.group("cu")):
        yield _ev(CUDA, name, src, dep.line, "selector-package", version=cu_digits(m.group("cu")), pinned=True)
    if name == "cuda-python":
        version = conda_pin(dep)[0]
        if version and "." in version:
            yield _ev(CUDA, name, src, dep.line, "name", version=short(version), pinned=True)
    if name == "pytorch-mutex" and dep.version and dep.version.strip("=") == "cpu" and not dep.build:
        yield _ev(CPU, name, src, dep.line, "conda")  # `pytorch-mutex=cpu` written as a version


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
        jm = _LOCAL_JAX.match(dep.local)
        if jm:
            cu = jm.group("cu")
            yield _pip_ev(CUDA, dep, "local-tag", **({"version": cu_digits(cu)} if len(cu) == 3 else {"major": int(cu)}),
                          pinned=True)
            if jm.group("dnn"):
                yield _pip_ev(CUDNN, dep, "local-tag", version=cu_digits(jm.group("dnn")), pinned=True)
            return
    yield from framework_default(dep, env, version)
    m = _EXTRA_CUDA.search(dep.raw.split(";")[0])
    if m:  # jax[cuda12], jax[cuda12_pip]: the extra names the CUDA major of the wheels it pulls
        yield _pip_ev(CUDA, dep, "name", major=int(m.group("cu")))
        return
    m = _NAME_CUDA_MAJOR.match(name)
    if m and not _PIP_CUPY.match(name):
        yield _pip_ev(CUDA, dep, "name", major=int(m.group("cu")))
        return
    if name == "cuda-python" and version and "." in version:
        yield _pip_ev(CUDA, dep, "name", version=short(version), pinned=True)
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


def framework_default(dep: PipDep, env: EnvFile, version: str | None) -> Iterable[Evidence]:
    """The CUDA of a framework's default PyPI build (``torch==2.3.0`` is a CUDA 12.1 build), when nothing
    in the file points pip elsewhere (an index or find-links of that project, a local version)."""
    from envkit.validate import facts

    name = dep.name or ""
    if not version or dep.local:
        return
    options = " ".join(d.option or "" for d in env.pip if d.option)
    if name == "torch" and "pytorch.org" not in options:
        cv = facts.torch_pypi_cuda(version)
    elif name == "onnxruntime-gpu" and "onnxruntime-cuda" not in options:
        cv = facts.ort_pypi_cuda(version)
    elif name in ("tensorflow", "tensorflow-gpu"):
        cv = facts.tf_cuda(version)
    else:
        return
    if cv:
        kw: dict[str, Any] = {"version": cv} if "." in cv else {"major": int(cv)}
        yield _pip_ev(CUDA, dep, "pypi-default", pinned=True, **kw)


