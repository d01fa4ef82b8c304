"""check's jobs (one environment on one machine) and their split into CI shards.

``envkit check --list`` prints the jobs; ``envkit check --shard I/N`` runs the I-th of N shares. The split is
deterministic (it depends on the jobs only: every CI job computes the same one without talking to the others)
and balanced: jobs whose machines give the same solve input (``Machine.signature``) stay together, so a shard
pays one solve for them, and these groups are dealt largest first to the least loaded shard (ties: the lower
shard). Equal groups (the usual environment x target case) are dealt round-robin; shard sizes then differ by at
most one job. The union of all N shares is the unsharded job list, each job exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from envkit.check.steps import EnvUnit
from envkit.errors import UsageError
from envkit.host.machines import Machine

MAX_SHARDS = 10_000
_SHARD = re.compile(r"^\s*(\d{1,5})\s*/\s*(\d{1,5})\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``I/N`` with 1 <= I <= N <= 10000."""
    m = _SHARD.match(text or "")
    if not m:
        raise UsageError(f"--shard {text!r}: expected I/N, e.g. 2/4 (the second of four shares)",
                         "number shards from 1: --shard 1/4 ... --shard 4/4")
    index, count = int(m.group(1)), int(m.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise UsageError(f"--shard {text}: I must be between 1 and N, and N between 1 and {MAX_SHARDS}",
                         "number shards from 1: --shard 1/4 ... --shard 4/4")
    return Shard(index, count)


def jobs(units: list[EnvUnit]) -> list[tuple[EnvUnit, Machine]]:
    """Every (environment, machine) pair, in check's order."""
    return [(u, m) for u in units for m in u.machines]


def assign(units: list[EnvUnit], count: int) -> list[int]:
    """For each job of ``jobs(units)``: its shard, 0-based."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (u, m) in enumerate(jobs(units)):
        groups.setdefault((u.name, str(u.env_path), m.signature()), []).append(i)
    order = sorted(groups.values(), key=lambda idx: (-len(idx), idx[0]))
    load = [0] * count
    out = [0] * sum(len(g) for g in order)
    for members in order:
        k = min(range(count), key=lambda s: (load[s], s))
        load[k] += len(members)
        for i in members:
            out[i] = k
    return out


def take(units: list[EnvUnit], shard: Shard) -> list[EnvUnit]:
    """The units of one shard, each with only its machines in that shard (units left with none drop out)."""
    where = iter(assign(units, shard.count))
    out = []
    for u in units:
        mine = [m for m in u.machines if next(where) == shard.index - 1]
        if mine:
            out.append(EnvUnit(name=u.name, env_path=u.env_path, profile=u.profile, machines=mine))
    return out
