"""The smoke test: prove an environment works, from inside it, layer by layer.

``smoke_prefix(prefix, ...)`` runs ``payload.py`` with the environment's own Python and returns a
``SmokeReport``; ``load_saved_report(prefix)`` reads the last one saved with the environment.
"""

from __future__ import annotations

from typing import Any

from envkit.smoke.report import SCHEMA, SmokeReport, layer_needed, load_saved_report

_RUNNER = ("activation_env", "read_pins", "smoke_prefix")


def __getattr__(name: str) -> Any:
    """The runner's names load the runner (subprocess, threads) only when used: ``list`` reads reports only."""
    if name in _RUNNER:
        from envkit.smoke import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'envkit.smoke' has no attribute {name!r}")

__all__ = [
    "SCHEMA",
    "SmokeReport",
    "activation_env",
    "layer_needed",
    "load_saved_report",
    "read_pins",
    "smoke_prefix",
]
