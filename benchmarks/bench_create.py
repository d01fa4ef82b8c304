"""Benchmark: ``envkit create`` vs a bare py-rattler script doing the same solve + install, both whole processes.

Builds a local channel (the TensorRT-like stack plus filler packages, see tests/channel_factory.py),
then measures, each ``--repeat`` times with fresh caches/prefixes where the scenario says so:

* cold:  empty package cache, new prefix (solve + extract + link [+ lock, record, swap for envkit])
* warm:  warm package cache, new prefix
* no-op: the environment exists and is up to date (envkit: recorded hashes match, no solve;
         bare rattler: solve + install() into the existing prefix, which is a no-op transaction)

Every run is a whole process (what a user waits for: interpreter, imports, solve, install, exit): envkit is
``python -m envkit create --file F --prefix P --no-smoke [--json]``, the baseline is this file run with
``--bare`` (import rattler, Gateway, solve, install: the shortest script doing the same). After one warm-up
round the two alternate run by run (the order flips every round); prints medians, min-max, the ratio of
medians and the median paired overhead (envkit minus bare in the same round, which cancels slow load drift).
Goal (issue 11): cold and warm within 10% of the bare script.
Runs are separated by ``sync`` (dirty-page writeback otherwise lands on whichever run comes next).
``ENVKIT_VERIFY_CACHE=0`` turns off envkit's package-cache integrity check (an lstat of every stamped
file of the packages to link, mostly run during the solve for the previous lock's packages; stamps of
freshly extracted entries taken on a worker thread during the install) to show its share of the overhead.
The bare baseline gets the virtual packages precomputed; envkit detects them (VirtualPackage.detect, ~1 ms).

    .venv-test/bin/python benchmarks/bench_create.py [--packages 40] [--files 40] [--repeat 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from channel_factory import PackageSpec, build_channel, env_yaml, file_url, trt_stack  # noqa: E402


def filler(n: int, files: int) -> list[PackageSpec]:
    out = []
    for i in range(n):
        body = {f"lib/filler{i}/f{j}.txt": (f"package {i} file {j}\n" * 800) for j in range(files)}
        out.append(PackageSpec(f"filler{i}", "1.0", files=body))
    return out


def settle() -> None:
    """Flush dirty pages so one run's disk writeback does not slow the next one down."""
    subprocess.run(["sync"], check=False)
    time.sleep(0.3)


def bare(channel: str, specs: list[str], prefix: Path, cache: Path, vps: list[str]) -> None:
    import rattler
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.package import BuildString

    def gvp(s: str) -> GenericVirtualPackage:
        n, v, b = (s.split("=") + ["0", "0"])[:3]
        return GenericVirtualPackage(PackageName(n), Version(v), BuildString(b))

    gw = rattler.Gateway(cache_dir=cache / "repodata")
    recs = asyncio.run(
        rattler.solve([channel], specs, gateway=gw, platforms=["linux-64", "noarch"],
                      virtual_packages=[gvp(v) for v in vps])
    )
    asyncio.run(rattler.install(recs, prefix, cache_dir=cache / "pkgs", show_progress=False,
                                execute_link_scripts=True))


def bare_main(argv: list[str]) -> None:
    """``--bare CHANNEL PREFIX CACHE SPECS VPS``: the baseline process (SPECS and VPS comma-separated)."""
    channel, prefix, cache, specs, vps = argv
    bare(channel, specs.split(","), Path(prefix), Path(cache), vps.split(",") if vps else [])
    os._exit(0)  # as envkit does once rattler is loaded (its native teardown aborts now and then)


def main() -> None:
    if sys.argv[1:2] == ["--bare"]:
        return bare_main(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=40, help="filler packages besides the TensorRT stack")
    ap.add_argument("--files", type=int, default=40, help="files per filler package (~13 KB each)")
    ap.add_argument("--repeat", type=int, default=8)
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="envkit-bench-"))
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environ.update(CONDA_OVERRIDE_CUDA="12.4", CONDA_ENVS_PATH=str(work / "envs"), XDG_CONFIG_HOME=str(work / "xdg"),
                   PYTHONPATH=str(ROOT), ENVKIT_CACHE_DIR=str(work / "envkit-cache"))
    (work / "envs").mkdir()
    t = time.perf_counter()
    ch = build_channel(work / "channel", trt_stack() + filler(opts.packages, opts.files))
    build_s = time.perf_counter() - t
    specs = ["tensorrt", "trt-tools"] + [f"filler{i}" for i in range(opts.packages)]
    env_file = env_yaml(work / "environment.yml", [file_url(ch)], specs, name="bench")
    from envkit.host.machines import Machine

    vps = Machine.from_spec("linux-64:cuda=12.4").solve_target().strings()
    py = sys.executable
    kinds = ("cold", "warm", "cold --json", "warm --json")
    rows: dict[str, dict[str, list[float]]] = {k: {"envkit": [], "bare": []} for k in kinds}
    counter = [0]

    def run(who: str, kind: str, cache: Path) -> float:
        counter[0] += 1
        prefix = work / "envs" / f"p{counter[0]}"
        env = dict(environ, RATTLER_CACHE_DIR=str(cache))
        if who == "bare":
            argv = [py, __file__, "--bare", file_url(ch), str(prefix), str(cache), ",".join(specs), ",".join(vps)]
        else:
            argv = [py, "-m", "envkit", "create", "--file", str(env_file), "--prefix", str(prefix), "--no-smoke"]
            argv += ["--json"] if "json" in kind else []
        settle()
        t0 = time.perf_counter()
        res = subprocess.run(argv, capture_output=True, env=env, cwd=work)
        dt = time.perf_counter() - t0
        if res.returncode != 0:
            raise SystemExit(f"{who} {kind} exited {res.returncode}: {res.stderr.decode()[-2000:]}")
        shutil.rmtree(prefix, ignore_errors=True)
        return dt

    for i in range(opts.repeat + 1):  # round 0 warms the OS caches and bytecode, and is not counted
        for who in (("bare", "envkit") if i % 2 == 0 else ("envkit", "bare")):
            for kind in kinds:
                if kind.startswith("cold"):
                    cache = work / f"cache-{who}-{i}-{kind.replace(' ', '')}"
                dt = run(who, kind, cache)
                if i:
                    rows[kind][who].append(dt)
            shutil.rmtree(work / f"cache-{who}-{i}-cold", ignore_errors=True)

    n_files = sum(1 for _ in (work / "channel").rglob("*.conda"))
    load = os.getloadavg()[0]
    print(f"channel: {n_files} packages ({opts.packages} fillers x {opts.files} files), built in {build_s:.2f} s;"
          f" repeat={opts.repeat}; {os.cpu_count()} CPUs, load average {load:.2f}; python {sys.version.split()[0]}")
    print(f"{'scenario (whole processes)':<28}{'bare script':>22}{'envkit create':>24}{'ratio':>8}{'paired':>11}")
    for kind, d in rows.items():
        b, e = statistics.median(d["bare"]), statistics.median(d["envkit"])
        paired = statistics.median([x - y for x, y in zip(d["envkit"], d["bare"], strict=True)])
        rng = lambda xs: f"({min(xs) * 1000:.0f}-{max(xs) * 1000:.0f})"  # noqa: E731
        print(f"{kind:<28}{b * 1000:>8.1f} ms {rng(d['bare']):>12}{e * 1000:>10.1f} ms {rng(d['envkit']):>12}"
              f"{e / b:>8.2f}{paired * 1000:>+8.1f} ms")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
