"""The smoke test: prove an environment works, from inside it, layer by layer.

``smoke_prefix(prefix, ...)`` runs ``payload.py`` with the environment's own Python and returns a
``SmokeReport``; ``load_saved_report(prefix)`` reads the last one saved with the environment.
"""

from __future__ import annotations

from envkit.smoke.report import SCHEMA, SmokeReport, layer_needed, load_saved_report
from envkit.smoke.runner import activation_env, read_pins, smoke_prefix

__all__ = [
    "SCHEMA",
    "SmokeReport",
    "activation_env",
    "layer_needed",
    "load_saved_report",
    "read_pins",
    "smoke_prefix",
]
