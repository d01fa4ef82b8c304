"""Facts of the machine (a live probe or a --host capture) and of an environment (its record
conda-meta/envkit.json, its lock, its last smoke report) for explain's templates and questions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envkit.host.model import HostInfo


def machine_facts(host: HostInfo | None) -> dict[str, str]:
    if host is None or not host.ok:
        return {}
    out: dict[str, str] = {}
    if host.driver_version:
        out["machine_driver"] = host.driver_version
    if host.cuda_version:
        out["machine_cuda"] = host.cuda_version
    if host.gpus:
        out["machine_gpu"] = host.gpus[0].name
        out["machine_gpus"] = str(host.gpu_count)
    cc = host.min_compute_capability()
    if cc:
        out["machine_cc"] = cc
    return out


def environment_facts(prefix: Path, ref: str) -> dict[str, str]:
    """The stack envkit recorded for the environment at ``prefix`` (its record, else its installed package
    records) and the failed layers of its last smoke report."""
    from envkit.create.record import read_record
    from envkit.smoke.report import load_saved_report

    out: dict[str, str] = {"env_ref": ref, "env_prefix": str(prefix)}
    record = read_record(prefix)
    stack: dict[str, Any] = dict(record.stack) if record is not None else {}
    if not stack:
        stack = _stack_from_conda_meta(prefix)
    for key in ("cuda", "tensorrt", "cudnn", "python"):
        value = stack.get(key)
        if isinstance(value, str) and value:
            out[f"env_{key}"] = value
    report = load_saved_report(prefix)
    if report is not None and report.get("failed"):
        out["env_smoke_failed"] = ", ".join(str(x) for x in report["failed"])
    return out


def _stack_from_conda_meta(prefix: Path) -> dict[str, Any]:
    """Versions from conda-meta/NAME-VERSION-BUILD.json (an environment envkit did not record)."""
    from envkit.create.record import STACK_PACKAGES

    by_name: dict[str, str] = {}
    for explicit in sorted(prefix.glob("conda-meta/*.json"))[:5000]:
        parts = explicit.stem.rsplit("-", 2)
        if len(parts) == 3:
            by_name.setdefault(parts[0], parts[1])
    return {k: next((by_name[n] for n in names if n in by_name), None) for k, names in STACK_PACKAGES.items()}
