"""``envkit validate``: check any conda environment file against the compatibility matrix.

``validate_env(env, matrix, host)`` works out the environment's effective stack (CUDA, cuDNN,
TensorRT, Python) from everything the file says (see ``envkit.validate_rules``) and reports
findings ``{severity, line, code, message, hint}`` sorted by line. Compatibility facts come
from the matrix only; the host (an ``HostInfo``) adds driver and GPU checks.

Finding codes (stable): trt-cuda-mismatch, trt-cudnn-mismatch, trt-version-conflict,
cudnn-cuda-mismatch, cudnn-version-conflict, cudnn-missing, cuda-major-conflict,
cuda-minor-mismatch, python-unsupported, unpinned-critical, unknown-version, eol-cuda,
pip-stub-needs-nvidia-index, deprecated-package, onnxruntime-gpu-cuda, conda-pip-duplicate,
channel-none, prefix-set, unparsed-spec, trt-not-on-channels; with a host: driver-too-old, driver-minor-compat,
no-driver, gpu-too-old, gpu-too-new, gpu-unknown-cc, no-gpu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .envfile import EnvFile
from .matrix import Matrix, TensorRTRelease
from .validate_rules import (
    CUDA,
    CUDNN,
    PYTHON,
    TRT,
    Evidence,
    Finding,
    collect,
    host_rules,
    of,
    pip_indexes,
    primary,
    short,
    where,
)
from .versions import V, in_any

if TYPE_CHECKING:
    from .host.model import HostInfo

__all__ = ["Finding", "ValidateReport", "validate_env"]

_SEV_ORDER = {"error": 0, "warning": 1, "info": 2}
_DIRECT = {
    CUDA: ("conda", "conda-component", "pytorch-cuda", "pip-runtime"),
    CUDNN: ("conda", "pip"),
    TRT: ("conda", "pip"),
}
# PyPI names from before TensorRT moved to pypi.org (naming history, not compatibility facts)
_DEPRECATED_PIP = {
    "nvidia-tensorrt": "the old NGC-index name of the TensorRT wheel; from TensorRT 8.5 the wheels are on PyPI "
    "as `tensorrt` (`tensorrt-cu12`/`-cu13` from 10.0)",
    "nvidia-pyindex": "a helper that only points pip at NGC's old index (pypi.ngc.nvidia.com); current NVIDIA "
    "wheels are on PyPI and https://pypi.nvidia.com",
}
_DUPLICATES = (({"pytorch"}, {"torch"}), ({"tensorrt"}, {"tensorrt"}), ({"onnxruntime"}, {"onnxruntime", "onnxruntime-gpu"}),
               ({"tensorflow", "tensorflow-gpu"}, {"tensorflow", "tensorflow-gpu"}))


@dataclass
class ValidateReport:
    file: str
    stack: dict[str, Any]
    findings: list[Finding]
    host: HostInfo | None = None
    matrix_version: str | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def codes(self, severity: str | None = None) -> list[str]:
        return [f.code for f in self.findings if severity is None or f.severity == severity]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "stack": self.stack,
            "findings": [f.to_json() for f in self.findings],
            "summary": {s: self.count(s) for s in ("error", "warning", "info")},
            "host": self.host.to_json() if self.host is not None else None,
            "matrix_version": self.matrix_version,
        }


def validate_env(env: EnvFile, matrix: Matrix, host: HostInfo | None = None) -> ValidateReport:
    """Analyse one environment file; never raises on odd content (odd specs become info findings)."""
    c = _Checker(env, matrix)
    for rule in (c.cuda_rules, c.trt_rules, c.cudnn_rules, c.python_rules, c.unpinned, c.packaging, c.hygiene):
        try:
            rule()
        except Exception as exc:  # a rule must never crash validate on a strange file
            c.add("info", None, "internal", f"check {rule.__name__} skipped: {type(exc).__name__}: {exc}")
    if host is not None:
        try:
            host_rules(c, host)
        except Exception as exc:
            c.add("info", None, "internal", f"host checks skipped: {type(exc).__name__}: {exc}")
    findings = sorted(
        _dedupe(c.findings), key=lambda f: (f.line if f.line is not None else 10**9, _SEV_ORDER[f.severity], f.code)
    )
    return ValidateReport(file=env.path, stack=c.stack_json(), findings=findings, host=host,
                          matrix_version=matrix.matrix_version)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[int | None, str]] = set()
    out = []
    for f in findings:
        key = (f.line, f.code)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def _safe_in(specs: tuple[str, ...], version: str) -> bool | None:
    try:
        return in_any(specs, version)
    except ValueError:
        return None


def _channel_name(channel: str) -> str:
    """'https://conda.anaconda.org/conda-forge/' -> 'conda-forge'; 'nvidia/label/cuda-11.8.0' -> 'nvidia'."""
    c = channel.strip().rstrip("/")
    if "://" in c:
        c = c.split("://", 1)[1].split("/", 1)[1] if "/" in c.split("://", 1)[1] else c
    return c.split("/")[0].lower()


def _vkey(v: str) -> Any:
    try:
        return V(v)
    except ValueError:
        return V("0")


class _Checker:
    def __init__(self, env: EnvFile, matrix: Matrix) -> None:
        self.env = env
        self.m = matrix
        evidence, self.findings = collect(env)
        self.ev = [self._resolve_range(e) for e in evidence]
        self.cuda = primary([e for e in of(self.ev, CUDA) if e.origin not in ("trt-suffix", "cudnn-suffix")])
        self.cuda_any = primary(of(self.ev, CUDA))
        self.trt = primary(of(self.ev, TRT))
        self.tr: TensorRTRelease | None = None
        if self.trt and self.trt.version:
            try:
                self.tr = self.m.tensorrt_release(self.trt.version)
            except ValueError:
                self.tr = None
        self.cudnn = primary(of(self.ev, CUDNN))
        self.python = primary(of(self.ev, PYTHON))

    # ---- plumbing ------------------------------------------------------------------------------
    def add(self, severity: str, line: int | None, code: str, message: str, hint: str | None = None) -> None:
        self.findings.append(Finding(severity, line, code, message, hint))

    def _resolve_range(self, e: Evidence) -> Evidence:
        """A range that admits exactly one release line of the matrix is that line."""
        if e.version or not e.spec:
            return e
        if e.component == CUDA:
            lines = [c.version for c in self.m.cuda]
        elif e.component == TRT:
            lines = [t.version for t in self.m.tensorrt]
        elif e.component == CUDNN:
            lines = [d.version for d in self.m.cudnn]
        else:
            return e
        admitted = [v for v in lines if e.admits(v)]
        majors = {V(v).release[0] for v in admitted}
        if len(admitted) == 1:
            return replace(e, version=admitted[0], major=majors.pop())
        if len(majors) == 1 and e.major is None:
            return replace(e, major=majors.pop())
        return e

    @property
    def cuda_version(self) -> str | None:
        return short(self.cuda.version) if self.cuda and self.cuda.version else None

    def _trt_has_cuda_major(self, tr: TensorRTRelease, major: int) -> bool:
        return any(c.major == major and _safe_in(tr.cuda, c.version) for c in self.m.cuda)

    def stack_json(self) -> dict[str, Any]:
        def item(e: Evidence | None, **extra: Any) -> dict[str, Any] | None:
            if e is None:
                return None
            return {"version": e.version, "major": e.major, "spec": e.spec, "source": e.source, "line": e.line,
                    "origin": e.origin, **extra}

        trt_route = None
        if self.trt:
            trt_route = "conda" if any(e.manager == "conda" for e in of(self.ev, TRT)) else "pip"
        return {
            "cuda": item(self.cuda_any),
            "cudnn": item(self.cudnn),
            "tensorrt": item(self.trt, route=trt_route, matrix_release=self.tr.version if self.tr else None),
            "python": item(self.python),
        }

    # ---- CUDA ----------------------------------------------------------------------------------
    def cuda_rules(self) -> None:
        p = self.cuda
        if p is None:
            return
        for e in of(self.ev, CUDA):
            if e is p or e.origin in ("trt-suffix", "cudnn-suffix"):
                continue
            both_conda = e.manager == "conda" and p.manager == "conda" and e.origin != "channel-label"
            if e.major is not None and p.major is not None and e.major != p.major:
                self.add("error", e.line, "cuda-major-conflict",
                         f"{e.source} is a CUDA {e.version or e.major} build, but this environment's CUDA is "
                         f"{p.version or p.major} ({where(p)}): libraries of two CUDA majors do not mix",
                         f"use the CUDA {p.major} build of {e.package}, or move the whole environment to CUDA {e.major}")
            elif e.version and p.version and short(e.version) != short(p.version):
                if both_conda:
                    self.add("error", e.line, "cuda-minor-mismatch",
                             f"{e.source} asks for CUDA {short(e.version)} but {where(p)} pins CUDA "
                             f"{short(p.version)}: the conda solver cannot satisfy both",
                             f"pin one CUDA version ({p.package}) and leave the others unpinned or equal")
                else:
                    self.add("warning", e.line, "cuda-minor-mismatch",
                             f"{e.source} is a CUDA {short(e.version)} build in a CUDA {short(p.version)} environment "
                             f"({where(p)}): same major, so it runs (CUDA minor-version compatibility), but it brings "
                             f"its own CUDA {short(e.version)} libraries beside the environment's",
                             f"prefer the build for CUDA {short(p.version)} where one exists, or pin CUDA "
                             f"{short(e.version)}")
            elif e.spec and not e.version and p.version and e.admits(p.version) is False and both_conda:
                self.add("error", e.line, "cuda-major-conflict",
                         f"{e.source} does not admit CUDA {p.version} pinned by {where(p)}",
                         "make the CUDA constraints agree")
        self._cuda_known()

    def _cuda_known(self) -> None:
        p = self.cuda_any
        if p is None:
            return
        has_trt = self.trt is not None
        known = sorted({c.version for c in self.m.cuda}, key=_vkey)
        if not p.version:
            if p.major is not None and p.major not in self.m.cuda_majors:
                self.add("warning" if has_trt else "info", p.line, "unknown-version",
                         f"CUDA {p.major} (from {p.source}) is not a CUDA major the matrix knows "
                         f"({', '.join(str(k) for k in sorted(self.m.cuda_majors))})")
            return
        v = short(p.version)
        rel = self.m.cuda_release(v)
        trts = [t.version for t in self.m.tensorrt if _safe_in(t.cuda, v)]
        if not trts and known and V(v) < V(known[0]):
            floor = next((c for c in known if any(_safe_in(t.cuda, c) for t in self.m.tensorrt)), known[0])
            self.add("info", p.line, "eol-cuda",
                     f"CUDA {v} ({p.source}) is older than every CUDA in the matrix ({known[0]} … {known[-1]}) and "
                     "no TensorRT release there supports it",
                     f"nothing to change unless TensorRT joins this environment: the TensorRT releases in the matrix "
                     f"need CUDA {floor} or newer")
        elif rel is None:
            extra = f"; TensorRT {', '.join(trts)} list it as supported" if trts else ""
            self.add("warning" if has_trt else "info", p.line, "unknown-version",
                     f"CUDA {v} ({p.source}) is not in the matrix (it knows {', '.join(known)}), so there are no "
                     f"driver or GPU facts for it{extra}")

    # ---- TensorRT --------------------------------------------------------------------------------
    def trt_rules(self) -> None:
        t = self.trt
        if t is None:
            return
        for e in of(self.ev, TRT):
            if e is not t and e.version and t.version and not self._same_release(e.version, t.version):
                self.add("error", e.line, "trt-version-conflict",
                         f"{e.source} and {where(t)} ask for different TensorRT versions",
                         "every TensorRT package (libs, bindings, frontend) must be the same version")
        known = [r.version for r in sorted(self.m.tensorrt, key=lambda r: V(r.version))]
        if t.version and self.tr is None:
            self.add("warning", t.line, "unknown-version",
                     f"TensorRT {t.version} ({t.source}) is not in the matrix (it knows {', '.join(known)}); "
                     "its CUDA, cuDNN, GPU and Python support cannot be checked",
                     f"TensorRT {known[0]} … {known[-1]} are covered" if known else None)
        tr = self.tr
        suffixes = of(self.ev, CUDA, ("trt-suffix",))
        p = self.cuda
        for s in suffixes:
            if p is not None and p.major is not None and s.major != p.major:
                alt = ""
                if tr is not None and p.major is not None and self._trt_has_cuda_major(tr, p.major):
                    alt = f" TensorRT {tr.version} has CUDA {p.major} builds: use the -cu{p.major} package"
                self.add("error", s.line, "trt-cuda-mismatch",
                         f"{s.source} is the CUDA {s.major} build of TensorRT, but this environment's CUDA is "
                         f"{p.version or p.major} ({where(p)})",
                         (alt.strip() + ", or " if alt else "") + f"move the environment to CUDA {s.major}")
            elif tr is not None and s.major is not None and not self._trt_has_cuda_major(tr, s.major):
                self.add("error", s.line, "trt-cuda-mismatch",
                         f"TensorRT {tr.version} has no CUDA {s.major} build (matrix: CUDA {', '.join(tr.cuda)}); "
                         f"{s.source} cannot be installed", "pick a TensorRT release that lists this CUDA")
        if tr is not None:
            self._conda_route(tr)
        if tr is None or p is None:
            return
        if p.version:
            ok = _safe_in(tr.cuda, short(p.version))
            if ok is False:
                self.add("error", t.line, "trt-cuda-mismatch",
                         f"TensorRT {tr.version} supports CUDA {', '.join(tr.cuda)} (matrix); this environment pins "
                         f"CUDA {short(p.version)} ({where(p)})",
                         self._trt_for_cuda_hint(short(p.version)))
        elif p.major is not None and not self._trt_has_cuda_major(tr, p.major):
            self.add("error", t.line, "trt-cuda-mismatch",
                     f"TensorRT {tr.version} has no CUDA {p.major} build (matrix: CUDA {', '.join(tr.cuda)}); "
                     f"this environment uses CUDA {p.major} ({where(p)})")

    def _conda_route(self, tr: TensorRTRelease) -> None:
        """A conda TensorRT package must come from a channel some route of the matrix serves it from."""
        env_channels = {_channel_name(c) for c in self.env.channels}
        for e in of(self.ev, TRT):
            if e.manager != "conda":
                continue
            dep = next((d for d in self.env.conda if d.line == e.line and d.name.lower() == e.package), None)
            channels = {_channel_name(dep.channel)} if dep is not None and dep.channel else env_channels
            serving: list[str] = []
            for use in tr.routes:
                names = {re.split(r"[=<>!~ \[]", t, maxsplit=1)[0].lower() for t in use.conda}
                route = self.m.routes.get(use.route)
                if e.package in names and route is not None:
                    serving.extend(route.conda_channels)
            if serving and channels & set(serving):
                continue
            if serving:
                msg = (f"{e.source}: the matrix knows TensorRT {tr.version} as conda package `{e.package}` only on "
                       f"{', '.join(sorted(set(serving)))}, which this file does not list")
                hint: str | None = f"add the channel {sorted(set(serving))[0]}"
            else:
                msg = f"{e.source}: the matrix knows no conda channel that ships `{e.package}` for TensorRT {tr.version}"
                hint = self._conda_trt_hint(e.package)
            self.add("warning", e.line, "trt-not-on-channels", msg, hint)

    def _conda_trt_hint(self, package: str) -> str | None:
        found = []
        for t in sorted(self.m.tensorrt, key=lambda r: V(r.version)):
            for use in t.routes:
                if any(re.split(r"[=<>!~ \[]", x, maxsplit=1)[0].lower() == package for x in use.conda):
                    found.append(t.version)
        if found:
            return f"conda `{package}` is known for TensorRT {', '.join(dict.fromkeys(found))}"
        return "install TensorRT from pip (tensorrt-cu12) or use conda-forge's libnvinfer"

    def _same_release(self, a: str, b: str) -> bool:
        ra, rb = V(a).release, V(b).release
        n = min(len(ra), len(rb))
        return ra[:n] == rb[:n]

    def _trt_for_cuda_hint(self, cuda: str) -> str | None:
        ok = [t.version for t in sorted(self.m.tensorrt, key=lambda r: V(r.version)) if _safe_in(t.cuda, cuda)]
        if ok:
            return f"TensorRT releases that support CUDA {cuda}: {', '.join(ok)}"
        return f"no TensorRT release in the matrix supports CUDA {cuda}; change the CUDA pin"

    # ---- cuDNN ----------------------------------------------------------------------------------
    def cudnn_rules(self) -> None:
        d, tr, p = self.cudnn, self.tr, self.cuda
        for s in of(self.ev, CUDA, ("cudnn-suffix",)):
            if p is not None and p.major is not None and s.major != p.major:
                self.add("error", s.line, "cudnn-cuda-mismatch",
                         f"{s.source} is the CUDA {s.major} build of cuDNN, but this environment's CUDA is "
                         f"{p.version or p.major} ({where(p)})", f"use nvidia-cudnn-cu{p.major}")
        if d is None:
            if tr is not None and tr.cudnn_required and self.trt and self.trt.manager == "conda":
                self.add("info", self.trt.line, "cudnn-missing",
                         f"TensorRT {tr.version} needs cuDNN ({', '.join(tr.cudnn_versions)} tested); the file pins "
                         "none, so it comes from whatever the TensorRT package depends on",
                         f"pin cudnn={tr.cudnn_versions[0]}" if tr.cudnn_versions else None)
            return
        for e in of(self.ev, CUDNN):
            if e is not d and e.major is not None and d.major is not None and e.major != d.major:
                self.add("error", e.line, "cudnn-version-conflict",
                         f"{e.source} and {where(d)} ask for different cuDNN majors", "pin one cuDNN")
        if not d.version:
            return
        cr = self.m.cudnn_release(d.version)
        needs = tr is not None and tr.cudnn_required
        if cr is None:
            known = ", ".join(c.version for c in sorted(self.m.cudnn, key=lambda r: V(r.version)))
            self.add("warning" if needs else "info", d.line, "unknown-version",
                     f"cuDNN {d.version} ({d.source}) is not in the matrix (it knows {known})")
        elif p is not None and p.version:
            cv = short(p.version)
            if _safe_in(cr.cuda, cv) is False:
                same_major = any(c.major == V(cv).release[0] and _safe_in(cr.cuda, c.version) for c in self.m.cuda)
                if same_major:
                    self.add("warning", d.line, "cudnn-cuda-mismatch",
                             f"cuDNN {cr.version} is built for CUDA {', '.join(cr.cuda)} (matrix); CUDA {cv} "
                             f"({where(p)}) is outside that range: it runs by minor-version compatibility but is "
                             "not a tested pair", self._cudnn_for_cuda_hint(cv))
                else:
                    self.add("error", d.line, "cudnn-cuda-mismatch",
                             f"cuDNN {cr.version} has no build for CUDA {V(cv).release[0]} (matrix: CUDA "
                             f"{', '.join(cr.cuda)}); this environment pins CUDA {cv} ({where(p)})",
                             self._cudnn_for_cuda_hint(cv))
        if tr is not None and tr.cudnn_required and tr.cudnn_versions:
            tested = tr.cudnn_versions
            if not any(self._same_release(v, d.version) for v in tested):
                majors = {V(v).release[0] for v in tested}
                dmaj = V(d.version).release[0]
                lowest = min(tested, key=lambda v: V(v))
                if dmaj not in majors:
                    self.add("error", d.line, "trt-cudnn-mismatch",
                             f"TensorRT {tr.version} needs cuDNN {', '.join(tested)} (matrix); {d.source} gives cuDNN "
                             f"{d.version}", f"pin cudnn={tested[-1]}")
                elif V(d.version) < V(lowest):
                    self.add("warning", d.line, "trt-cudnn-mismatch",
                             f"TensorRT {tr.version} was tested with cuDNN {', '.join(tested)}; cuDNN {d.version} is "
                             "older than that", f"pin cudnn={tested[-1]}")

    def _cudnn_for_cuda_hint(self, cuda: str) -> str | None:
        ok = [c.version for c in sorted(self.m.cudnn, key=lambda r: V(r.version)) if _safe_in(c.cuda, cuda)]
        return f"cuDNN releases built for CUDA {cuda}: {', '.join(ok)}" if ok else None

    # ---- Python ---------------------------------------------------------------------------------
    def python_rules(self) -> None:
        py, tr, t = self.python, self.tr, self.trt
        if py is None or tr is None or t is None or not tr.python:
            return
        if py.version:
            bad = short(py.version) not in tr.python
        elif py.spec:
            bad = not any(py.admits(v) for v in tr.python)
        else:
            return
        if bad:
            pip_trt = t.manager == "pip"
            what = "has no wheel for" if pip_trt else "is not built for"
            self.add("error" if pip_trt else "warning", py.line, "python-unsupported",
                     f"TensorRT {tr.version} {what} Python {py.version or py.spec} (matrix: Python "
                     f"{', '.join(tr.python)})", f"pin python={tr.python[-1]} (or another listed version)")

    # ---- pinning --------------------------------------------------------------------------------
    def unpinned(self) -> None:
        names = {CUDA: "CUDA", CUDNN: "cuDNN", TRT: "TensorRT"}
        for comp, origins in _DIRECT.items():
            evs = of(self.ev, comp)
            if any(e.version or e.pinned for e in evs if e.origin not in ("trt-suffix", "cudnn-suffix", "pip-suffix")):
                continue
            for e in of(self.ev, comp, origins):
                how = f"is open-ended ({e.spec})" if e.spec else "is not pinned"
                self.add("warning", e.line, "unpinned-critical",
                         f"{e.source} {how}: the {names[comp]} version is whatever the solver finds newest on the day "
                         "the environment is built",
                         f"pin a version, e.g. {e.package}{'==' if e.manager == 'pip' else '='}X.Y")

    # ---- packaging ------------------------------------------------------------------------------
    def packaging(self) -> None:
        env = self.env
        nv_url = self.m.pip_indexes.get("nvidia") or "https://pypi.nvidia.com"
        nv_host = urlparse(nv_url).netloc or nv_url
        has_nv = any(nv_host in u for u in pip_indexes(env))
        for e in of(self.ev, TRT):
            if e.manager != "pip" or has_nv:
                continue
            name = e.package
            stub = name.endswith("-libs") or (name.startswith("tensorrt") and not name.endswith("-bindings")
                                              and "-cu" in name)
            if name in ("tensorrt", "tensorrt-lean", "tensorrt-dispatch"):
                stub = e.version is None or V(e.version) >= V("8.6.1")
            if stub:
                self.add("warning", e.line, "pip-stub-needs-nvidia-index",
                         f"{e.source}: the TensorRT libraries are not on PyPI; what PyPI has is a stub that downloads "
                         f"them from {nv_url} while installing, which fails offline or behind a mirror of PyPI only",
                         f"add `--extra-index-url {nv_url}` to the pip: section (and mirror that index)")
        for d in env.pip:
            if d.name in _DEPRECATED_PIP:
                self.add("warning", d.line, "deprecated-package", f"{d.raw.strip()}: {_DEPRECATED_PIP[d.name]}",
                         "use the PyPI names: tensorrt==8.5.x/8.6.x, or tensorrt-cu12/-cu13 for TensorRT 10 and later"
                         if d.name == "nvidia-tensorrt" else "remove it")
        ort = env.find_pip("onnxruntime-gpu")
        if ort:
            has_cuda = bool(of(self.ev, CUDA))
            has_cudnn = bool(of(self.ev, CUDNN))
            if not has_cuda or not has_cudnn:
                missing = "CUDA and cuDNN" if not has_cuda else "cuDNN"
                self.add("info", ort[0].line, "onnxruntime-gpu-cuda",
                         f"{ort[0].raw.strip()} needs the {missing} libraries at run time and does not bring them; "
                         f"this environment provides no {missing}",
                         "add them (conda cuda-version/cudnn, or pip nvidia-*-cu12 wheels, e.g. "
                         "onnxruntime-gpu[cuda,cudnn] on recent versions) or rely on the system's")

    def hygiene(self) -> None:
        env = self.env
        conda_names = {d.name.lower(): d for d in env.conda}
        for conda_set, pip_set in _DUPLICATES:
            c = next((conda_names[n] for n in sorted(conda_set) if n in conda_names), None)
            p = next((d for d in env.pip if d.name in pip_set), None)
            if c is not None and p is not None:
                self.add("info", p.line, "conda-pip-duplicate",
                         f"{p.raw.strip()} (pip) installs over {c.raw.strip()} (conda, line {c.line}): pip's copy wins, "
                         "with its own CUDA build", "keep one of the two")
        if not env.channels and any(d.name.lower() not in ("python", "pip") for d in env.conda):
            self.add("info", None, "channel-none",
                     "no channels: the conda packages come from whatever channels each user's .condarc lists, so two "
                     "machines can build different environments", "list the channels (e.g. conda-forge)")
        if env.prefix:
            line = env.doc.line(("prefix",)) if env.doc else None
            self.add("info", line, "prefix-set",
                     f"prefix: {env.prefix} is a path on the machine that exported the file; `conda env create` "
                     "tries to create the environment there", "delete the prefix: line")
