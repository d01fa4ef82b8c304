"""`envkit matrix`: show the compatibility matrix, one NGC stack (--ngc TAG), check it (--check), or answer
one question in one line each (--gpu NAME, --trt VERSION, --cuda VERSION, --driver VERSION)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.context import Settings
from envkit.errors import ExitCode, InputError
from envkit.matrix.load import Finding, check_matrix, load_for
from envkit.matrix.model import Matrix
from envkit.matrix.queries import Answer
from envkit.result import Message
from envkit.yamlio import did_you_mean

if TYPE_CHECKING:
    from rich.console import Console


def _table(console: Console, title: str, columns: list[str], rows: list[list[str]]) -> Any:
    from envkit.render import table

    t = table(console, title, columns)
    for r in rows:
        t.add_row(*r)
    return t


@dataclass
class MatrixSummary:
    matrix: Matrix

    def to_json(self) -> dict[str, Any]:
        return self.matrix.to_json()

    def messages(self) -> list[Message]:
        return []

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def render(self, console: Console) -> None:
        m = self.matrix
        console.print(f"matrix {m.matrix_version} ({m.path})")
        rows = []
        for t in sorted(m.tensorrt, key=lambda r: _vkey(r.version)):
            cudas = [c.version for c in m.cuda_versions_for(t.cuda)]
            cc = " ".join(t.architectures) if t.architectures else f"{t.min_compute_capability}+"
            py = f"{t.python[0]}-{t.python[-1]}" if t.python else "-"
            mark = {"confirmed": "", "unconfirmed": "?", "expected-to-fail": "!"}
            routes = ", ".join(f"{r.route}{mark.get(r.confidence, '')}(cu{'/'.join(str(x) for x in r.cuda_majors)})"
                               for r in t.routes)
            cudnn = ("required " if t.cudnn_required else "optional ") + ",".join(t.cudnn_versions) if (
                t.cudnn_required or t.cudnn_versions) else "-"
            flag = (" *" if t.meta.unconfirmed or any(r.confidence != "confirmed" for r in t.routes) else "") + (
                " (legacy)" if t.legacy else "")
            rows.append([t.version + flag, t.full_version, _ranges(cudas), cc, py, cudnn.strip(), routes])
        console.print(_table(console, "TensorRT", ["line", "full", "CUDA", "CC", "python", "cuDNN", "routes"], rows))
        crow = []
        for c in m.cuda:
            crow.append([
                c.version + (" *" if c.meta.unconfirmed else "") + (" (legacy)" if c.legacy else ""),
                c.min_driver.get("linux", "-"),
                c.min_driver.get("windows", "-"),
                m.minor_compat_driver(c.version) or "none",
                f"{m.cuda_min_cc(c) or '?'}-{c.max_compute_capability or '?'}",
            ])
        console.print(_table(console, "CUDA", ["CUDA", "min driver (linux)", "(windows)", "minor-compat floor", "CC"],
                             crow))
        drow = [[d.version, d.full_version, ", ".join(d.cuda), ", ".join(d.pip.values())] for d in m.cudnn]
        console.print(_table(console, "cuDNN", ["line", "full", "CUDA", "pip"], drow))
        nrow = [[n.tag + (" *" if n.meta.unconfirmed else ""), n.tensorrt, n.cuda, n.cudnn or "-", n.python or "-"]
                for n in m.ngc]
        console.print(_table(console, "NGC tensorrt containers", ["tag", "TensorRT", "CUDA", "cuDNN", "python"], nrow))
        jrow = [[j.version + (" *" if j.meta.unconfirmed else ""), j.l4t, j.tensorrt, j.cuda, j.cudnn or "-",
                 " ".join(j.compute_capabilities)] for j in m.jetpack]
        console.print(_table(console, "JetPack (Jetson)", ["JetPack", "L4T", "TensorRT", "CUDA", "cuDNN", "CC"], jrow))
        console.print(f"{len(m.gpus)} GPU names, {len(m.precisions)} precisions; * = unconfirmed facts; route? = unconfirmed route, "
                      "route! = route expected to fail "
                      "(see `envkit matrix --json`)")


def _vkey(v: str) -> Any:
    from envkit.versions import V

    return V(v)


def _ranges(versions: list[str]) -> str:
    """["11.8", "12.0", "12.1"] -> "11.8, 12.0-12.1" (consecutive records of one major collapse)."""
    from envkit.versions import major

    groups: list[list[str]] = []
    for v in versions:
        if groups and major(groups[-1][-1]) == major(v):
            groups[-1].append(v)
        else:
            groups.append([v])
    return ", ".join(g[0] if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups)


@dataclass
class NgcResult:
    matrix: Matrix
    tag: str

    def to_json(self) -> dict[str, Any]:
        data = next(n for n in self.matrix.to_json()["ngc"] if n["tag"] == self.tag)
        stack = self.matrix.ngc_stack(self.tag)
        trt = self.matrix.tensorrt_release(stack.tensorrt) if stack else None
        data["tensorrt_line"] = trt.version if trt else None
        return data

    def messages(self) -> list[Message]:
        return []

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def render(self, console: Console) -> None:
        n = self.matrix.ngc_stack(self.tag)
        assert n is not None
        console.print(f"nvcr.io/nvidia/tensorrt:{n.tag}")
        console.print(f"  TensorRT {n.tensorrt}, CUDA {n.cuda}, cuDNN {n.cudnn or '?'}, Python {n.python or '?'}")
        if n.min_driver:
            console.print("  minimum driver: " + ", ".join(f"{k} {v}" for k, v in n.min_driver.items()))
        console.print("  source: " + ", ".join(self.matrix.urls(n.meta.source)))
        if n.meta.unconfirmed:
            console.print(f"  unconfirmed: {n.meta.unconfirmed}")
        if n.meta.notes:
            console.print(f"  notes: {n.meta.notes}")


@dataclass
class CheckResult:
    file: str
    findings: list[Finding] = field(default_factory=list)
    matrix_version: str | None = None

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "ok": self.ok,
            "matrix_version": self.matrix_version,
            "findings": [f.to_json() for f in self.findings],
        }

    def messages(self) -> list[Message]:
        return []

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.ok else ExitCode.FINDINGS)

    def render(self, console: Console) -> None:
        for f in self.findings:
            console.print(f"{f.severity}: {f}", markup=False, highlight=False)
        errors = sum(1 for f in self.findings if f.severity == "error")
        warnings = sum(1 for f in self.findings if f.severity == "warning")
        verdict = "ok" if self.ok else "FAILED"
        console.print(f"{self.file}: {verdict} ({errors} error(s), {warnings} warning(s))", markup=False)


@dataclass
class QueryResult:
    answers: list[Answer]

    def to_json(self) -> dict[str, Any]:
        return {"answers": [a.to_json() for a in self.answers]}

    def messages(self) -> list[Message]:
        return []

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def render(self, console: Console) -> None:
        for a in self.answers:
            console.print(a.line, markup=False, highlight=False)


def _queries(args: argparse.Namespace, m: Matrix) -> QueryResult | None:
    from envkit.matrix import queries

    asked = [(getattr(args, k, None), f) for k, f in (("gpu", queries.gpu), ("trt", queries.tensorrt),
                                                       ("cuda", queries.cuda), ("driver", queries.driver))]
    answers = [f(m, str(v)) for v, f in asked if v]
    return QueryResult(answers) if answers else None


def run(args: argparse.Namespace, settings: Settings) -> MatrixSummary | NgcResult | CheckResult | QueryResult:
    path = settings.matrix_path
    if getattr(args, "check", False):
        m = load_for(settings, check=False)  # schema errors raise MatrixError (exit 2)
        label = ", ".join([str(path), *m.overlays])
        return CheckResult(label, check_matrix(m), m.matrix_version)
    m = load_for(settings)
    q = _queries(args, m)
    if q is not None:
        return q
    tag = getattr(args, "ngc", None)
    if tag:
        stack = m.ngc_stack(tag)
        if stack is None:
            tags = [n.tag for n in m.ngc]
            hint = did_you_mean(tag, tags) or did_you_mean(f"{tag}-py3", tags)
            raise InputError(f"unknown NGC TensorRT tag {tag!r}", hint or f"known tags: {', '.join(tags)}")
        return NgcResult(m, stack.tag)
    return MatrixSummary(m)
