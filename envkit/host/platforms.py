"""Platforms: the one table of conda platforms envkit knows, and the one rule for a machine's virtual packages.

``PLATFORMS`` (archspec, what ``uname -m`` says, wheel tags) is read by profiles (``platforms:``), target
specs, captures (``envkit.host.machines``), check's pip step and bundle's wheel downloads.
``virtual_packages(platform, cuda=..., glibc=..., linux=...)`` is what every solve assumes about a machine.
A new platform is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from envkit.engine.types import VirtualPackage


@dataclass(frozen=True)
class Platform:
    """A conda platform (subdir) and what envkit needs to know about it."""

    name: str
    os: str  # the matrix's driver-table key: "linux" or "windows"
    archspec: str  # ``__archspec``
    machine_names: tuple[str, ...]  # what ``uname -m`` / a capture's ``arch`` says
    wheel_tags: tuple[str, ...]  # pip platform tags of wheels that install there, best first


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux-64", "linux", "x86_64", ("x86_64", "amd64"),
                 ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "linux_x86_64")),
        Platform("linux-aarch64", "linux", "aarch64", ("aarch64", "arm64"),
                 ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "linux_aarch64")),
        Platform("linux-ppc64le", "linux", "ppc64le", ("ppc64le",), ("manylinux2014_ppc64le", "linux_ppc64le")),
        Platform("win-64", "windows", "x86_64", ("amd64", "x86_64"), ("win_amd64",)),
    )
}
PLATFORM_ALIASES = {"linux-arm64": "linux-aarch64", "linux-x86_64": "linux-64", "linux-amd64": "linux-64",
                    "win64": "win-64"}
DEFAULT_PLATFORM = "linux-64"
DEFAULT_GLIBC = "2.28"  # what a declared machine is assumed to have (the manylinux_2_28 baseline)
DEFAULT_LINUX = "5.15"


def platform_for(arch: str | None, os_name: str = "linux") -> str:
    """The conda platform of a CPU architecture (``uname -m``) on an OS ("linux" or "windows")."""
    a = (arch or "x86_64").lower()
    for p in PLATFORMS.values():
        if p.os == os_name and a in p.machine_names:
            return p.name
    return next((p.name for p in PLATFORMS.values() if p.os == os_name), DEFAULT_PLATFORM)


def virtual_packages(platform: str, *, cuda: str | None, glibc: str = DEFAULT_GLIBC,
                     linux: str = DEFAULT_LINUX) -> tuple[VirtualPackage, ...]:
    """The virtual packages of a machine: the one rule every solve uses."""
    plat = PLATFORMS[platform]
    vps: list[VirtualPackage] = []
    if plat.os == "linux":
        vps += [VirtualPackage("__unix", "0"), VirtualPackage("__linux", linux), VirtualPackage("__glibc", glibc)]
    else:
        vps.append(VirtualPackage("__win", "0"))
    vps.append(VirtualPackage("__archspec", "1", plat.archspec))
    if cuda:
        vps.append(VirtualPackage("__cuda", cuda))
    return tuple(vps)

