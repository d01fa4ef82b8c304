"""Check targets: the machines an environment must keep working on, without being on them.

Spec forms (``--target`` and a profile's ``targets:``)::

    linux-64                      a linux-64 machine whose driver runs the environment's pinned CUDA
    linux-aarch64                 the same on ARM
    linux-64:cuda=12.4            a driver that supports CUDA 12.4 (``__cuda=12.4``)
    linux-64:driver=535.104.05    that driver; its CUDA is the newest matrix release it fully supports
    linux-64:cuda=12.4,glibc=2.28 options combine with ``,``; ``glibc=`` sets ``__glibc``
    host:prod.xml                 a saved nvidia-smi capture or ``envkit doctor --json`` record

A bad spec raises ``InputError`` (exit 2) naming the spec and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envkit.errors import InputError
from envkit.versions import V

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix

PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le")
ARCHSPEC = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "linux-ppc64le": "ppc64le"}
ARCH_TO_PLATFORM = {"x86_64": "linux-64", "amd64": "linux-64", "aarch64": "linux-aarch64", "arm64": "linux-aarch64"}
OPTIONS = ("cuda", "driver", "glibc")
DEFAULT_GLIBC = "2.28"
DEFAULT_LINUX = "5.15"
HINT = (
    "target specs look like linux-64, linux-aarch64, linux-64:cuda=12.4, linux-64:driver=535.104.05 "
    "or host:FILE (a saved nvidia-smi capture)"
)


@dataclass(frozen=True)
class CheckTarget:
    """One machine to check against. ``cuda`` None on a plain platform means 'the pinned CUDA'."""

    spec: str
    platform: str
    cuda: str | None = None
    driver: str | None = None
    glibc: str = DEFAULT_GLIBC
    host_file: str | None = None
    note: str | None = None  # e.g. "driver 450.80.02 supports no CUDA release in the matrix"

    @property
    def label(self) -> str:
        return self.spec

    @property
    def any_driver(self) -> bool:
        return self.cuda is None and self.driver is None and self.host_file is None

    def virtual_packages(self, cuda: str | None = None) -> tuple[str, ...]:
        """``name=version=build`` strings; ``cuda`` fills in the CUDA of a plain-platform target."""
        vps = ["__unix=0=0", f"__linux={DEFAULT_LINUX}=0", f"__glibc={self.glibc}=0"]
        arch = ARCHSPEC.get(self.platform)
        if arch:
            vps.append(f"__archspec=1={arch}")
        c = self.cuda or (cuda if self.any_driver else None)
        if c:
            vps.append(f"__cuda={c}=0")
        return tuple(vps)

    def synthetic_host(self, cuda: str | None = None) -> HostInfo:
        """A GPU-less ``HostInfo`` carrying the target's driver and CUDA, for the resolve logic."""
        from envkit.host.model import HostInfo

        return HostInfo(
            status="capture",
            source=f"target {self.spec}",
            format="envkit-target",
            driver_version=self.driver,
            cuda_version=self.cuda or (cuda if self.any_driver else None),
            gpus=[],
            glibc=self.glibc,
            arch=ARCHSPEC.get(self.platform),
        )


def driver_max_cuda(matrix: Matrix, driver: str) -> str | None:
    """The newest CUDA release of the matrix whose minimum Linux driver is <= ``driver``."""
    best: str | None = None
    for rel in matrix.cuda:
        need = rel.min_driver.get("linux")
        if need and V(need) <= V(driver) and (best is None or V(rel.version) > V(best)):
            best = rel.version
    return best


def _bad(spec: str, why: str) -> InputError:
    return InputError(f"bad target {spec!r}: {why}", HINT, key="--target")


def parse_target(spec: str, settings: Settings | None = None, *, matrix: Matrix | None = None) -> CheckTarget:
    """Parse one target spec (see the module docstring). ``matrix`` maps a driver to its CUDA."""
    text = spec.strip()
    if not text:
        raise _bad(spec, "empty")
    if text.startswith("host:"):
        return _host_target(text, settings, matrix)
    platform, _, rest = text.partition(":")
    if platform not in PLATFORMS:
        from envkit.yamlio import did_you_mean

        guess = did_you_mean(platform, list(PLATFORMS))
        raise _bad(spec, f"unknown platform {platform!r}" + (f"; {guess}" if guess else f" (known: {', '.join(PLATFORMS)})"))
    opts: dict[str, str] = {}
    if rest or text.endswith(":"):
        for part in rest.split(","):
            key, eq, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not value:
                raise _bad(spec, f"expected KEY=VALUE after ':', got {part!r}")
            if key not in OPTIONS:
                raise _bad(spec, f"unknown option {key!r} (known: {', '.join(OPTIONS)})")
            if key in opts:
                raise _bad(spec, f"{key} given twice")
            try:
                V(value)
            except ValueError:
                raise _bad(spec, f"{key}={value!r} is not a version")
            opts[key] = value
    if "cuda" in opts and "driver" in opts:
        raise _bad(spec, "give cuda= or driver=, not both (the driver decides the CUDA it supports)")
    target = CheckTarget(spec=text, platform=platform, cuda=opts.get("cuda"), driver=opts.get("driver"),
                         glibc=opts.get("glibc", DEFAULT_GLIBC))
    if target.driver:
        target = _with_driver_cuda(target, settings, matrix)
    return target


def _matrix(settings: Settings | None, matrix: Matrix | None) -> Matrix | None:
    if matrix is not None or settings is None:
        return matrix
    from envkit.matrix.load import load_matrix

    return load_matrix(settings.matrix_path)


def _with_driver_cuda(target: CheckTarget, settings: Settings | None, matrix: Matrix | None) -> CheckTarget:
    m = _matrix(settings, matrix)
    if m is None or target.driver is None:
        return target
    cuda = driver_max_cuda(m, target.driver)
    if cuda is None:
        oldest = min(m.cuda, key=lambda r: V(r.version), default=None)
        need = oldest.min_driver.get("linux") if oldest else None
        note = f"driver {target.driver} supports no CUDA release in the matrix"
        if oldest and need:
            note += f" (the oldest, CUDA {oldest.version}, needs >= {need})"
        return replace(target, note=note)
    return replace(target, cuda=cuda)


def _host_target(text: str, settings: Settings | None, matrix: Matrix | None) -> CheckTarget:
    file = text[len("host:") :].strip()
    if not file:
        raise _bad(text, "host: needs a file (a saved nvidia-smi capture or `envkit doctor --json` record)")
    path = Path(file)
    if not path.is_absolute() and settings is not None and not path.exists():
        alt = settings.project_dir / path
        path = alt if alt.exists() else path
    if not path.is_file():
        raise _bad(text, f"no such file: {file}")
    from envkit.host.parse import read_capture

    host = read_capture(path)
    platform = ARCH_TO_PLATFORM.get((host.arch or "x86_64").lower(), "linux-64")
    target = CheckTarget(spec=text, platform=platform, cuda=None, driver=host.driver_version,
                         glibc=host.glibc or DEFAULT_GLIBC, host_file=str(path))
    cuda = host.effective_cuda()
    if cuda:
        return replace(target, cuda=cuda)
    if target.driver:
        return _with_driver_cuda(target, settings, matrix)
    return replace(target, note=f"{file}: no driver and no CUDA version in the capture")


def parse_targets(specs: list[str] | tuple[str, ...], settings: Settings | None = None,
                  *, matrix: Matrix | None = None) -> list[CheckTarget]:
    out: list[CheckTarget] = []
    for s in specs:
        t = parse_target(s, settings, matrix=matrix)
        if t not in out:
            out.append(t)
    return out
