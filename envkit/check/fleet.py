"""check over a fleet: which environments run on which kinds of machine, and how many nodes each failure hits.

A kind is what a node presents to resolve and solve (platform, GPUs with their compute capability, driver, CUDA:
``HostInfo.summary``); a declared target (``linux-64:driver=...``) is its own kind. ``machines()`` is the
``summary.machines`` list of ``check --json`` and the summary table of the human output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envkit.check.steps import Row


def machines(rows: list[Row], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per kind of machine, most nodes first: its nodes, the environments failing there (with the
    failing steps) and the nodes affected (nodes of that kind with any failure)."""
    nodes: dict[str, set[str]] = {}
    failing: dict[str, dict[str, set[str]]] = {}
    affected: dict[str, set[str]] = {}
    for r in rows:
        kind = kinds.get(r.target, r.target)
        nodes.setdefault(kind, set()).add(r.target)
        if r.status == "fail":
            failing.setdefault(kind, {}).setdefault(r.environment, set()).add(r.step)
            affected.setdefault(kind, set()).add(r.target)
    out = [{"kind": kind,
            "nodes": len(targets),
            "failing": {env: sorted(steps) for env, steps in sorted(failing.get(kind, {}).items())},
            "nodes_affected": len(affected.get(kind, ())),
            "example": min(targets)}
           for kind, targets in nodes.items()]
    return sorted(out, key=lambda m: (-m["nodes"], m["kind"]))


def grouped_failures(rows: list[Row], kinds: dict[str, str]) -> list[tuple[Row, int]]:
    """Failures once per (environment, step, kind of machine): the first node's row and how many nodes share it."""
    first: dict[tuple[str, str, str], Row] = {}
    count: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r.environment, r.step, kinds.get(r.target, r.target))
        first.setdefault(key, r)
        count[key] = count.get(key, 0) + 1
    return [(first[k], count[k]) for k in first]
