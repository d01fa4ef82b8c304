"""``envkit validate``: check any conda environment file against the compatibility matrix.

``validate_env(env, matrix, host)`` works out the environment's effective stack (CUDA, cuDNN,
TensorRT, Python) from everything the file says (see ``envkit.validate.evidence``) and reports
findings ``{severity, line, code, message, hint}`` sorted by line. TensorRT/CUDA/cuDNN facts come
from the matrix, which CUDA a framework's PyPI build carries and Python's end-of-life dates from
``envkit.validate.facts`` (sourced tables); the host (an ``HostInfo``) adds driver and GPU checks.

Finding codes (stable) with their severities: the table in README.md ("Validate findings"; a test keeps
it complete).

Layout: ``evidence`` reads the version evidence from the file (records in ``evidence_model``, framework
facts in ``facts``); ``rules_cuda`` judges the environment's CUDA, ``rules_stack`` TensorRT, cuDNN and
Python against the matrix, ``rules_hygiene`` pinning and packaging, ``rules_read`` how conda tools read
the file and what validate cannot see, ``rules_frameworks`` framework and channel spellings,
``rules_host`` the driver and GPUs; this module runs them, groups repeated causes and builds the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from envkit.envfile import EnvFile
from envkit.matrix.model import Matrix
from envkit.validate.evidence_model import Finding
from envkit.validate.rules_cuda import cuda_rules
from envkit.validate.rules_frameworks import framework_rules
from envkit.validate.rules_host import host_rules
from envkit.validate.rules_hygiene import hygiene, packaging, pip_options, unpinned
from envkit.validate.rules_read import platform_vs_host, python_eol, read_rules
from envkit.validate.rules_stack import Checker

if TYPE_CHECKING:
    from envkit.host.model import HostInfo

__all__ = ["Finding", "ValidateReport", "validate_env"]

_SEV_ORDER = {"error": 0, "warning": 1, "info": 2}
_RULES = (cuda_rules, Checker.trt_rules, Checker.cudnn_rules, Checker.python_rules, unpinned, packaging,
          hygiene, pip_options, read_rules, framework_rules)


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
            platform_vs_host(c, host)
        except Exception as exc:
            c.add("info", None, "internal", f"host checks skipped: {type(exc).__name__}: {exc}")
    findings = sorted(
        _group(_dedupe(c.findings)), key=lambda f: (f.line if f.line is not None else 10**9, _SEV_ORDER[f.severity], f.code)
    )
    return ValidateReport(file=env.path, stack=c.stack_json(), findings=findings, host=host,
                          matrix_version=matrix.matrix_version)


# one finding per file for these, naming every line: the same cause repeated is not news
_GROUPED = ("pip-stub-needs-nvidia-index", "pre-release", "pip-local-version", "pip-unseen")


def _group(findings: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for f in findings:
        if f.code not in _GROUPED:
            out.append(f)
            continue
        same = [g for g in findings if g.code == f.code]
        if f is not same[0]:
            continue
        if len(same) == 1:
            out.append(f)
            continue
        others = "; ".join(f"line {g.line}: {g.message.split(': ', 1)[0]}" for g in same[1:])
        out.append(Finding(f.severity, f.line, f.code, f"{f.message} The same for {len(same) - 1} more ({others})",
                           f.hint))
    return out


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

