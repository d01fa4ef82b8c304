"""Matrix rules of ``envkit validate``: CUDA, TensorRT, cuDNN and Python of the file against the matrix.

``Checker`` works out the environment's effective stack from the evidence
(``envkit.validate.evidence``) and holds the findings; its ``*_rules`` methods add the
compatibility findings (cuda-major-conflict, cuda-minor-mismatch, unknown-version, eol-cuda,
trt-version-conflict, trt-cuda-mismatch, trt-not-on-channels, route-unconfirmed, trt-cudnn-mismatch,
cudnn-cuda-mismatch, cudnn-version-conflict, cudnn-missing, python-unsupported).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from envkit.envfile import EnvFile
from envkit.matrix.model import Matrix, TensorRTRelease
from envkit.validate.evidence import (
    CUDA,
    CUDNN,
    PYTHON,
    TRT,
    Evidence,
    Finding,
    by_version,
    collect,
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
        elif rel is not None and rel.legacy:
            self._legacy_cuda(p, v)
        elif rel is None:
            extra = f"; TensorRT {', '.join(trts)} list it as supported" if trts else ""
            self.add("warning" if has_trt else "info", p.line, "unknown-version",
                     f"CUDA {v} ({p.source}) is not in the matrix (it knows {', '.join(known)}), so there are no "
                     f"driver or GPU facts for it{extra}")

    def _legacy_cuda(self, p: Evidence, v: str) -> None:
        """A legacy CUDA (matrix `legacy: true`): known facts, but nothing current builds on it."""
        current = [c.version for c in self.m.cuda if not c.legacy]
        current_trt = [t.version for t in by_version(self.m.tensorrt) if not t.legacy and _safe_in(t.cuda, v)]
        old_trt = [t.version for t in by_version(self.m.tensorrt) if t.legacy and _safe_in(t.cuda, v)]
        if current_trt:
            why = f"only TensorRT {', '.join(current_trt)} still list it"
        elif old_trt:
            why = f"no current TensorRT supports it (last: TensorRT {old_trt[-1]}, itself legacy)"
        else:
            why = "no TensorRT release in the matrix supports it"
        first12 = next((c for c in current if c.startswith("12.")), None)
        self.add("warning", p.line, "eol-cuda",
                 f"CUDA {v} ({p.source}) is a legacy release: {why}; envkit never proposes it",
                 f"move to CUDA {current[0]}" + (f" or {first12}+" if first12 else "") if current else None)

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
                             f"{d.version}", f"pin cudnn={tested[-1]}")
                elif V(d.version) < V(lowest):
                    self.add("warning", d.line, "trt-cudnn-mismatch",
                             f"TensorRT {tr.version} was tested with cuDNN {', '.join(tested)}; cuDNN {d.version} is "
                             "older than that", f"pin cudnn={tested[-1]}")

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
