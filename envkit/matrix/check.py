"""Cross-reference and contradiction checks of a loaded matrix (``envkit matrix --check``).

``check_matrix(m)`` returns every :class:`Finding` (error, warning or info); ``load_matrix``
raises the first error. The rules, one function per topic, are in ``envkit.matrix.check_rules``;
what they verify is listed in docs/matrix-schema.md ("What --check verifies").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from envkit.errors import MatrixError
from envkit.matrix.model import Matrix, Sourced


@dataclass(frozen=True)
class Finding:
    """One problem ``check_matrix`` found: severity "error" | "warning" | "info"."""

    severity: str
    key: str
    line: int | None
    message: str
    file: str | None = None
    hint: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = (self.file or "matrix.yaml") + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.key}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "file": self.file,
            "key": self.key,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }

    def to_error(self) -> MatrixError:
        return MatrixError(self.message, self.hint, file=self.file, line=self.line, key=self.key)


@dataclass
class Checker:
    """The matrix under check and the findings so far; rules call ``add``."""

    m: Matrix
    out: list[Finding] = field(default_factory=list)
    rule: str = ""

    def add(self, severity: str, key: str, message: str, hint: str | None = None) -> None:
        self.out.append(Finding(severity, key, self.m.line_of(key), message, self.m.file_of(key), hint, self.rule))

    def records(self) -> list[tuple[str, Sourced]]:
        """Every sourced record as (key path, metadata)."""
        m = self.m
        recs: list[tuple[str, Sourced]] = []
        recs += [(f"pip_indexes[{i}]", s) for i, s in enumerate(m.pip_index_meta)]
        recs += [(f"cuda_majors[{i}]", c.meta) for i, c in enumerate(m.cuda_majors.values())]
        recs += [(f"cuda[{i}]", c.meta) for i, c in enumerate(m.cuda)]
        recs += [(f"cudnn[{i}]", c.meta) for i, c in enumerate(m.cudnn)]
        recs += [(f"tensorrt[{i}]", t.meta) for i, t in enumerate(m.tensorrt)]
        recs += [(f"routes[{i}]", r.meta) for i, r in enumerate(m.routes.values())]
        recs += [(f"precisions[{i}]", p.meta) for i, p in enumerate(m.precisions.values())]
        recs += [(f"gpus[{i}]", g.meta) for i, g in enumerate(m.gpus)]
        recs += [(f"ngc[{i}]", n.meta) for i, n in enumerate(m.ngc)]
        recs += [(f"jetpack[{i}]", j.meta) for i, j in enumerate(m.jetpack)]
        return recs


def check_matrix(m: Matrix) -> list[Finding]:
    """References and contradictions (docs/matrix-schema.md "What --check verifies")."""
    from envkit.matrix import check_rules

    c = Checker(m)
    for name, rule in check_rules.RULES:
        c.rule = name
        rule(c)
    c.rule = "unconfirmed"
    unconfirmed = sum(1 for _, meta in c.records() if meta.unconfirmed)
    if unconfirmed:
        c.out.append(Finding("info", "(top level)", None, f"{unconfirmed} record(s) are marked unconfirmed", m.path,
                             rule="unconfirmed"))
    return c.out
