"""Resolve: the newest (TensorRT, CUDA, cuDNN, Python) stack a profile allows, the matrix
supports, the configured channels can deliver and the host can run, with a cause in plain
words for every rejected candidate.

Route policy: a route the matrix expects to fail is never chosen; at the same stack a confirmed
route beats an unconfirmed one; a profile's ``route:`` restricts the choice to that route.
Candidates outside the profile's pins (tensorrt, cuda, ngc, route) are not rejections: they are
kept apart in ``Resolution.outside``. Grouping and the changes that unlock newer stacks live in
``envkit.resolve_groups``. Pure reasoning over typed records: no I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.matrix.model import CudaRelease, Matrix, RouteUse, TensorRTRelease
from envkit.resolve_host import driver_causes, gpu_causes, precision_causes
from envkit.resolve_model import Cause, Rejected, Resolution, Stack
from envkit.versions import V, in_any

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.profile import Profile

PYPI_URL = "https://pypi.org/simple"


# -- what the configured sources can deliver --------------------------------------------------

def _source_names(items: tuple[str, ...], known: dict[str, str]) -> set[str]:
    """Names of channels/indexes; URLs count as the name of their last path part or a known URL."""
    names: set[str] = set()
    for item in items:
        text = item.rstrip("/")
        names.add(text)
        for name, url in known.items():
            if text == url.rstrip("/"):
                names.add(name)
        if "://" in text:
            names.add(text.rsplit("/", 1)[-1])
    return names


@dataclass
class RouteChoice:
    use: RouteUse | None
    why: str = ""
    cause: Cause | None = None  # when no route is usable
    outside: bool = False  # every route that could serve it is excluded by the profile's `route:`


def _pins_legacy(spec: str | None, records: list[tuple[str, bool]]) -> bool:
    """True when the profile's range admits only legacy records (it pins an old release on purpose)."""
    if not spec:
        return False
    admitted = [legacy for version, legacy in records if in_any((spec,), version)]
    return bool(admitted) and all(admitted)


def _platform_for(prof: Profile, host: HostInfo | None) -> str:
    """The platform the routes must deliver for: the machine's, else the profile's first."""
    arch = (host.arch or "").lower() if host is not None else ""
    if arch in ("aarch64", "arm64"):
        return "linux-aarch64"
    if arch in ("x86_64", "amd64"):
        return "linux-64"
    from envkit.host.kinds import grace_superchip

    if host is not None and grace_superchip([g.name for g in host.gpus]):
        return "linux-aarch64"
    return prof.platforms[0] if prof.platforms else "linux-64"


def usable_route(
    trt: TensorRTRelease, cuda_major: int, matrix: Matrix, channels: tuple[str, ...], pip_indexes: tuple[str, ...],
    pinned: str | None = None, platform: str = "linux-64",
) -> RouteChoice:
    """The most confident route of this release that serves this CUDA major on ``platform`` from the configured
    sources; never a route expected to fail."""
    have_channels = _source_names(channels, {})
    have_indexes = _source_names(pip_indexes, matrix.pip_indexes)
    usable: list[RouteUse] = []
    blocked: list[tuple[RouteUse, list[tuple[str, str]]]] = []
    failing: list[RouteUse] = []
    serving = [u for u in trt.routes if cuda_major in u.cuda_majors and u.route in matrix.routes]
    elsewhere = [u for u in serving if not u.delivers(cuda_major, platform)]
    serving = [u for u in serving if u.delivers(cuda_major, platform)]
    if elsewhere and not serving:
        names = ", ".join(f"{u.route} ({'/'.join(u.platforms_for(cuda_major))})" for u in elsewhere)
        return RouteChoice(None, cause=Cause("route", f"platform:{platform}", f"no {platform} build of TensorRT "
                                             f"{trt.version} for CUDA {cuda_major}: {names}"))
    if pinned is not None:
        if serving and not any(u.route == pinned for u in serving):
            return RouteChoice(None, outside=True)
        serving = [u for u in serving if u.route == pinned]
    for use in serving:
        if use.confidence == "expected-to-fail":
            failing.append(use)
            continue
        route = matrix.routes[use.route]
        lacking = [("channels", c) for c in route.conda_channels if c not in have_channels]
        lacking += [("pip_indexes", i) for i in route.pip_indexes if i not in have_indexes]
        (blocked.append((use, lacking)) if lacking else usable.append(use))
    if usable:
        best = min(usable, key=lambda u: u.rank)
        others = [u for u in usable if u is not best]
        if best.confidence == "confirmed":
            why = "confirmed" + (f"; preferred over {', '.join(f'{u.route} ({u.confidence})' for u in others)}"
                                 if others else "")
        else:
            why = "only unconfirmed routes fit"
        return RouteChoice(best, why)
    if blocked:
        use, lacking = min(blocked, key=lambda b: (b[0].rank, len(b[1])))
        what = " and ".join(f"{'channel' if k == 'channels' else 'pip index'} '{n}'" for k, n in lacking)
        change = " and ".join(f"add `{n}` to {k}" for k, n in lacking)
        return RouteChoice(None, cause=Cause("route", f"route:{what}", f"needs {what} (route {use.route})", change))
    if failing:
        names = ", ".join(u.route for u in failing)
        return RouteChoice(None, cause=Cause("route", f"expected-to-fail:{names}",
                                             f"its only route ({names}) is expected to fail: {failing[0].reason}"))
    return RouteChoice(None, cause=Cause("matrix", f"no-route:{cuda_major}",
                                         f"no route in the matrix ships TensorRT {trt.version} for CUDA {cuda_major}"))


# -- the search -----------------------------------------------------------------------------------

def _pick_python(prof: Profile, trt: TensorRTRelease, pinned: str | None) -> str | None:
    allowed = [p for p in trt.python if (pinned is None or V(p).release[:2] == V(pinned).release[:2])]
    if prof.python:
        allowed = [p for p in allowed if in_any((prof.python,), p)]
    return max(allowed, key=V) if allowed else None


def _pick_cudnn(prof: Profile, trt: TensorRTRelease, cuda: CudaRelease, matrix: Matrix, pinned: str | None) -> tuple[
    str | None, str | None
]:
    """(cudnn full version or None, reason when a needed cuDNN is missing)."""
    need = trt.cudnn_required or prof.cudnn_required or pinned is not None
    if not need:
        return None, None
    options = []
    for rel in matrix.cudnn:
        if not in_any(rel.cuda, cuda.version):
            continue
        if trt.cudnn_required and trt.cudnn_versions and not in_any(trt.cudnn_versions, rel.version):
            continue
        if prof.cudnn and prof.cudnn != "required" and not in_any((prof.cudnn,), rel.version):
            continue
        if pinned and V(pinned).release[:2] != V(rel.version).release[:2]:
            continue
        options.append(rel)
    if not options:
        wanted = f"cuDNN {prof.cudnn}" if prof.cudnn and prof.cudnn != "required" else "cuDNN"
        if trt.cudnn_required:
            wanted += f" of TensorRT {trt.version}'s tested versions ({', '.join(trt.cudnn_versions)})"
        return None, f"no {wanted} is built for CUDA {cuda.version}"
    best = max(options, key=lambda r: V(r.version))
    return best.full_version, None


def _ngc(prof: Profile, matrix: Matrix) -> Any:
    if not prof.ngc:
        return None
    ngc = matrix.ngc_stack(prof.ngc)
    if ngc is None:
        from envkit.errors import ProfileError
        from envkit.yamlio import did_you_mean

        raise ProfileError(
            f"unknown NGC tag {prof.ngc!r}",
            did_you_mean(prof.ngc, [n.tag for n in matrix.ngc]) or "see `envkit matrix --json` (ngc)",
            file=prof.path, line=prof.lines.get("ngc"), key="ngc",
        )
    return ngc


def _check_route_pin(prof: Profile, matrix: Matrix) -> None:
    if prof.route and prof.route not in matrix.routes:
        from envkit.errors import ProfileError
        from envkit.yamlio import did_you_mean

        raise ProfileError(f"unknown route {prof.route!r}", did_you_mean(prof.route, list(matrix.routes))
                           or f"routes: {', '.join(matrix.routes)}", file=prof.path, line=prof.lines.get("route"),
                           key="route")


def _pins(prof: Profile, ngc: Any, trt: TensorRTRelease, cuda: CudaRelease, rej: Rejected) -> None:
    """Causes that put the candidate outside the profile (not rejections)."""
    if ngc is not None:
        if V(trt.full_version).release[:2] != V(ngc.tensorrt).release[:2]:
            rej.add("profile", "pin:ngc", f"NGC {ngc.tag} ships TensorRT {ngc.tensorrt}")
        if V(cuda.version).release[:2] != V(ngc.cuda).release[:2]:
            rej.add("profile", "pin:ngc", f"NGC {ngc.tag} ships CUDA {ngc.cuda}")
    where = Path(prof.path).name
    if prof.tensorrt and not in_any((prof.tensorrt,), trt.full_version):
        rej.add("profile", "pin:tensorrt", f"the profile allows TensorRT {prof.tensorrt}",
                f"allow TensorRT {trt.version} in {where}")
    if prof.cuda and not in_any((prof.cuda,), cuda.version):
        rej.add("profile", "pin:cuda", f"the profile allows CUDA {prof.cuda}", f"allow CUDA {cuda.version} in {where}")


def resolve_profile(prof: Profile, matrix: Matrix, host: HostInfo | None) -> Resolution:
    if host is not None and host.machine_type == "jetson":
        from envkit.resolve_jetson import resolve_jetson

        return resolve_jetson(prof, matrix, host)
    ngc = _ngc(prof, matrix)
    _check_route_pin(prof, matrix)
    notes = [f"pinned to NGC {ngc.tag}: TensorRT {ngc.tensorrt}, CUDA {ngc.cuda}"] if ngc is not None else []
    rejected: list[Rejected] = []
    outside: list[Rejected] = []
    chosen: Stack | None = None
    choice: RouteChoice | None = None
    platform = _platform_for(prof, host)
    # legacy records are judged by validate and proposed only when the profile pins them: its range admits
    # no current release (tensorrt: "8.2", cuda: "11.3"), not merely includes old ones (">=8.0")
    legacy_trt = _pins_legacy(prof.tensorrt, [(t.full_version, t.legacy) for t in matrix.tensorrt])
    legacy_cuda = _pins_legacy(prof.cuda, [(c.version, c.legacy) for c in matrix.cuda])
    for trt in sorted(matrix.tensorrt, key=lambda t: V(t.full_version), reverse=True):
        if trt.legacy and not legacy_trt:
            continue
        for cuda in sorted(matrix.cuda_versions_for(trt.cuda), key=lambda c: V(c.version), reverse=True):
            if cuda.legacy and not legacy_cuda:
                continue
            rej = Rejected({"tensorrt": trt.full_version, "cuda": cuda.version})
            _pins(prof, ngc, trt, cuda, rej)
            route = usable_route(trt, cuda.major, matrix, prof.channels, prof.pip_indexes, prof.route, platform)
            if route.outside:
                rej.add("profile", "pin:route", f"the profile pins route {prof.route}",
                        f"drop `route:` from {Path(prof.path).name}")
            python = _pick_python(prof, trt, ngc.python if ngc else None)
            if python is None:
                newest = max(trt.python, key=V)
                rej.add("python", "python", f"TensorRT {trt.version} wheels exist for Python {', '.join(trt.python)}; "
                        f"the profile allows {prof.python or 'any'}", f"allow Python {newest} in {Path(prof.path).name}")
            cudnn, cudnn_miss = _pick_cudnn(prof, trt, cuda, matrix, ngc.cudnn if ngc else None)
            if cudnn_miss:
                rej.add("matrix", "cudnn", cudnn_miss)
            if route.cause is not None:
                rej.causes.append(route.cause)
            if host is not None:
                driver_causes(host, cuda, matrix, rej)
                gpu_causes(host, trt, cuda, matrix, rej)
                precision_causes(prof, host, trt, matrix, rej)
            if "profile" in rej.kinds:
                outside.append(rej)
                continue
            if rej.causes or chosen is not None:
                if not rej.causes:
                    rej.add("older", "older", f"older than the chosen {chosen.label() if chosen else ''}".rstrip())
                rejected.append(rej)
                continue
            assert python is not None and route.use is not None
            chosen = Stack(trt.full_version, trt.version, cuda.version, cudnn, python, route.use.route,
                           route.use.confidence)
            choice = route
    res = Resolution(
        profile=prof.name, chosen=chosen, rejected=rejected, outside=outside,
        host_summary=host.summary() if host is not None else None,
        verified=host is not None and host.format != "envkit-targets" and host.driver_version is not None,
        notes=notes,
        route_use=choice.use if choice else None,
        route_why=choice.why if choice else "",
    )
    if choice is not None and choice.use is not None and choice.use.confidence != "confirmed":
        notes.append(f"route {choice.use.route} is {choice.use.confidence}: {choice.use.reason}")
    if host is None:
        notes.append("no host facts (no GPU here and no --host): resolved for any driver; the result is unverified")
    from envkit.resolve_groups import advise

    advise(res, prof, matrix, host)
    return res
