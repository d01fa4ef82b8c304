"""Start-up cost of the read-only verbs, whole processes, against `python -c pass` alternated in the same run.

    python benchmarks/bench_cli.py [--runs N]

Every case runs once per round after two warm-up rounds; prints medians, min-max and the ratio of each
verb's median to the baseline's (issue 11's goals: --json <= 5x, human output <= 8x).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, alternate, machine_note, report

CAPTURE = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"
ENVFILE = ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    py = sys.executable
    ek = [py, "-m", "envkit"]
    base = "python -c pass"
    cases = [
        (base, [py, "-c", "pass"]),
        ("envkit --help", [*ek, "--help"]),
        ("resolve trt-yolo --host Q --json", [*ek, "resolve", "trt-yolo", "--host", str(CAPTURE), "--json"]),
        ("resolve trt-yolo --host Q", [*ek, "resolve", "trt-yolo", "--host", str(CAPTURE)]),
        ("validate FILE --json", [*ek, "validate", str(ENVFILE), "--json"]),
        ("validate FILE", [*ek, "validate", str(ENVFILE)]),
        ("matrix --json", [*ek, "matrix", "--json"]),
        ("doctor --host Q --json", [*ek, "doctor", "--host", str(CAPTURE), "--json"]),
        ("list --json", [*ek, "list", "--json"]),
    ]
    samples = alternate(cases, runs)
    print(f"runs={runs}; {machine_note()}")
    report(samples, [(name, base) for name, _ in cases[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
