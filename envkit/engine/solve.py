"""Solving with py-rattler (one path: sparse repodata from ``envkit.engine.repodata``), and translating solver
and channel failures into envkit errors.

rattler is imported inside functions only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envkit.config import redact, redact_text
from envkit.engine.channels import channel_url
from envkit.engine.repodata import Repodata, RepodataCache
from envkit.engine.types import Record, Target, says_not_found, says_unreachable
from envkit.errors import ChannelError, EnvkitError, InputError, SolveError


def rattler_virtual_packages(target: Target) -> list[Any]:
    """rattler ``GenericVirtualPackage`` objects for the target's virtual packages."""
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.package import BuildString

    return [GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build))
            for vp in target.virtual_packages]


# --------------------------------------------------------------------------- errors


_CUDA_NEED = re.compile(r"__cuda\s*>=?\s*([0-9][0-9.]*)")


def explain_solver_error(text: str, target: Target) -> tuple[str, str | None]:
    """(short explanation, host fact) from rattler's solver tree."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    short = "\n".join(lines[:14]) + ("\n  ..." if len(lines) > 14 else "")
    fact = None
    cuda = target.virtual("__cuda")
    if "__cuda" in text:
        needs = sorted({m.group(1) for m in _CUDA_NEED.finditer(text)}, key=lambda v: [int(x) for x in v.split(".")])
        if cuda is None:
            fact = "no __cuda: this host has no NVIDIA driver (or none was given with --host), CUDA packages need one"
        elif needs:
            want = needs[-1]
            fact = f"__cuda={cuda}: driver too old for CUDA {want} (the stack needs __cuda >={want})"
        else:
            fact = f"__cuda={cuda}: the driver's CUDA version rules out the requested packages"
    elif "__glibc" in text:
        fact = f"__glibc={target.virtual('__glibc')}: the system C library is too old for a requested package"
    return short, fact


_NO_CANDIDATES = re.compile(r"No candidates were found for ([^\s.]+(?: [^\s]+)?)")


def _missing_names(text: str) -> list[str]:
    names = []
    for m in _NO_CANDIDATES.finditer(text):
        names.append(m.group(1).split()[0])
    return list(dict.fromkeys(names))


def _fetch_error(rd: Repodata, offline: bool) -> ChannelError:
    """A channel subdir that could not be read, as the error create reports."""
    shown = redact(rd.channel)
    why = rd.error or f"no {rd.subdir}/repodata.json"
    if offline:
        return ChannelError(
            f"offline: no cached repodata for {shown} ({rd.subdir})",
            hint="run once online (or point --channel at a local file:// channel) before using --offline",
        )
    if rd.fetched.status == "unreachable" or says_unreachable(why.lower()):
        return ChannelError(
            f"channel unreachable: {shown}\n  {why}",
            hint="check the URL, the network or the mirror map in envkit.toml; --offline uses cached repodata",
        )
    if says_not_found(why.lower()) or rd.fetched.status == "missing":
        return ChannelError(
            f"channel or platform subdir missing: {shown}\n  {why}",
            hint="a conda channel needs <url>/noarch/repodata.json and <url>/<platform>/repodata.json",
        )
    return ChannelError(f"cannot read channel {shown}: {why}", hint="check the channel URLs and the mirror map")


_LOOPS = threading.local()  # one event loop per thread for every solve it runs (check solves hundreds)


def _run(coro: Any) -> Any:
    """Run a rattler coroutine on this thread's event loop (``asyncio.run`` made and tore down a loop per
    solve: about 0.1 ms each)."""
    import asyncio

    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


# --------------------------------------------------------------------------- solve


class NoSolution(SolveError):
    """The solver found no solution; ``text`` is its (redacted) explanation, ``missing`` the names it found
    no candidates for. ``solve`` turns it into create's message; check words it per target."""

    def __init__(self, text: str, target: Target) -> None:
        self.text, self.missing = text, _missing_names(text)
        self.short, self.fact = explain_solver_error(text, target)
        super().__init__("the conda solve found no solution" + (f": {self.fact}" if self.fact else "") + "\n" + self.short,
                         hint="relax the pins in the environment file")


def solve_repodata(specs: list[str], repodata: Sequence[Repodata], target: Target, *,
                   locked: Sequence[Record] | None = None) -> list[Record]:
    """The one solve: ``specs`` over the given channel subdirs' repodata for ``target`` (rattler's
    ``solve_with_sparse_repodata``). Raises ``NoSolution``."""
    import rattler
    from rattler.exceptions import InvalidMatchSpecError, SolverError

    for spec in specs:  # a spec rattler cannot read is the file's fault (exit 2), not a solver failure
        try:
            rattler.MatchSpec(spec)
        except InvalidMatchSpecError as exc:
            raise InputError(f"not a conda package spec: {spec!r} ({exc})") from None
    try:
        raw = _run(rattler.solve_with_sparse_repodata(
            specs, [rd.sparse() for rd in repodata], locked_packages=[r.raw for r in locked or ()] or None,
            virtual_packages=rattler_virtual_packages(target),
        ))
    except SolverError as exc:
        raise NoSolution(redact_text(str(exc)), target)
    return [Record.from_rattler(r) for r in raw]


def solve(
    specs: list[str],
    channels: list[str],
    target: Target,
    *,
    cache_dir: Path,
    offline: bool = False,
    locked: list[Record] | None = None,
    mirrored: dict[str, str] | None = None,
) -> list[Record]:
    """Solve ``specs`` against ``channels`` for ``target``, reading repodata through ``RepodataCache(cache_dir)``;
    any channel subdir that cannot be read is a ``ChannelError`` (create never solves on stale repodata unless
    ``offline``).

    ``mirrored`` maps a channel URL actually used to the name it stands for (conda-forge -> mirror URL),
    so that a package the solver cannot find is reported as missing on that mirror.
    """
    urls = [channel_url(c) for c in channels]
    if not urls:
        raise SolveError("no channels to solve against", hint="add channels: to the environment file or pass --channel")
    cache = RepodataCache(cache_dir, offline=offline)
    rds = [cache.get(u, sd) for u in urls for sd in (target.platform, "noarch")]
    for rd in rds:
        if not rd.available or (rd.error and not offline):
            raise _fetch_error(rd, offline)
    try:
        return solve_repodata(specs, rds, target, locked=locked)
    except NoSolution as exc:
        raise _create_message(exc, urls, mirrored or {})
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise ChannelError(f"cannot read channels: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("rattler"):
            raise ChannelError(f"cannot read channel(s) {', '.join(redact(u) for u in urls)}: {redact_text(str(exc))}",
                               hint="check the channel URLs and the mirror map")
        raise


def _create_message(exc: NoSolution, urls: list[str], mirrors: dict[str, str]) -> EnvkitError:
    if exc.missing and mirrors:
        where = ", ".join(f"{redact(u)} (mirror of {n})" for u, n in mirrors.items())
        return ChannelError(
            f"package missing on mirror: {', '.join(exc.missing)} not found in {where}",
            hint="the mirror is lagging or incomplete; sync it or remove the mirror entry from envkit.toml",
        )
    if exc.missing and "__cuda" not in exc.text:
        return SolveError(
            f"no package named {', '.join(exc.missing)} in {', '.join(redact(u) for u in urls)}",
            hint="check the spelling and the channels (--channel adds or overrides them)",
        )
    hint = (
        "use a stack that matches the driver (envkit resolve), upgrade the driver, "
        "or build for another machine with --host FILE"
        if exc.fact and "__cuda" in exc.fact
        else "relax the pins in the environment file"
    )
    return SolveError(exc.message, hint=hint)
