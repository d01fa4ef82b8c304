"""Host rules of ``envkit validate``: the driver and the GPUs of a captured host against the stack.

Codes: driver-too-old, driver-minor-compat, no-driver, host-unusable, gpu-too-old, gpu-too-new,
gpu-unknown-cc, no-gpu. Facts (minimum drivers, compute-capability ranges) come from the matrix.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from envkit.matrix.model import Matrix, TensorRTRelease
from envkit.validate.evidence_model import Evidence, by_version, short
from envkit.versions import V

if TYPE_CHECKING:
    from envkit.host.model import HostInfo


class HostContext(Protocol):
    """What the host rules need from the checker (``envkit.validate.rules_stack.Checker``)."""

    m: Matrix
    cuda_any: Evidence | None
    trt: Evidence | None
    tr: TensorRTRelease | None
    cudnn: Evidence | None

    def add(self, severity: str, line: int | None, code: str, message: str, hint: str | None = None) -> None: ...


def _drv_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.\-]", version.strip()))


def host_rules(c: HostContext, host: HostInfo) -> None:
    from envkit.host.model import GOOD_STATUSES
    from envkit.versions import cc_key

    p, m = c.cuda_any, c.m
    needs_gpu = p is not None or c.trt is not None
    if host.status not in GOOD_STATUSES:
        sev = "error" if needs_gpu and host.status == "no-driver" else "info"
        c.add(sev, p.line if p else None, "no-driver" if host.status == "no-driver" else "host-unusable",
              f"the host record says {host.status}: {'; '.join(host.messages) or 'no driver facts'}")
        return
    if p is not None:
        _driver(c, host, p)
    if not host.gpus:
        if needs_gpu:
            what = "the capture holds no GPU list" if host.partial else "the host has no NVIDIA GPU"
            c.add("info", None, "no-gpu", f"{what}: GPU checks skipped")
        return
    groups: dict[tuple[str, str | None], int] = {}
    for g in host.gpus:
        groups[(g.name, g.compute_capability)] = groups.get((g.name, g.compute_capability), 0) + 1
    for (name, cc), n in groups.items():
        label = f"{n}x {name}" if n > 1 else name
        if cc is None:
            if needs_gpu:
                c.add("info", None, "gpu-unknown-cc",
                      f"{label}: compute capability unknown (not in the capture, name not in the matrix): GPU checks "
                      "skipped", "capture with `nvidia-smi --query-gpu=name,compute_cap --format=csv`")
            continue
        k = cc_key(cc)
        tr, t = c.tr, c.trt
        if tr is not None and t is not None:
            verdict = tr.arch_verdict(cc)
            if verdict == "too-old":
                c.add("error", t.line, "gpu-too-old",
                      f"{label} (compute capability {cc}) is below TensorRT {tr.version}'s floor "
                      f"{tr.min_compute_capability} (matrix)", _trt_for_cc_hint(m, cc))
            elif verdict in ("too-new", "not-listed"):
                c.add("error", t.line, "gpu-too-new",
                      f"{label} (compute capability {cc}) is not an architecture TensorRT {tr.version} supports "
                      f"({', '.join(tr.architectures) or 'up to ' + str(tr.max_compute_capability)}, matrix): "
                      "TensorRT has no kernels for it", _trt_for_cc_hint(m, cc))
        if p is None:
            continue
        rel = m.cuda_release(p.version) if p.version else None
        floor = m.cuda_min_cc(rel) if rel else (m.cuda_majors[p.major].min_compute_capability
                                                if p.major in m.cuda_majors else None)
        what = f"CUDA {short(p.version) if p.version else p.major}"
        if floor and k < cc_key(floor):
            c.add("error", p.line, "gpu-too-old",
                  f"{label} (compute capability {cc}) is below {what}'s architecture floor {floor} (matrix)",
                  "use an older CUDA for this GPU, or another GPU")
        elif rel is not None and m.cuda_arch_verdict(rel, cc) in ("too-new", "not-listed"):
            c.add("warning", p.line, "gpu-too-new",
                  f"{label} (compute capability {cc}) is newer than {what} builds for natively (up to "
                  f"{rel.max_compute_capability}): it runs only by PTX JIT, where the libraries ship PTX "
                  "(CUDA's compatibility guides: code built without PTX for it does not load)",
                  f"use CUDA {_cuda_for_cc(m, cc)} or newer" if _cuda_for_cc(m, cc) else "use a newer CUDA")


def _cuda_for_driver(m: Matrix, drv: str, plat: str) -> str | None:
    """The newest CUDA release whose minimum driver (this column) ``drv`` meets."""
    ok = [r.version for r in by_version(m.cuda) if r.min_driver.get(plat) and
          _drv_key(r.min_driver[plat]) <= _drv_key(drv)]
    return ok[-1] if ok else None


def _cuda_for_cc(m: Matrix, cc: str) -> str | None:
    """The oldest CUDA release that builds native code for ``cc``."""
    ok = [r.version for r in by_version(m.cuda) if m.cuda_arch_verdict(r, cc) == "supported"]
    return ok[0] if ok else None


def _trt_for_cc_hint(m: Matrix, cc: str) -> str | None:
    ok = [t.version for t in by_version(m.tensorrt) if not t.legacy and t.arch_verdict(cc) == "supported"]
    return f"TensorRT releases for compute capability {cc}: {', '.join(ok)}" if ok else \
        f"no TensorRT release in the matrix supports compute capability {cc}"


def _driver(c: HostContext, host: HostInfo, p: Evidence) -> None:
    m = c.m
    drv = host.driver_version
    cuda = short(p.version) if p.version else (f"{p.major}.0" if p.major is not None else None)
    if cuda is None:
        return
    label = f"CUDA {short(p.version)}" if p.version else f"CUDA {p.major}"
    if drv:
        plat = "windows" if host.windows_driver else "linux"
        col = " (Windows column: WDDM driver)" if plat == "windows" else ""
        full = (m.min_driver(cuda, plat) or m.min_driver(cuda)) if p.version else None
        floor = m.minor_compat_driver(cuda, plat) or m.minor_compat_driver(cuda)
        try:
            d = _drv_key(drv)
        except ValueError:
            return
        if floor and d < _drv_key(floor):
            need = f"driver >= {full} (>= {floor} with minor-version compatibility)" if full else f"driver >= {floor}"
            c.add("error", p.line, "driver-too-old",
                  f"{label} ({p.source}) needs {need}{col}; the host has {drv}",
                  f"upgrade the driver to >= {full or floor}, or pin an older CUDA")
        elif full and d < _drv_key(full) and not floor:
            c.add("error", p.line, "driver-too-old",
                  f"{label} ({p.source}) needs driver >= {full}{col}; the host has {drv}, and CUDA "
                  f"{p.major if p.major is not None else cuda} has no minor-version compatibility (it began with "
                  "CUDA 11): the runtime refuses an older driver", f"upgrade the driver to >= {full}, or pin a CUDA "
                  f"this driver runs ({_cuda_for_driver(m, drv, plat) or 'none in the matrix'})")
        elif full and d < _drv_key(full):
            c.add("warning", p.line, "driver-minor-compat",
                  f"{label} ({p.source}) needs driver >= {full} for full support{col}; the host has {drv}, which runs "
                  f"it by minor-version compatibility (>= {floor}): no PTX JIT of newer code, some features limited",
                  f"upgrade the driver to >= {full}")
        if floor or full:
            return
    hc = host.effective_cuda()
    if hc and p.version:
        try:
            env_v, host_v = V(short(p.version)), V(hc)
        except ValueError:
            return
        if env_v.release[0] > host_v.release[0]:
            c.add("error", p.line, "driver-too-old",
                  f"{label} ({p.source}) is newer than the host driver supports (CUDA {hc})",
                  "upgrade the driver")
        elif env_v > host_v:
            c.add("warning", p.line, "driver-minor-compat",
                  f"{label} ({p.source}) is newer than the host driver's CUDA {hc}: minor-version compatibility only")
