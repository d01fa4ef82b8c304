"""The embedded conda engine: solve and install with py-rattler (facade over the ``envkit.engine`` modules).

Every module of the engine imports ``rattler`` inside functions only, so importing this module is
cheap and an up-to-date ``envkit create`` never loads rattler.

Public API (others rely on these names, all importable from here):

* ``Target(platform, virtual_packages)`` (``engine.types``): what to solve for, a tuple of typed
  ``VirtualPackage(name, version, build)``. Targets are made by ``envkit.host.machines.Machine.solve_target()``
  (the one platform table and virtual-package rule), or read back from a lock.
* ``solve(specs, channels, target, *, cache_dir, offline=False, locked=None) -> list[Record]`` (``engine.solve``);
  raises ``SolveError`` (the solver's explanation shortened, plus the host fact behind it) or ``ChannelError``
  (a channel unreachable, a subdir missing, a package missing on a mirror; channel URLs redacted).
* ``install(records, prefix, *, cache_dir, reporter=None, execute_link_scripts=True,
  target_prefix=None, on_cached=None) -> InstallStats`` (``engine.install``); raises ``InstallError`` /
  ``ChannelError``. A failing post-link script (which rattler only reports) is raised as ``InstallError``.
* ``verify_cache`` / ``stamp_cache`` / ``CacheStamper`` (``engine.cache``): package-cache integrity.
* ``activation_script(prefix, current_path)`` (``engine.activation``).

``Record`` is a thin frozen dataclass (name, version, build, url, sha256, md5, channel, subdir, depends,
constrains, size, file_name) that also carries the rattler ``RepoDataRecord`` in ``.raw`` (for
installing and for writing locks). Build one from a RepoDataRecord with ``Record.from_rattler``.
"""

from __future__ import annotations

from envkit.engine.activation import activation_script
from envkit.engine.cache import CacheStamper, stamp_cache, verify_cache
from envkit.engine.channels import channel_url
from envkit.engine.install import disk_full, install, install_error
from envkit.engine.solve import explain_solver_error, solve
from envkit.engine.types import InstallStats, Record, Reporter, Target, VirtualPackage

__all__ = [
    "CacheStamper",
    "InstallStats",
    "Record",
    "Reporter",
    "Target",
    "VirtualPackage",
    "activation_script",
    "channel_url",
    "disk_full",
    "explain_solver_error",
    "install",
    "install_error",
    "solve",
    "stamp_cache",
    "verify_cache",
]
