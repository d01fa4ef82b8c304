"""Machines: what an environment must run on, however it is named, as one typed ``Machine``.

A machine is named one of four ways; each gives the same ``Machine``:

* ``Machine.from_probe(settings)``: this machine (nvidia-smi, glibc, kernel, CPU);
* ``Machine.from_capture(path)``: a saved nvidia-smi capture or ``envkit doctor --json`` record (``--host FILE``);
* ``Machine.from_spec(spec)``: a declared target (``--target``, a profile's ``targets:``)::

    linux-64                      a linux-64 machine whose driver runs the environment's pinned CUDA
    linux-aarch64                 the same on ARM
    linux-64:cuda=12.4            a driver that supports CUDA 12.4 (``__cuda=12.4``)
    linux-64:driver=535.104.05    that driver; its CUDA is the newest matrix release it fully supports
    linux-64:cuda=12.4,glibc=2.28 options combine with ``,``; ``glibc=`` sets ``__glibc``
    host:prod.xml                 a saved capture (as ``from_capture``)
    host:fleet/                   every capture in a directory, one machine each (``parse_machines``)

* ``Machine.from_targets(specs)``: a profile's targets taken together (the oldest driver, the lowest CUDA,
  every captured GPU): the one machine the newest common stack must run on.

``machine.solve_target()`` is the conda solve's input (platform + typed virtual packages, from the one
``PLATFORMS`` table and ``virtual_packages`` rule of ``envkit.host.platforms``); ``machine.host_facts()`` is
what resolve reasons with. ``envkit.host.policy.machines_for`` decides which machine(s) a verb answers for.
A bad spec raises ``InputError`` (exit 2) naming the spec and what is allowed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from envkit.engine.types import Target
from envkit.errors import InputError
from envkit.host.platforms import (
    DEFAULT_GLIBC,
    DEFAULT_LINUX,
    PLATFORM_ALIASES,
    PLATFORMS,
    platform_for,
    virtual_packages,
)
from envkit.versions import V

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix


SPEC_OPTIONS = ("cuda", "driver", "glibc")
MAX_FLEET = 20_000  # captures read from one host:DIR (a fleet of 10,000 nodes is issue 11's scale)
SPEC_HINT = (
    "target specs look like linux-64, linux-aarch64, linux-64:cuda=12.4, linux-64:driver=535.104.05 "
    "or host:FILE (a saved nvidia-smi capture)"
)

Kind = Literal["this", "capture", "spec", "targets"]



def driver_max_cuda(matrix: Matrix, driver: str, os_name: str = "linux") -> str | None:
    """The newest CUDA release of the matrix whose minimum driver is <= ``driver``."""
    best: str | None = None
    for rel in matrix.cuda:
        need = rel.min_driver.get(os_name)
        if need and V(need) <= V(driver) and (best is None or V(rel.version) > V(best)):
            best = rel.version
    return best


@dataclass(frozen=True)
class Machine:
    """One machine an environment must run on. ``cuda`` None on a plain platform means 'the pinned CUDA'."""

    kind: Kind
    label: str  # "this machine", the capture path, the spec text, the targets joined
    platform: str
    driver: str | None = None
    cuda: str | None = None  # the CUDA the solve assumes (``__cuda``): the driver's, or CONDA_OVERRIDE_CUDA
    glibc: str = DEFAULT_GLIBC
    linux: str = DEFAULT_LINUX
    host_file: str | None = None
    note: str | None = None  # e.g. "driver 450.80.02 supports no CUDA release in the matrix"
    facts: HostInfo | None = field(default=None, compare=False, repr=False)  # probe / capture / targets

    # ---- naming a machine -------------------------------------------------------------------
    @classmethod
    def from_probe(cls, settings: Settings, matrix: Matrix | None = None) -> Machine:
        """This machine: nvidia-smi (bounded by the settings' timeout), glibc, kernel, CPU."""
        from envkit.host import system
        from envkit.host.probe import probe

        info = probe(settings, cc_lookup=matrix.compute_capability_for if matrix else None, system_facts=False)
        info.arch, info.glibc = system.arch(), system.glibc_version()
        os_name = "windows" if sys.platform == "win32" else "linux"
        usable = info.ok and bool(info.driver_version)
        note = None if usable else info.status + (f" ({info.messages[0]})" if info.messages else "")
        return cls("this", "this machine", platform_for(info.arch, os_name), driver=info.driver_version if usable
                   else None, cuda=info.effective_cuda(), glibc=info.glibc or DEFAULT_GLIBC,
                   linux=_kernel() or DEFAULT_LINUX, note=note, facts=info)

    @classmethod
    def from_capture(cls, path: str | Path, matrix: Matrix | None = None, *, label: str | None = None,
                     settings: Settings | None = None) -> Machine:
        """A saved capture; a driver without a CUDA version gets the newest CUDA the matrix says it runs."""
        from envkit.host.parse import read_capture

        info = read_capture(path, cc_lookup=matrix.compute_capability_for if matrix else None)
        m = cls("capture", label or str(path), _capture_platform(info), driver=info.driver_version,
                cuda=info.effective_cuda(), glibc=info.glibc or DEFAULT_GLIBC, host_file=str(path), facts=info)
        if m.cuda is None and m.driver:
            return m._with_driver_cuda(settings, matrix)
        if m.cuda is None:
            return replace(m, note=f"{path}: no driver and no CUDA version in the capture")
        return m

    @classmethod
    def from_spec(cls, spec: str, settings: Settings | None = None, matrix: Matrix | None = None) -> Machine:
        """Parse one target spec (see the module docstring). ``matrix`` maps a driver to its CUDA."""
        text = spec.strip()
        if not text:
            raise _bad(spec, "empty")
        if text.startswith("host:"):
            path = _capture_path(text, settings)
            if path.is_dir():
                raise _bad(spec, "a directory names several machines (a list of targets takes it)")
            return cls.from_capture(path, matrix, label=text, settings=settings)
        platform, _, rest = text.partition(":")
        if platform not in PLATFORMS:
            from envkit.yamlio import did_you_mean

            known = list(PLATFORMS)
            guess = (f"did you mean {PLATFORM_ALIASES[platform]!r}?" if platform in PLATFORM_ALIASES
                     else did_you_mean(platform, known))
            raise _bad(spec, f"unknown platform {platform!r}" + (f"; {guess}" if guess else f" (known: {', '.join(known)})"))
        opts = _options(spec, rest, text.endswith(":"))
        if "cuda" in opts and "driver" in opts:
            raise _bad(spec, "give cuda= or driver=, not both (the driver decides the CUDA it supports)")
        m = cls("spec", text, platform, driver=opts.get("driver"), cuda=opts.get("cuda"),
                glibc=opts.get("glibc", DEFAULT_GLIBC))
        return m._with_driver_cuda(settings, matrix) if m.driver else m

    @classmethod
    def from_targets(cls, specs: list[str] | tuple[str, ...], settings: Settings | None = None,
                     matrix: Matrix | None = None) -> Machine | None:
        """A profile's targets as one machine (oldest driver, lowest CUDA, lowest glibc, every captured GPU);
        None when none of them says anything about the driver or CUDA."""
        from envkit.host.model import HostInfo

        members = parse_machines(specs, settings, matrix)
        drivers = [m.driver for m in members if m.driver]
        cudas = [m.cuda for m in members if m.cuda]
        if not drivers and not cudas:
            return None
        gpus = [g for m in members if m.facts is not None for g in m.facts.gpus]
        for i, g in enumerate(gpus):
            g.index = i
        joined = ", ".join(specs)
        import platform as _platform

        here = platform_for(_platform.machine())
        platforms = list(dict.fromkeys(m.platform for m in members))
        facts = HostInfo(
            status="capture", source="targets: " + joined, format="envkit-targets",
            driver_version=min(drivers, key=V) if drivers else None,
            cuda_version=min(cudas, key=V) if cudas else None, gpus=gpus,
            messages=[f"the profile's targets ({joined}): the oldest driver and lowest CUDA among them"],
        )
        return cls("targets", joined, here if here in platforms else platforms[0], driver=facts.driver_version,
                   cuda=facts.cuda_version, glibc=min((m.glibc for m in members), key=V), facts=facts)

    def _with_driver_cuda(self, settings: Settings | None, matrix: Matrix | None) -> Machine:
        m = _matrix(settings, matrix)
        if m is None or self.driver is None:
            return self
        # a WSL2 machine runs linux packages on a Windows driver: the driver table's windows column
        windows_driver = self.facts is not None and self.facts.machine_type in ("wsl2", "windows")
        os_name = "windows" if windows_driver else PLATFORMS[self.platform].os
        cuda = driver_max_cuda(m, self.driver, os_name)
        if cuda is not None:
            return replace(self, cuda=cuda)
        oldest = min(m.cuda, key=lambda r: V(r.version), default=None)
        need = oldest.min_driver.get(os_name) if oldest else None
        note = f"driver {self.driver} supports no CUDA release in the matrix"
        if oldest and need:
            note += f" (the oldest, CUDA {oldest.version}, needs >= {need})"
        return replace(self, note=note)

    # ---- what the machine means -------------------------------------------------------------
    @property
    def any_driver(self) -> bool:
        """A plain platform: any driver that runs the environment's pinned CUDA."""
        return self.kind == "spec" and self.cuda is None and self.driver is None

    @property
    def has_gpu_facts(self) -> bool:
        """Whether a driver (or a declared CUDA) is known: False for this machine without a working GPU."""
        return self.driver is not None or (self.cuda is not None and self.kind != "this")

    def solve_cuda(self, pinned: str | None = None) -> str | None:
        return self.cuda or (pinned if self.any_driver else None)

    def solve_target(self, pinned_cuda: str | None = None) -> Target:
        """The conda solve's input; ``pinned_cuda`` stands in for a plain platform's CUDA."""
        return Target(self.platform, virtual_packages(self.platform, cuda=self.solve_cuda(pinned_cuda),
                                                      glibc=self.glibc, linux=self.linux))

    def signature(self, pinned_cuda: str | None = None) -> tuple[str, ...]:
        """Equal for machines that give the same solve (dedup of identical solve inputs)."""
        return (self.platform, *self.solve_target(pinned_cuda).strings())

    def conda_overrides(self) -> dict[str, str]:
        """``CONDA_OVERRIDE_*`` that make conda, mamba and micromamba solve for this machine as envkit does
        (none for this machine itself: they detect it, and the user's own overrides pass through)."""
        if self.kind == "this":
            return {}
        out = {"CONDA_OVERRIDE_CUDA": self.cuda or ""}  # empty: no __cuda
        if PLATFORMS[self.platform].os == "linux":
            out["CONDA_OVERRIDE_GLIBC"] = self.glibc
        return out

    @property
    def is_jetson(self) -> bool:
        """A Jetson (envkit.host.kinds): its JetPack/L4T release fixes the stack, nvidia-smi or not."""
        return self.facts is not None and self.facts.machine_type == "jetson"

    def host_facts(self, pinned_cuda: str | None = None) -> HostInfo | None:
        """What resolve reasons with: the probe's or capture's facts, a declared machine's driver and CUDA;
        None for this machine when its driver does not answer (resolve then answers for any driver)."""
        if self.kind == "this":
            return self.facts if self.has_gpu_facts or self.is_jetson else None
        if self.facts is not None:
            return self.facts
        from envkit.host.model import HostInfo

        return HostInfo(status="capture", source=f"target {self.label}", format="envkit-target",
                        driver_version=self.driver, cuda_version=self.solve_cuda(pinned_cuda), gpus=[],
                        glibc=self.glibc, arch=PLATFORMS[self.platform].archspec)

    def describe(self) -> str:
        """One line naming the machine and its facts."""
        if self.kind == "this":
            facts = self.facts.summary() if self.facts is not None and self.has_gpu_facts else f"no GPU ({self.note})"
            return f"this machine ({self.platform}): {facts}"
        if self.kind == "capture" and self.facts is not None:
            return f"{self.label}: {self.facts.summary()}"
        cuda = f"CUDA {self.cuda}" if self.cuda else "the pinned CUDA"
        driver = f"driver {self.driver}, " if self.driver else ""
        what = "the profile's targets" if self.kind == "targets" else "target"
        return f"{what} {self.label} ({self.platform}): {driver}{cuda}" + (f"; {self.note}" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "platform": self.platform,
            "driver": self.driver,
            "cuda": self.cuda,
            "glibc": self.glibc,
            "host_file": self.host_file,
            "this_machine": self.kind == "this",
            "gpu_facts": self.has_gpu_facts,
            "note": self.note,
            "summary": self.describe(),
            "virtual_packages": self.solve_target().strings(),
        }


def parse_machines(specs: list[str] | tuple[str, ...], settings: Settings | None = None,
                   matrix: Matrix | None = None) -> list[Machine]:
    """Target specs as machines, in order, without duplicates; ``host:DIR`` gives one machine per capture
    file in the directory (a fleet's saved captures; hidden files skipped, at most ``MAX_FLEET`` of them)."""
    out: list[Machine] = []
    seen: set[Machine] = set()
    for spec in specs:
        text = spec.strip()
        path = _capture_path(text, settings) if text.startswith("host:") else None
        if path is not None and path.is_dir():
            files = sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_file())
            if not files:
                raise _bad(spec, f"no capture files in {path}")
            if len(files) > MAX_FLEET:
                raise _bad(spec, f"{len(files)} files in {path}; at most {MAX_FLEET} captures per directory")
            found = [Machine.from_capture(f, matrix, label=f"host:{f}", settings=settings) for f in files]
        else:
            found = [Machine.from_spec(text, settings, matrix)]
        for m in found:
            if m not in seen:
                seen.add(m)
                out.append(m)
    return out


def _bad(spec: str, why: str) -> InputError:
    return InputError(f"bad target {spec!r}: {why}", SPEC_HINT, key="--target")


def _options(spec: str, rest: str, trailing_colon: bool) -> dict[str, str]:
    opts: dict[str, str] = {}
    if not rest and not trailing_colon:
        return opts
    for part in rest.split(","):
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not value:
            raise _bad(spec, f"expected KEY=VALUE after ':', got {part!r}")
        if key not in SPEC_OPTIONS:
            raise _bad(spec, f"unknown option {key!r} (known: {', '.join(SPEC_OPTIONS)})")
        if key in opts:
            raise _bad(spec, f"{key} given twice")
        try:
            V(value)
        except ValueError:
            raise _bad(spec, f"{key}={value!r} is not a version")
        opts[key] = value
    return opts


def _capture_path(text: str, settings: Settings | None) -> Path:
    file = text[len("host:") :].strip()
    if not file:
        raise _bad(text, "host: needs a file (a saved nvidia-smi capture or `envkit doctor --json` record)")
    path = Path(file)
    if not path.is_absolute() and settings is not None and not path.exists():
        alt = settings.project_dir / path
        path = alt if alt.exists() else path
    if not path.is_file() and not path.is_dir():
        raise _bad(text, f"no such file: {file}")
    return path


def _capture_platform(info: HostInfo) -> str:
    """A capture's platform: its CPU architecture, else what kind of machine it is (``envkit.host.kinds``:
    a Jetson is ARM, a native Windows driver is win-64, WSL2 is Linux)."""
    if info.machine_type == "jetson":
        return platform_for(info.arch or "aarch64")
    return platform_for(info.arch, "windows" if info.machine_type == "windows" else "linux")


def _matrix(settings: Settings | None, matrix: Matrix | None) -> Matrix | None:
    if matrix is not None or settings is None:
        return matrix
    from envkit.matrix.load import load_for

    return load_for(settings)


def _kernel() -> str | None:
    """This machine's Linux kernel version ('6.8.0'), as conda's ``__linux`` gives it."""
    if not sys.platform.startswith("linux"):
        return None
    import platform as _platform

    m = re.match(r"\d+(\.\d+){0,3}", _platform.release())
    return m.group(0) if m else None
