"""The one way benchmarks/ measure: whole processes (what a user waits for), a warm-up, envkit and its baseline
alternated run by run (so a load spike on this shared machine hits both), medians, min-max and ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Case = tuple[str, Sequence[str]]  # (name, argv)


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ, PYTHONPATH=str(ROOT), **extra)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def run_once(argv: Sequence[str], environ: dict[str, str] | None = None, cwd: Path | None = None,
             check: bool = True) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environ or env(),
                         cwd=cwd or ROOT)
    dt = time.perf_counter() - t0
    if check and res.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {res.returncode}: {res.stderr.decode()[-2000:]}")
    return dt


def alternate(cases: list[Case], runs: int, warmup: int = 2, environ: dict[str, str] | None = None,
              before: Callable[[str], None] | None = None, cwd: Path | None = None) -> dict[str, list[float]]:
    """Every case once per round, ``warmup`` rounds discarded; ``before(name)`` runs untimed before each."""
    samples: dict[str, list[float]] = {name: [] for name, _ in cases}
    for i in range(warmup + runs):
        for name, argv in cases:
            if before:
                before(name)
            t = run_once(argv, environ, cwd)
            if i >= warmup:
                samples[name].append(t)
    return samples


def report(samples: dict[str, list[float]], pairs: list[tuple[str, str]], unit: str = "ms") -> None:
    """One line per case (median, min-max) and one per (case, baseline) pair: the ratio of medians."""
    scale = 1000 if unit == "ms" else 1
    width = max(len(n) for n in samples)
    print(f"{'case':{width}}  {'median':>9}  {'min-max':>17}")
    for name, xs in samples.items():
        print(f"{name:{width}}  {statistics.median(xs) * scale:8.1f}{unit}  "
              f"{min(xs) * scale:7.1f}-{max(xs) * scale:.1f}{unit}")
    for case, base in pairs:
        ratio = statistics.median(samples[case]) / statistics.median(samples[base])
        print(f"ratio  {case}  /  {base}: {ratio:.2f}x")


def machine_note() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, load average {load:.2f}, Python {sys.version.split()[0]}"
