"""A fleet: `envkit check --all --target host:DIR` over N generated captures of K distinct kinds, 4 profiles.

    python benchmarks/bench_fleet.py [--nodes 10000] [--kinds 20] [--runs 3]

The captures are real files of the corpus (``shared/corpus/nvidia-smi``, else tests/data/nvidia-smi/corpus):
K captures with distinct driver/GPU are picked, and N nodes drawn from them with the corpus mix as weights
(seeded), each node its own file (a hard link: a regular file). The 4 profiles are bench_check's first four,
locked against a local channel served over HTTP. Whole processes, warm repodata cache, alternated with
`--nodes/10` and `--nodes/100` captures of the same kinds, so the growth with captures shows beside the
number of solves (data.summary.solves) that grows with kinds only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import MATRIX, make_project, serve
from harness import ROOT, alternate, env, machine_note, report


def corpus_dir() -> Path:
    for cand in (os.environ.get("ENVKIT_SHARED"), ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if cand and (Path(cand) / "corpus" / "nvidia-smi" / "EXPECTED.tsv").is_file():
            return Path(cand) / "corpus" / "nvidia-smi"
    return ROOT / "tests" / "data" / "nvidia-smi" / "corpus"


def kinds(k: int) -> list[tuple[Path, int]]:
    """K captures with distinct (driver, GPU, count), each with its weight in the corpus (files per driver)."""
    rows = [ln.split("\t") for ln in (corpus_dir() / "EXPECTED.tsv").read_text().splitlines()[1:] if ln.strip()]
    usable = [r for r in rows if r[1] in ("q", "xml", "csv", "table") and r[4] not in ("", "-")]
    per_driver: dict[str, int] = {}
    for r in usable:
        per_driver[r[4]] = per_driver.get(r[4], 0) + 1
    seen: dict[tuple[str, str, str], Path] = {}
    for r in sorted(usable, key=lambda r: r[0]):
        seen.setdefault((r[4], r[3], r[2]), corpus_dir() / r[0])
    picked = random.Random(11).sample(sorted(seen.items()), min(k, len(seen)))
    return [(path, per_driver[key[0]]) for key, path in picked]


def make_fleet(dest: Path, nodes: int, mix: list[tuple[Path, int]]) -> Path:
    dest.mkdir(parents=True)
    rnd = random.Random(nodes)
    files = [p for p, _ in mix]
    drawn = files + rnd.choices(files, weights=[w for _, w in mix], k=max(0, nodes - len(files)))
    for i, src in enumerate(drawn[:nodes]):
        os.link(src, dest / f"node{i:05d}-{src.name}")
    return dest


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--kinds", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    from check_fixtures import build_stack_channel

    mix = kinds(opts.kinds)
    with tempfile.TemporaryDirectory(prefix="envkit-bench-fleet-") as tmp:
        base = Path(tmp)
        os.environ["RATTLER_CACHE_DIR"] = str(base / "rattler")
        os.environ["ENVKIT_CACHE_DIR"] = str(base / "cache")
        channel = build_stack_channel(base / "channel")
        with serve(channel) as url:
            project, _ = make_project(base, url, count=4)
            sizes = sorted({max(len(mix), opts.nodes // 100), max(len(mix), opts.nodes // 10), opts.nodes})
            fleets = {n: make_fleet(base / f"fleet-{n}", n, mix) for n in sizes}
            environ = env(ENVKIT_CACHE_DIR=str(base / "cache"), RATTLER_CACHE_DIR=str(base / "rattler"))
            cmd = [sys.executable, "-m", "envkit", "--project", str(project), "--matrix", str(MATRIX), "check", "--all"]
            solves = {}
            for n, d in fleets.items():  # also warms the repodata cache
                out = subprocess.run([*cmd, "--target", f"host:{d}", "--json"], env=environ, capture_output=True,
                                     text=True, cwd=ROOT)
                data = json.loads(out.stdout)["data"]
                solves[n] = (data["summary"]["solves"], len(data["summary"].get("machines", [])), data["summary"]["total"])
            cases = [(f"{n} captures, --json", [*cmd, "--target", f"host:{d}", "--json"]) for n, d in fleets.items()]
            cases.append((f"{opts.nodes} captures, human", [*cmd, "--target", f"host:{fleets[opts.nodes]}"]))
            samples = alternate(cases, opts.runs, warmup=1, environ=environ)
    print(f"4 profiles; {len(mix)} kinds drawn from {corpus_dir()}; runs={opts.runs}; {machine_note()}")
    for n, (s, k, rows) in solves.items():
        print(f"{n:6d} captures: {k} kinds of machine, {s} solves, {rows} result rows")
    small = cases[0][0]
    report(samples, [(name, small) for name, _ in cases[1:]], unit="s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
