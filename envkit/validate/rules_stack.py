"""Matrix rules of ``envkit validate``: CUDA, TensorRT, cuDNN and Python of the file against the matrix.

``Checker`` works out the environment's effective stack from the evidence
(``envkit.validate.evidence``) and holds the findings; its ``*_rules`` methods add the
compatibility findings of TensorRT, cuDNN and Python (trt-version-conflict, trt-cuda-mismatch,
trt-not-on-channels, route-unconfirmed, route-expected-to-fail, trt-cudnn-mismatch, cudnn-cuda-mismatch,
cudnn-version-conflict, cudnn-missing, python-unsupported, unknown-version); the CUDA rules are in
``envkit.validate.rules_cuda``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from envkit.envfile import EnvFile
from envkit.matrix.model import Matrix, TensorRTRelease
from envkit.validate.evidence import collect
from envkit.validate.evidence_model import (
    CUDA,
    CUDNN,
    PYTHON,
    TRT,
    Evidence,
    Finding,
    by_version,
    of,
    primary,
    same_release,
    short,
    where,
)
from envkit.versions import V, in_any


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


def _spec_name(text: str) -> str:
    """The package name of a conda spec or template ("tensorrt=10.3.*" -> "tensorrt")."""
    return re.split(r"[=<>!~ \[]", text, maxsplit=1)[0].lower()


def _vkey(v: str) -> Any:
    try:
        return V(v)
    except ValueError:
        return V("0")


class Checker:
    """The effective stack of one environment file and the findings about it."""

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

    # ---- TensorRT --------------------------------------------------------------------------------
    def trt_rules(self) -> None:
        t = self.trt
        if t is None:
            return
        for e in of(self.ev, TRT):
            if e is not t and e.version and t.version and not same_release(e.version, t.version):
                self.add("error", e.line, "trt-version-conflict",
                         f"{e.source} and {where(t)} ask for different TensorRT versions",
                         "every TensorRT package (libs, bindings, frontend) must be the same version")
        known = [r.version for r in by_version(self.m.tensorrt)]
        if t.version and self.tr is None:
            self.add("warning", t.line, "unknown-version",
                     f"TensorRT {t.version} ({t.source}) is not in the matrix (it knows {', '.join(known)}); "
                     "its CUDA, cuDNN, GPU and Python support cannot be checked",
                     f"TensorRT {known[0]} … {known[-1]} are covered" if known else None)
        tr = self.tr
        if tr is not None and tr.legacy:
            current = [r.version for r in by_version(self.m.tensorrt) if not r.legacy]
            self.add("warning", t.line, "eol-tensorrt",
                     f"TensorRT {t.version} ({t.source}) is a legacy release (the {tr.version} line): envkit judges it "
                     "but never proposes it", f"move to TensorRT {current[0]} or newer (CUDA 11.8/12.x)"
                     if current else None)
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
        else:
            self._conda_route_unversioned()
        if tr is None or p is None or p.origin == "pypi-default":
            return  # a framework's own PyPI build is not the environment's CUDA pin
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
        noted = False
        for e in of(self.ev, TRT):
            if e.manager != "conda":
                continue
            dep = next((d for d in self.env.conda if d.line == e.line and d.name.lower() == e.package), None)
            channels = {_channel_name(dep.channel)} if dep is not None and dep.channel else env_channels
            serving: list[str] = []
            uses = []
            for use in tr.routes:
                names = {_spec_name(t) for t in use.conda}
                route = self.m.routes.get(use.route)
                if e.package in names and route is not None:
                    serving.extend(route.conda_channels)
                    if channels & set(route.conda_channels):
                        uses.append(use)
            if serving and channels & set(serving):
                if uses and all(u.confidence == "expected-to-fail" for u in uses):
                    self.add("warning", e.line, "route-expected-to-fail",
                             f"{e.source}: envkit expects this conda route for TensorRT {tr.version} to fail: "
                             f"{uses[0].reason}", self._working_route_hint())
                elif uses and all(u.confidence != "confirmed" for u in uses) and not noted:
                    noted = True
                    self.add("info", e.line, "route-unconfirmed",
                             f"{e.source}: the matrix lists this conda route for TensorRT {tr.version}, but it is "
                             f"unconfirmed: {uses[0].reason}",
                             "if the solve fails, install TensorRT from pip or a tarball instead")
                continue
            if serving:
                msg = (f"{e.source}: the matrix knows TensorRT {tr.version} as conda package `{e.package}` only on "
                       f"{', '.join(sorted(set(serving)))}, which this file does not list")
                hint: str | None = f"add the channel {sorted(set(serving))[0]}"
            else:
                msg = f"{e.source}: the matrix knows no conda channel that ships `{e.package}` for TensorRT {tr.version}"
                hint = self._conda_trt_hint(e.package)
            self.add("warning", e.line, "trt-not-on-channels", msg, hint)

    def _conda_route_unversioned(self) -> None:
        """A conda TensorRT without a version the matrix knows: every matrix route that ships this package."""
        for e in of(self.ev, TRT):
            if e.manager != "conda" or e.version:
                continue
            uses = [u for t in self.m.tensorrt for u in t.routes if e.package in {_spec_name(x) for x in u.conda}]
            if uses and all(u.confidence == "expected-to-fail" for u in uses):
                self.add("warning", e.line, "route-expected-to-fail",
                         f"{e.source}: conda package `{e.package}` comes only by routes envkit expects to fail: "
                         f"{uses[0].reason}", self._working_route_hint())
            elif not uses:
                self.add("warning", e.line, "trt-not-on-channels",
                         f"{e.source}: the matrix knows no conda channel that ships `{e.package}`",
                         self._conda_trt_hint(e.package))

    def _working_route_hint(self) -> str | None:
        """The newest TensorRT the matrix can deliver by a confirmed route for this file's CUDA major."""
        cmaj = self.cuda.major if self.cuda is not None else None
        for t in sorted(self.m.tensorrt, key=lambda r: _vkey(r.full_version), reverse=True):
            for use in t.routes:
                if use.confidence != "confirmed" or (cmaj is not None and cmaj not in use.cuda_majors):
                    continue
                major = cmaj if cmaj is not None else max(use.cuda_majors)
                values = t.template_values()
                values["cuda_major"] = str(major)
                specs = [x.format(**values) for x in (*use.conda, *use.pip)]
                how = "pip" if use.pip and not use.conda else "conda + pip"
                route = self.m.routes.get(use.route)
                extra = [self.m.pip_indexes[i] for i in (route.pip_indexes if route else ()) if i != "pypi"
                         and i in self.m.pip_indexes]
                index = f" with --extra-index-url {extra[0]}" if extra else ""
                return f"CUDA {major}: TensorRT {t.full_version} installs by {how}: {', '.join(specs)}{index}"
        return None

    def _conda_trt_hint(self, package: str) -> str | None:
        found = []
        for t in by_version(self.m.tensorrt):
            for use in t.routes:
                if any(_spec_name(x) == package for x in use.conda):
                    found.append(t.version)
        if found:
            return f"conda `{package}` is known for TensorRT {', '.join(dict.fromkeys(found))}"
        return "install TensorRT from pip (tensorrt-cu12) or use conda-forge's libnvinfer"

    def _trt_for_cuda_hint(self, cuda: str) -> str | None:
        ok = [t.version for t in by_version(self.m.tensorrt) if _safe_in(t.cuda, cuda)]
        if ok:
            return f"TensorRT releases that support CUDA {cuda}: {', '.join(ok)}"
        return f"no TensorRT release in the matrix supports CUDA {cuda}; change the CUDA pin"

    # ---- cuDNN ----------------------------------------------------------------------------------
    def cudnn_rules(self) -> None:
        d, tr, p = self.cudnn, self.tr, self.cuda
        mixed = any(f.code == "cuda-major-conflict" for f in self.findings)  # already named there
        for s in of(self.ev, CUDA, ("cudnn-suffix",)):
            if p is not None and p.major is not None and s.major != p.major and not mixed:
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
            known = ", ".join(c.version for c in by_version(self.m.cudnn))
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
            if not any(same_release(v, d.version) for v in tested):
                majors = {V(v).release[0] for v in tested}
                dmaj = V(d.version).release[0]
                lowest = min(tested, key=lambda v: V(v))
                if dmaj not in majors:
                    self.add("error", d.line, "trt-cudnn-mismatch",
                             f"TensorRT {tr.version} needs cuDNN {', '.join(tested)} (matrix); {d.source} gives cuDNN "
                             f"{d.version}", self._cudnn_pin_hint(d, tested[-1]))
                elif V(d.version) < V(lowest):
                    self.add("warning", d.line, "trt-cudnn-mismatch",
                             f"TensorRT {tr.version} lists cuDNN {', '.join(tested)} (matrix); cuDNN {d.version} is "
                             "older than that", self._cudnn_pin_hint(d, tested[-1]))

    @staticmethod
    def _cudnn_pin_hint(d: Evidence, version: str) -> str:
        """The pin in the file's own terms: pip's nvidia-cudnn-cuNN==X.Y.* or conda's cudnn=X.Y."""
        if d.manager == "pip":
            return f"pin {d.package}=={version}.*"
        return f"pin cudnn={version}"

    def _cudnn_for_cuda_hint(self, cuda: str) -> str | None:
        ok = [c.version for c in by_version(self.m.cudnn) if _safe_in(c.cuda, cuda)]
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
