"""Host facts for the verbs that reason about a machine: a saved capture or this machine."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from envkit.errors import HostError

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix
    from envkit.profile import Profile


def host_for(
    args: argparse.Namespace, settings: Settings, matrix: Matrix, prof: Profile | None = None
) -> tuple[HostInfo | None, list[str]]:
    """(host or None, notes). ``--host FILE`` reads a capture; otherwise this machine is probed, and
    when it has no GPU, the profile's declared targets stand in for it."""
    host_file = getattr(args, "host", None)
    if host_file:
        from envkit.host.parse import read_capture

        info = read_capture(host_file, cc_lookup=matrix.compute_capability_for)
        if not info.ok:
            raise HostError(
                f"{host_file}: the capture shows no usable GPU facts (status {info.status})",
                "; ".join(info.messages) or "capture nvidia-smi -q -x on a machine whose driver works",
            )
        return info, []
    from envkit.host.probe import probe

    info = probe(settings, cc_lookup=matrix.compute_capability_for, system_facts=False)
    if info.ok and info.driver_version:
        return info, []
    notes = [f"this machine: {info.status}" + (f" ({info.messages[0]})" if info.messages else "")]
    if prof is not None:
        from envkit.fleet import fleet_host

        fleet = fleet_host(prof, settings, matrix)
        if fleet is not None:
            notes.append(f"resolved for the profile's targets instead: {', '.join(prof.targets)}")
            return fleet, notes
    return None, notes
