"""Targets: the platform and virtual packages a solve is for (this machine, or a captured host)."""

from __future__ import annotations

import platform as _platform
from collections.abc import Sequence
from typing import Any

from envkit.engine.types import Target


def _arch_to_platform(arch: str | None) -> str:
    a = (arch or _platform.machine()).lower()
    if a in ("aarch64", "arm64"):
        return "linux-aarch64"
    if a in ("ppc64le",):
        return "linux-ppc64le"
    return "linux-64"


def target_for_host(host: Any = None, platform: str | None = None) -> Target:
    """The Target of a HostInfo (another machine's capture), or of this machine when ``host`` is None."""
    if host is None:
        from rattler import VirtualPackage, VirtualPackageOverrides

        detected = VirtualPackage.detect(VirtualPackageOverrides.from_env())
        strings = tuple(str(v.into_generic()) for v in detected)
        return Target(platform or _arch_to_platform(None), strings)
    arch = getattr(host, "arch", None)
    plat = platform or _arch_to_platform(arch)
    vps: list[str] = ["__unix=0=0"]
    if plat.startswith("linux"):
        vps.append("__linux=5.15=0")
        glibc = getattr(host, "glibc", None) or "2.28"
        vps.append(f"__glibc={glibc}=0")
    cuda = host.effective_cuda() if hasattr(host, "effective_cuda") else getattr(host, "cuda_version", None)
    if cuda:
        vps.append(f"__cuda={cuda}=0")
    archspec = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "linux-ppc64le": "ppc64le"}.get(plat)
    if archspec:
        vps.append(f"__archspec=1={archspec}")
    return Target(plat, tuple(vps))


def generic_virtual_packages(vps: Sequence[str]) -> list[Any]:
    """rattler ``GenericVirtualPackage`` objects for ``"__name=version=build"`` strings."""
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.package import BuildString

    out = []
    for s in vps:
        name, _, rest = s.partition("=")
        version, _, build = rest.partition("=")
        out.append(GenericVirtualPackage(PackageName(name), Version(version or "0"), BuildString(build or "0")))
    return out


_generic = generic_virtual_packages  # the name envkit.check and benchmarks/bench_check.py import
