"""`envkit explain` on a big CI log against `grep -c` of one pattern on the same file, whole processes.

    python benchmarks/bench_explain.py [--mb 50] [--runs 5] [--big-mb 200]

The log is built from real texts only: the clean logs of tests/data/explain/clean (pip, nvidia-smi,
envkit create, pytest) repeated to --mb megabytes, with six real error texts of shared/corpus/errors
spread through it (so explain has work to do). Each round runs, alternating after one warm-up each:

* `envkit explain LOG --json` (python start-up, imports, catalogue, scan, diagnoses, JSON), and
* `grep -c 'cannot open shared object file' LOG` (the baseline: one fixed pattern, C, no start-up cost).

Medians and their ratio are printed. Then one run on a --big-mb log states explain's bounded time and
memory: wall time and the child's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN = ROOT / "tests" / "data" / "explain" / "clean"
ENVKIT = Path(sys.executable).parent / "envkit"
ERRORS = ("2-libcudart-so-11-0-missing-paddle", "3-ort-cuda-provider-libcudnn-so8-missing",
          "4-ort-trt-ep-libnvinfer-so10-devcontainer", "5-version-tag-does-not-match-0-vs-97-orin-nx",
          "6-dynamic-inputs-no-optimization-profile-trt71", "7-mamba-nothing-provides-cuda-cpu-builder")


def shared() -> Path:
    for cand in (os.environ.get("ENVKIT_SHARED"), ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if cand and (Path(cand) / "corpus" / "errors").is_dir():
            return Path(cand)
    sys.exit("shared/corpus/errors not found (set ENVKIT_SHARED)")


def build_log(path: Path, megabytes: int) -> int:
    unit = b"".join(p.read_bytes() for p in sorted(CLEAN.glob("*.log")))
    errors = [next((shared() / "corpus" / "errors").glob(f"{e}__*.txt")).read_bytes() for e in ERRORS]
    target = megabytes << 20
    reps = max(1, target // len(unit))
    every = max(1, reps // len(errors))
    with path.open("wb") as fh:
        for i in range(reps):
            fh.write(unit)
            if i % every == every // 2 and i // every < len(errors):
                fh.write(errors[i // every])
    return path.stat().st_size


def timed(argv: list[str]) -> tuple[float, int, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, max(peak, before), res.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big-mb", type=int, default=200)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "ci.log"
        size = build_log(log, opts.mb)
        explain = [str(ENVKIT), "explain", str(log), "--json"]
        grep = ["grep", "-c", "cannot open shared object file", str(log)]
        out = timed(explain)[2]
        found = json.loads(out)["data"]["diagnoses"]
        lines = json.loads(out)["data"]["input"]["lines"]
        timed(grep)
        t_explain: list[float] = []
        t_grep: list[float] = []
        for _ in range(opts.runs):
            t_explain.append(timed(explain)[0])
            t_grep.append(timed(grep)[0])
        me, mg = statistics.median(t_explain), statistics.median(t_grep)
        print(f"log: {size / 2**20:.1f} MiB, {lines} lines, {len(found)} diagnoses "
              f"({', '.join(sorted({d['id'] for d in found}))}); runs={opts.runs}; {os.cpu_count()} CPUs")
        print(f"{'command':<52}{'median s':>10}{'MiB/s':>9}")
        print(f"{'envkit explain LOG --json (whole process)':<52}{me:>10.3f}{size / 2**20 / me:>9.1f}")
        print(f"{'grep -c PATTERN LOG':<52}{mg:>10.3f}{size / 2**20 / mg:>9.1f}")
        print(f"ratio explain/grep: {me / mg:.1f}x")
        log.unlink()
        if opts.big_mb:
            big = Path(tmp) / "big.log"
            bsize = build_log(big, opts.big_mb)
            took, peak_kib, out = timed(explain[:2] + [str(big), "--json"])
            n = len(json.loads(out)["data"]["diagnoses"])
            print(f"big log: {bsize / 2**20:.0f} MiB in {took:.2f} s ({bsize / 2**20 / took:.0f} MiB/s), "
                  f"peak RSS {peak_kib / 1024:.0f} MiB, {n} diagnoses")


if __name__ == "__main__":
    main()
