"""Start-up cost of the read-only verbs, against `python -c pass` measured in the same run.

    python benchmarks/bench_cli.py [--runs N]

Prints a table of medians (ms) and the ratio to the `python -c pass` baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"
ENVFILE = ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml"


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=ROOT)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    py = sys.executable
    cases = [
        ("python -c pass (baseline)", [py, "-c", "pass"]),
        ("envkit --help", [py, "-m", "envkit", "--help"]),
        ("envkit resolve trt-yolo --host q.xml", [py, "-m", "envkit", "resolve", "trt-yolo", "--host", str(CAPTURE)]),
        ("envkit validate classic-trt86.yml", [py, "-m", "envkit", "validate", str(ENVFILE)]),
        ("import rattler (for scale)", [py, "-c", "import rattler"]),
    ]
    results = [(name, timed(argv, runs)) for name, argv in cases]
    base = results[0][1]
    print(f"{'case':45} {'median ms':>10} {'x baseline':>11}   (runs={runs})")
    for name, t in results:
        print(f"{name:45} {t * 1000:10.1f} {t / base:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
