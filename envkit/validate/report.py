"""``envkit validate``: check any conda environment file against the compatibility matrix.

``validate_env(env, matrix, host)`` works out the environment's effective stack (CUDA, cuDNN,
TensorRT, Python) from everything the file says (see ``envkit.validate.evidence``) and reports
findings ``{severity, line, code, message, hint}`` sorted by line. Compatibility facts come
from the matrix only; the host (an ``HostInfo``) adds driver and GPU checks.

Finding codes (stable): trt-cuda-mismatch, trt-cudnn-mismatch, trt-version-conflict,
cudnn-cuda-mismatch, cudnn-version-conflict, cudnn-missing, cuda-major-conflict,
cuda-minor-mismatch, python-unsupported, unpinned-critical, unknown-version, eol-cuda,
pip-stub-needs-nvidia-index, deprecated-package, onnxruntime-gpu-cuda, conda-pip-duplicate,
channel-none, prefix-set, unparsed-spec, trt-not-on-channels, route-unconfirmed; with a host: driver-too-old, driver-minor-compat,
no-driver, gpu-too-old, gpu-too-new, gpu-unknown-cc, no-gpu.

Layout: ``evidence`` reads the version evidence from the file (and holds ``Finding``),
``rules_stack`` checks the stack against the matrix, ``rules_hygiene`` pinning and
packaging, ``rules_host`` the driver and GPUs; this module runs them and builds the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from envkit.envfile import EnvFile
from envkit.matrix.model import Matrix
from envkit.validate.evidence_model import Finding
from envkit.validate.rules_cuda import cuda_rules
from envkit.validate.rules_host import host_rules
from envkit.validate.rules_hygiene import hygiene, packaging, unpinned
from envkit.validate.rules_read import python_eol, read_rules
from envkit.validate.rules_stack import Checker

if TYPE_CHECKING:
    from envkit.host.model import HostInfo

__all__ = ["Finding", "ValidateReport", "validate_env"]

_SEV_ORDER = {"error": 0, "warning": 1, "info": 2}
_RULES = (cuda_rules, Checker.trt_rules, Checker.cudnn_rules, Checker.python_rules, unpinned, packaging,
          hygiene, read_rules)


@dataclass
class ValidateReport:
    file: str
    stack: dict[str, Any]
    findings: list[Finding]
    host: HostInfo | None = None
    matrix_version: str | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def codes(self, severity: str | None = None) -> list[str]:
        return [f.code for f in self.findings if severity is None or f.severity == severity]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "stack": self.stack,
            "findings": [f.to_json() for f in self.findings],
            "summary": {s: self.count(s) for s in ("error", "warning", "info")},
            "host": self.host.to_json() if self.host is not None else None,
            "matrix_version": self.matrix_version,
        }


def validate_env(env: EnvFile, matrix: Matrix, host: HostInfo | None = None,
                 today: date | None = None) -> ValidateReport:
    """Analyse one environment file; never raises on odd content (odd specs become info findings).
    ``today`` dates the end-of-life checks (default: the current date)."""
    c = Checker(env, matrix)
    for rule in _RULES:
        try:
            rule(c)
        except Exception as exc:  # a rule must never crash validate on a strange file
            c.add("info", None, "internal", f"check {rule.__name__} skipped: {type(exc).__name__}: {exc}")
    python_eol(c, today or date.today())
    if host is not None:
        try:
            host_rules(c, host)
        except Exception as exc:
            c.add("info", None, "internal", f"host checks skipped: {type(exc).__name__}: {exc}")
    findings = sorted(
        _dedupe(c.findings), key=lambda f: (f.line if f.line is not None else 10**9, _SEV_ORDER[f.severity], f.code)
    )
    return ValidateReport(file=env.path, stack=c.stack_json(), findings=findings, host=host,
                          matrix_version=matrix.matrix_version)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[int | None, str]] = set()
    out = []
    for f in findings:
        key = (f.line, f.code)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out

