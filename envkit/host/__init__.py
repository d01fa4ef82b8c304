"""The host: what machine an environment must run on (driver, CUDA, GPUs, OS, tools).

``parse``: read a saved nvidia-smi capture or doctor record; ``probe``: inspect this machine.
"""

from __future__ import annotations

from envkit.host.model import SCHEMA, Gpu, HostInfo
from envkit.host.parse import parse_capture, read_capture

__all__ = ["SCHEMA", "Gpu", "HostInfo", "parse_capture", "read_capture"]
