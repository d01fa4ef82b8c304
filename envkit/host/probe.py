"""Inspect this machine: run nvidia-smi (with a timeout) and gather the system facts.

``probe()`` never raises for a machine problem: no nvidia-smi, no driver, a failing or
hanging nvidia-smi each give a HostInfo with its own ``status`` and a message.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from envkit import proc
from envkit.context import Settings
from envkit.errors import InputError
from envkit.host import model, system
from envkit.host.model import CcLookup, HostInfo
from envkit.host.parse import parse_capture, parse_compute_caps
from envkit.host.smi_errors import error_explanation, status_from_error_text

KNOWN_PLACES: tuple[str, ...] = (
    "/usr/lib/wsl/lib/nvidia-smi",  # WSL2
    "/usr/bin/nvidia-smi",
    "/usr/local/nvidia/bin/nvidia-smi",  # NVIDIA container toolkit mounts
    r"C:\Windows\System32\nvidia-smi.exe",
    r"C:\Program Files\NVIDIA Corporation\NVSMI\nvidia-smi.exe",
)


def find_nvidia_smi(settings: Settings, known_places: Sequence[str] = KNOWN_PLACES) -> tuple[str | None, str]:
    """(path or None, how it was chosen). An explicit choice is never replaced by a fallback."""
    if settings.nvidia_smi:
        chosen = settings.nvidia_smi
        how = "--nvidia-smi / ENVKIT_NVIDIA_SMI"
        if os.sep not in chosen and "/" not in chosen:
            found = shutil.which(chosen, path=settings.env.get("PATH"))
            return (found, how) if found else (None, how)
        return (chosen, how) if Path(chosen).exists() else (None, how)
    on_path = shutil.which("nvidia-smi", path=settings.env.get("PATH", os.environ.get("PATH", "")))
    if on_path:
        return on_path, "PATH"
    for place in known_places:
        if place.startswith("C:") and sys.platform != "win32":
            continue
        if os.path.isfile(place) and os.access(place, os.X_OK):
            return place, "known place"
    return None, "not found"


def probe(
    settings: Settings,
    timeout: float | None = None,
    *,
    cc_lookup: CcLookup | None = None,
    known_places: Sequence[str] = KNOWN_PLACES,
    system_facts: bool = True,
) -> HostInfo:
    """Inspect this machine. ``timeout`` (seconds) bounds each nvidia-smi call."""
    limit = settings.nvidia_smi_timeout if timeout is None else timeout
    smi, how = find_nvidia_smi(settings, known_places)
    info = _gpu_facts(settings, smi, how, limit)
    info.fill_compute_capability(cc_lookup)
    override = settings.env.get("CONDA_OVERRIDE_CUDA")
    info.conda_override_cuda = (override.strip() or None) if override is not None else None
    if info.conda_override_cuda and not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", info.conda_override_cuda):
        raise InputError(f"CONDA_OVERRIDE_CUDA={info.conda_override_cuda[:40]!r} is not a CUDA version",
                         "set it to a version like 12.4 (empty: no CUDA driver), or unset it",
                         key="CONDA_OVERRIDE_CUDA")
    if info.conda_override_cuda:
        info.messages.append(
            f"CONDA_OVERRIDE_CUDA={info.conda_override_cuda} is set: conda solves as if the driver supported "
            f"CUDA {info.conda_override_cuda}" + (f" (it reports {info.cuda_version})" if info.cuda_version else "")
        )
    _this_kind(info)
    if system_facts:
        info.os = system.os_name()
        info.glibc = system.glibc_version()
        info.arch = system.arch()
        info.memory = system.memory()
        info.disk = system.disk(settings.cache_dir)
        info.tools = system.conda_tools(settings.env, timeout=max(limit, 2.0))
    return info


def _this_kind(info: HostInfo) -> None:
    """A Jetson or a WSL2 machine, from this machine's files (envkit.host.kinds)."""
    from envkit.host.kinds import from_this_machine

    kind = from_this_machine()
    if kind.kind is not None:
        info.machine_type, info.l4t, info.board = kind.kind, kind.l4t, kind.board
        info.messages.append(f"{kind.kind} machine: {kind.evidence}")


def _gpu_facts(settings: Settings, smi: str | None, how: str, timeout: float) -> HostInfo:
    def result(status: str, *messages: str) -> HostInfo:
        return HostInfo(status=status, source="nvidia-smi", format=None, driver_version=None, cuda_version=None,
                        messages=list(messages), nvidia_smi=smi)

    if smi is None:
        if settings.nvidia_smi:
            return result(model.MISSING, f"nvidia-smi not found at {settings.nvidia_smi} (chosen by {how})")
        return result(model.MISSING, "nvidia-smi not found on PATH nor in " + ", ".join(
            p for p in KNOWN_PLACES if not p.startswith("C:") or sys.platform == "win32"
        ) + ": no NVIDIA driver installed, or set ENVKIT_NVIDIA_SMI / --nvidia-smi")
    env = proc.clean_env(settings.env)
    xml = proc.run([smi, "-q", "-x"], timeout=timeout, env=env)
    failed = _failure(xml, smi, timeout)
    if failed is not None:
        failed.nvidia_smi = smi
        return failed
    try:
        info = parse_capture(xml.stdout, f"output of `{smi} -q -x`")
    except InputError as exc:
        return result(model.FAILED, f"nvidia-smi printed output envkit cannot read: {exc.message}")
    if info.status == model.CAPTURE:
        info.status = model.OK
    info.source = "nvidia-smi"
    info.nvidia_smi = smi
    if info.status != model.OK:
        return info
    if any(g.compute_capability is None for g in info.gpus):
        query = proc.run([smi, "--query-gpu=index,compute_cap", "--format=csv"], timeout=timeout, env=env)
        caps = parse_compute_caps(query.stdout) if query.ok else {}
        if query.timed_out:
            info.messages.append(f"`nvidia-smi --query-gpu=index,compute_cap` did not answer within {timeout:g} s")
        elif "is not a valid field" in query.output:
            info.messages.append("this nvidia-smi has no compute_cap query field (470-series and older drivers)")
        for gpu in info.gpus:
            cc = caps.get(gpu.index)
            if cc and gpu.compute_capability is None:
                gpu.compute_capability = cc
                gpu.compute_capability_source = "nvidia-smi"
    return info


def _failure(r: proc.ProcResult, smi: str, timeout: float) -> HostInfo | None:
    """The HostInfo for a failed nvidia-smi call, None when it succeeded."""

    def result(status: str, *messages: str) -> HostInfo:
        return HostInfo(status=status, source="nvidia-smi", format=None, driver_version=None, cuda_version=None,
                        messages=list(messages))

    if r.not_found:
        return result(model.MISSING, f"nvidia-smi not found: {smi}")
    if r.error:
        return result(model.FAILED, f"cannot run {smi}: {r.error}")
    if r.timed_out:
        return result(model.TIMEOUT, f"`{smi} -q -x` did not answer within {timeout:g} s and was killed "
                                     "(a wedged GPU or driver? try again, or raise --timeout)")
    known = status_from_error_text(r.output)
    if r.returncode != 0 or (known and "<nvidia_smi_log" not in r.stdout):
        if known:
            status, line = known
            return result(status, f"nvidia-smi failed (exit code {r.returncode}): {line}", *error_explanation(r.output))
        detail = r.stderr.strip() or r.stdout.strip() or "(no output)"
        return result(model.FAILED, f"nvidia-smi failed (exit code {r.returncode}): {detail[-2000:]}")
    if not r.stdout.strip():
        return result(model.FAILED, "nvidia-smi exited 0 but printed nothing")
    return None
