"""The machines a profile must run on (its ``targets:``), as one set of host facts for resolve.

When envkit has no facts about the machine it runs on (no GPU here, no ``--host``), a profile's
declared targets still say what the stack must run on: the oldest driver, the lowest CUDA, and
the GPUs of any ``host:FILE`` capture among them. Resolving against that "fleet" picks the newest
stack every target can run, so the generated file that CI checks is the one production can use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envkit.versions import V

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix
    from envkit.profile import Profile


def fleet_host(prof: Profile, settings: Settings, matrix: Matrix) -> HostInfo | None:
    """Combined host facts of the profile's targets, or None when they carry no driver/CUDA facts."""
    if not prof.targets:
        return None
    from envkit.check.targets import parse_targets
    from envkit.host.model import Gpu, HostInfo
    from envkit.host.parse import read_capture

    targets = parse_targets(prof.targets, settings, matrix=matrix)
    drivers = [t.driver for t in targets if t.driver]
    cudas = [t.cuda for t in targets if t.cuda]
    if not drivers and not cudas:
        return None
    gpus: list[Gpu] = []
    for t in targets:
        if t.host_file:
            for g in read_capture(t.host_file, cc_lookup=matrix.compute_capability_for).gpus:
                g.index = len(gpus)
                gpus.append(g)
    return HostInfo(
        status="capture",
        source="targets: " + ", ".join(prof.targets),
        format="envkit-targets",
        driver_version=min(drivers, key=V) if drivers else None,
        cuda_version=min(cudas, key=V) if cudas else None,
        gpus=gpus,
        messages=[f"the profile's targets ({', '.join(prof.targets)}): the oldest driver and lowest CUDA among them"],
    )
