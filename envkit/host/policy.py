"""Which machine(s) a verb answers for: the one rule resolve, generate, create and check share.

``machines_for(settings, ...)``, in order:

1. ``specs`` (check's ``--target``): each of them (``host:DIR``: each capture in it);
2. ``host_file`` (``--host FILE``): that capture, which must show a working driver;
3. ``each=True`` (check: every machine the environment must keep running on, nothing probed): the
   profile's ``targets:``, else its ``platforms:``, else linux-64;
4. otherwise (resolve, generate, create: one machine): this machine when its driver answers, else the
   profile's targets taken together, else this machine without GPU facts (resolve then answers for
   any driver and says the result is unverified).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envkit.errors import HostError, InputError
from envkit.host.machines import Machine, parse_machines

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.matrix.model import Matrix
    from envkit.profile import Profile

DEFAULT_TARGETS = ("linux-64",)


@dataclass
class Answer:
    """The machine(s) a verb answers for, and why (notes for the user)."""

    machines: list[Machine]
    notes: list[str] = field(default_factory=list)

    @property
    def machine(self) -> Machine:
        return self.machines[0]


def machines_for(
    settings: Settings,
    matrix: Matrix | None = None,
    *,
    host_file: str | None = None,
    profile: Profile | None = None,
    specs: list[str] | tuple[str, ...] = (),
    each: bool = False,
) -> Answer:
    """See the module docstring. ``matrix`` maps GPU names to compute capabilities and drivers to CUDA."""
    if specs:
        return Answer(_each(specs, settings, matrix))
    if host_file:
        return Answer([_capture(host_file, settings, matrix)])
    if each:
        return Answer(_profile_machines(profile, settings, matrix))
    here = Machine.from_probe(settings, matrix)
    if here.has_gpu_facts or here.is_jetson:  # a Jetson before JetPack 6 has no nvidia-smi: its L4T release decides
        return Answer([here])
    notes = [f"this machine: {here.note}"]
    if profile is not None and profile.targets:
        fleet = _profile_targets(profile, settings, matrix)
        if fleet is not None:
            notes.append(f"resolved for the profile's targets instead: {', '.join(profile.targets)}")
            return Answer([fleet], notes)
    return Answer([here], notes)


def _each(specs: list[str] | tuple[str, ...], settings: Settings, matrix: Matrix | None) -> list[Machine]:
    return parse_machines(specs, settings, matrix)


def _capture(host_file: str, settings: Settings, matrix: Matrix | None) -> Machine:
    m = Machine.from_capture(host_file, matrix, settings=settings)
    info = m.facts
    if info is not None and not info.ok:
        raise HostError(
            f"{host_file}: the capture shows no usable GPU facts (status {info.status})",
            "; ".join(info.messages) or "capture nvidia-smi -q -x on a machine whose driver works",
        )
    return m


def _profile_machines(profile: Profile | None, settings: Settings, matrix: Matrix | None) -> list[Machine]:
    if profile is None:
        return _each(DEFAULT_TARGETS, settings, matrix)
    if not profile.targets:
        return _each(profile.platforms, settings, matrix)
    try:
        return _each(profile.targets, settings, matrix)
    except InputError as exc:
        raise InputError(exc.message, exc.hint, file=profile.path, line=profile.lines.get("targets"), key="targets")


def _profile_targets(profile: Profile, settings: Settings, matrix: Matrix | None) -> Machine | None:
    try:
        return Machine.from_targets(profile.targets, settings, matrix)
    except InputError as exc:
        raise InputError(exc.message, exc.hint, file=profile.path, line=profile.lines.get("targets"), key="targets")
