"""Solving with py-rattler, and translating solver / gateway failures into envkit errors.

rattler is imported inside functions only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envkit.config import redact, redact_text
from envkit.engine.types import Record, Target, says_not_found, says_unreachable
from envkit.errors import ChannelError, EnvkitError, SolveError


def channel_url(channel: str) -> str:
    """A channel as rattler should see it: local paths become ``file://`` URLs."""
    if "://" in channel:
        return channel.rstrip("/")
    p = Path(channel).expanduser()
    if channel.startswith(("/", ".", "~")) or p.is_dir():
        return p.resolve().as_uri()
    return channel


def rattler_virtual_packages(target: Target) -> list[Any]:
    """rattler ``GenericVirtualPackage`` objects for the target's virtual packages."""
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.package import BuildString

    return [GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build))
            for vp in target.virtual_packages]


def _gateway(cache_dir: Path, offline: bool) -> Any:
    """A fresh Gateway per solve: no stale in-memory repodata (file:// channels are re-read)."""
    from rattler import Gateway
    from rattler.repo_data.gateway import SourceConfig

    cfg = SourceConfig(cache_action="force-cache-only") if offline else SourceConfig()
    return Gateway(cache_dir=cache_dir / "repodata", default_config=cfg)


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


def _channel_error(exc: BaseException, channels: Sequence[str], offline: bool) -> EnvkitError:
    msg = redact_text(str(exc))
    shown = ", ".join(redact(c) for c in channels)
    low = msg.lower()
    if offline and ("no usable repodata cache" in low or "cache" in low):
        return ChannelError(
            f"offline: no cached repodata for {shown}",
            hint="run once online (or point --channel at a local file:// channel) before using --offline",
        )
    if says_unreachable(low):
        return ChannelError(
            f"channel unreachable: {shown}\n  {msg.splitlines()[0] if msg else ''}",
            hint="check the URL, the network or the mirror map in envkit.toml; --offline uses cached repodata",
        )
    if says_not_found(low):
        return ChannelError(
            f"channel or platform subdir missing: {shown}\n  {msg.splitlines()[0] if msg else ''}",
            hint="a conda channel needs <url>/noarch/repodata.json and <url>/<platform>/repodata.json",
        )
    return ChannelError(f"cannot read channel(s) {shown}: {msg}", hint="check the channel URLs and the mirror map")


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


# --------------------------------------------------------------------------- solve


def solve(
    specs: list[str],
    channels: list[str],
    target: Target,
    *,
    cache_dir: Path,
    offline: bool = False,
    locked: list[Any] | None = None,
    mirrored: dict[str, str] | None = None,
) -> list[Record]:
    """Solve ``specs`` against ``channels`` for ``target``.

    ``mirrored`` maps a channel URL actually used to the name it stands for (conda-forge -> mirror URL),
    so that a package the solver cannot find is reported as missing on that mirror.
    """
    import rattler
    from rattler.exceptions import GatewayError, SolverError

    urls = [channel_url(c) for c in channels]
    if not urls:
        raise SolveError("no channels to solve against", hint="add channels: to the environment file or pass --channel")
    locked_raw = [r.raw if isinstance(r, Record) else r for r in (locked or [])]
    try:
        raw = _run(
            rattler.solve(
                urls,
                specs,
                gateway=_gateway(cache_dir, offline),
                platforms=[target.platform, "noarch"],  # type: ignore[list-item]
                virtual_packages=rattler_virtual_packages(target),
                locked_packages=locked_raw or None,
            )
        )
    except SolverError as exc:
        text = redact_text(str(exc))
        missing = _missing_names(text)
        mirrors = mirrored or {}
        if missing and mirrors:
            where = ", ".join(f"{redact(u)} (mirror of {n})" for u, n in mirrors.items())
            raise ChannelError(
                f"package missing on mirror: {', '.join(missing)} not found in {where}",
                hint="the mirror is lagging or incomplete; sync it or remove the mirror entry from envkit.toml",
            )
        if missing and "__cuda" not in text:
            raise SolveError(
                f"no package named {', '.join(missing)} in {', '.join(redact(u) for u in urls)}",
                hint="check the spelling and the channels (--channel adds or overrides them)",
            )
        short, fact = explain_solver_error(text, target)
        message = "the conda solve found no solution" + (f": {fact}" if fact else "") + "\n" + short
        hint = (
            "use a stack that matches the driver (envkit resolve), upgrade the driver, "
            "or build for another machine with --host FILE"
            if fact and "__cuda" in fact
            else "relax the pins in the environment file"
        )
        raise SolveError(message, hint=hint)
    except GatewayError as exc:
        raise _channel_error(exc, urls, offline)
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise ChannelError(f"cannot read channels: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("rattler"):
            raise _channel_error(exc, urls, offline)
        raise
    return [Record.from_rattler(r) for r in raw]
