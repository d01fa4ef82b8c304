"""The embedded conda engine: solve and install with py-rattler (facade over the ``envkit.engine`` modules).

Every module of the engine imports ``rattler`` inside functions only, so importing this module is
cheap and an up-to-date ``envkit create`` never loads rattler.

Public API (others rely on these names, all importable from here):

* ``Target(platform, virtual_packages)`` (``engine.types``): what to solve for. ``virtual_packages`` are
  strings ``"__cuda=12.4=0"``, ``"__glibc=2.28=0"``, ``"__linux=5.15=0"``, ``"__unix=0=0"``, ``"__archspec=1=x86_64"``.
* ``target_for_host(host, platform=None)`` (``engine.targets``): a Target from an ``envkit.host.model.HostInfo``
  (``None``: this machine, via ``VirtualPackage.detect(VirtualPackageOverrides.from_env())``, which honours
  ``CONDA_OVERRIDE_CUDA`` and friends).
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
from envkit.engine.install import disk_full, install, install_error
from envkit.engine.solve import channel_url, explain_solver_error, solve
from envkit.engine.targets import _generic, generic_virtual_packages, target_for_host
from envkit.engine.types import InstallStats, Record, Reporter, Target

__all__ = [
    "CacheStamper",
    "InstallStats",
    "Record",
    "Reporter",
    "Target",
    "_generic",
    "activation_script",
    "channel_url",
    "disk_full",
    "explain_solver_error",
    "generic_virtual_packages",
    "install",
    "install_error",
    "solve",
    "stamp_cache",
    "target_for_host",
    "verify_cache",
]
