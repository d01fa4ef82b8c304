"""Facts about this machine besides the GPU: OS, glibc, CPU architecture, RAM, disk, conda tools.

Every function returns None (or an entry with an ``error``) instead of raising: doctor
reports what it could learn.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envkit import proc

CONDA_TOOLS = ("conda", "mamba", "micromamba")


def os_name(os_release: Path = Path("/etc/os-release")) -> str | None:
    """e.g. 'Linux 6.8.0 (Ubuntu 24.04.3 LTS)'."""
    try:
        base = f"{platform.system()} {platform.release()}".strip()
    except Exception:
        base = ""
    pretty = None
    try:
        for line in os_release.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.partition("=")[2].strip().strip('"').strip("'")
                break
    except OSError:
        pass
    if pretty:
        return f"{base} ({pretty})" if base else pretty
    return base or None


def glibc_version() -> str | None:
    """The C library's version ('2.39'), None on non-glibc systems."""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # 'glibc 2.39'
    except (AttributeError, ValueError, OSError):
        value = None
    if value and value.startswith("glibc "):
        return value.split()[1]
    try:
        lib, version = platform.libc_ver()
    except Exception:
        return None
    return version if lib == "glibc" and version else None


def arch() -> str | None:
    return platform.machine() or None


def memory() -> dict[str, Any] | None:
    try:
        import psutil

        vm = psutil.virtual_memory()
    except Exception:
        return None
    mib = 1024 * 1024
    return {"total_mib": int(vm.total // mib), "available_mib": int(vm.available // mib)}


def disk(path: Path) -> dict[str, Any] | None:
    """Free space where envkit writes (the nearest existing parent of ``path``)."""
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    try:
        import psutil

        du = psutil.disk_usage(str(target))
    except Exception:
        return None
    mib = 1024 * 1024
    return {"path": str(path), "measured_at": str(target), "total_mib": int(du.total // mib),
            "free_mib": int(du.free // mib)}


def tool_version(name: str, path: str, timeout: float, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """{'path', 'version'} or {'path', 'version': None, 'error'} for one conda-like tool."""
    result = proc.run([path, "--version"], timeout=timeout, env=proc.clean_env(env))
    entry: dict[str, Any] = {"path": path, "version": None}
    if not result.ok:
        entry["error"] = result.describe() + (f": {result.output.splitlines()[-1]}" if result.output else "")
        return entry
    text = result.output.strip().splitlines()
    # 'conda 24.7.1', 'mamba 1.5.8\nconda 24.7.1', '2.0.2' (micromamba)
    first = text[0] if text else ""
    words = first.split()
    entry["version"] = words[-1] if words else None
    if len(text) > 1:
        entry["output"] = " / ".join(t.strip() for t in text)
    return entry


def conda_tools(env: Mapping[str, str], timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """Which of conda, mamba, micromamba are on PATH, with their versions."""
    search = env.get("PATH", os.environ.get("PATH", ""))
    tools: dict[str, dict[str, Any]] = {}
    for name in CONDA_TOOLS:
        path = shutil.which(name, path=search)
        if path is None:
            continue
        tools[name] = tool_version(name, path, timeout, env)
    return tools
