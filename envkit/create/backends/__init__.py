"""Backends that build an environment from an environment.yml.

* ``EmbeddedRattlerBackend`` (default): py-rattler inside envkit (``envkit.create.pipeline``); needs no conda.
* ``CondaCliBackend`` / ``MambaCliBackend`` / ``MicromambaCliBackend``: drive those tools when they are
  on PATH, with exact argv (``create_argv``), through ``envkit.proc.run``. They cannot be installed in
  envkit's test environment, so only their command lines are tested.

All consume the same environment.yml. The CLI backends build into the staging prefix too and are
swapped in by the same ``envkit.create.staging`` machinery (conda embeds the staging path in that case:
the CLI backends create at the final path directly when no environment exists there yet, and build
beside it otherwise; see ``create_with_backend``).
"""

from __future__ import annotations

from envkit.create.backends.base import EnvBackend, get_backend
from envkit.create.backends.cli import CondaCliBackend, MambaCliBackend, MicromambaCliBackend, create_with_backend
from envkit.create.backends.embedded import EmbeddedRattlerBackend

__all__ = [
    "CondaCliBackend",
    "EmbeddedRattlerBackend",
    "EnvBackend",
    "MambaCliBackend",
    "MicromambaCliBackend",
    "create_with_backend",
    "get_backend",
]
