"""``envkit explain``'s engine: scan a log (``scan``), read facts, ask the matrix (``questions``), render
causes and fixes (``diagnose``) from the catalogue (``catalogue``, ``catalogue.yaml``).

Entry points for other verbs: ``explain_stream`` / ``explain_text`` (diagnoses of a text, e.g. a failed
create or smoke) and ``looks_like_error_log`` (a cheap yes/no for ``doctor --host`` given a log).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from envkit.explain.catalogue import Catalogue
    from envkit.explain.diagnose import Diagnosis
    from envkit.matrix.model import Matrix

SCHEMA = "envkit.explain/1"


@dataclass
class Explanation:
    diagnoses: list[Diagnosis]
    lines: int
    bytes: int
    encoding: str
    facts: dict[str, str] = field(default_factory=dict)
    catalogue_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "catalogue_version": self.catalogue_version,
            "input": {"lines": self.lines, "bytes": self.bytes, "encoding": self.encoding},
            "log_facts": self.facts,
            "diagnoses": [d.to_json() for d in self.diagnoses],
        }


@lru_cache(maxsize=4)
def _packaged() -> Catalogue:
    from envkit.explain.catalogue import load_catalogue

    return load_catalogue(None, {})


def default_catalogue(project_dir: Path | None = None, env: dict[str, str] | None = None) -> Catalogue:
    """The shipped catalogue plus the project's overlays (cached when there are none)."""
    from envkit.explain.catalogue import load_catalogue, overlay_paths

    if not overlay_paths(project_dir, env):
        return _packaged()
    return load_catalogue(project_dir, env)


def explain_stream(stream: BinaryIO, *, catalogue: Catalogue | None = None, context_facts: dict[str, str] | None = None,
                   matrix_loader: Callable[[], Matrix | None] | None = None, limit: int | None = None) -> Explanation:
    from envkit.explain.diagnose import diagnose
    from envkit.explain.questions import Context
    from envkit.explain.scan import Scanner

    cat = catalogue or _packaged()
    scan = (_packaged_scanner() if catalogue is None else Scanner(cat)).scan(stream, limit=limit)
    ctx = Context(cat, matrix_loader or _packaged_matrix)
    diagnoses = diagnose(scan, cat, dict(context_facts or {}), ctx)
    return Explanation(diagnoses, scan.lines, scan.bytes, scan.encoding, dict(scan.facts), cat.version)


def explain_text(text: str, **kw: Any) -> Explanation:
    return explain_stream(io.BytesIO(text.encode("utf-8", "replace")), **kw)


def explain_failure(text: str, matrix_path: Path | None = None, project_dir: Path | None = None) -> list[Diagnosis]:
    """Diagnoses of a failed verb's error text (``create``, ``smoke``): errors only, never raising."""
    def load() -> Matrix | None:
        from envkit.matrix.load import load_matrix

        return load_matrix(matrix_path) if matrix_path is not None else _packaged_matrix()

    try:
        cat = default_catalogue(project_dir)
        found = explain_text(text, catalogue=cat if project_dir is not None else None, matrix_loader=load)
    except Exception:  # the failure being reported matters more than its explanation
        return []
    return [d for d in found.diagnoses if d.severity == "error"]


_GENERIC = re.compile(r"Traceback \(most recent call last\)|\b(?:ERROR|FATAL|FAILED)\b|\berror:|Error Code \d+|"
                      r"cannot open shared object file|[Ee]xception\b|Segmentation fault|Aborted \(core dumped\)")


def looks_like_error_log(text: str) -> bool:
    """Whether ``text`` (e.g. a file given to ``doctor --host``) reads like an error log worth ``envkit explain``:
    a known failure of the catalogue or a generic error marker in its first MiB."""
    head = text[: 1 << 20]
    if _GENERIC.search(head):
        return True
    try:
        return bool(explain_text(head, matrix_loader=lambda: None).diagnoses)
    except Exception:  # a yes/no helper must not fail its caller
        return False


@lru_cache(maxsize=1)
def _packaged_scanner() -> Any:
    from envkit.explain.scan import Scanner

    return Scanner(_packaged())


def _packaged_matrix() -> Matrix | None:
    from envkit.context import packaged_matrix
    from envkit.matrix.load import load_matrix

    return load_matrix(packaged_matrix())


__all__ = ["SCHEMA", "Explanation", "default_catalogue", "explain_failure", "explain_stream", "explain_text",
           "looks_like_error_log"]
