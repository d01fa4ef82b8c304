"""Benchmark: ``envkit create`` vs the same install with bare py-rattler calls, in the same run.

Builds a local channel (the TensorRT-like stack plus filler packages, see tests/channel_factory.py),
then measures, each ``--repeat`` times with fresh caches/prefixes where the scenario says so:

* cold:  empty package cache, new prefix (solve + extract + link [+ lock, record, swap for envkit])
* warm:  warm package cache, new prefix
* no-op: the environment exists and is up to date (envkit: recorded hashes match, no solve;
         bare rattler: solve + install() into the existing prefix, which is a no-op transaction)

and prints medians, the envkit/bare ratio and the median paired overhead (envkit minus bare in the
same round, which cancels slow load drift). ``noop (cli)`` is a whole ``python -m envkit create``
process (interpreter start included). Goal: cold within 10% of bare rattler, no-op under 0.3 s.
Runs are separated by ``sync`` (dirty-page writeback otherwise lands on whichever run comes next).
``ENVKIT_VERIFY_CACHE=0`` turns off envkit's package-cache integrity check (an lstat of every stamped
file of the packages to link, mostly run during the solve for the previous lock's packages; stamps of
freshly extracted entries taken on a worker thread during the install) to show its share of the overhead.
The bare baseline gets the virtual packages precomputed; envkit detects them (VirtualPackage.detect, ~1 ms).

    .venv-test/bin/python benchmarks/bench_create.py [--packages 40] [--files 40] [--repeat 5]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=40, help="filler packages besides the TensorRT stack")
    ap.add_argument("--files", type=int, default=40, help="files per filler package (~13 KB each)")
    ap.add_argument("--repeat", type=int, default=8)
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="envkit-bench-"))
    os.environ["CONDA_OVERRIDE_CUDA"] = "12.4"
    envs = work / "envs"
    envs.mkdir()
    os.environ["CONDA_ENVS_PATH"] = str(envs)
    os.environ["XDG_CONFIG_HOME"] = str(work / "xdg")
    t = time.perf_counter()
    ch = build_channel(work / "channel", trt_stack() + filler(opts.packages, opts.files))
    build_s = time.perf_counter() - t
    specs = ["tensorrt", "trt-tools"] + [f"filler{i}" for i in range(opts.packages)]
    env_file = env_yaml(work / "environment.yml", [file_url(ch)], specs, name="bench")

    from envkit.context import Settings
    from envkit.create.model import CreateRequest
    from envkit.create.pipeline import create_env
    from envkit.host.machines import Machine

    settings = Settings.from_env(project=str(work))
    vps = Machine.from_probe(settings).solve_target().strings()

    def set_cache(path: Path) -> None:
        os.environ["RATTLER_CACHE_DIR"] = str(path)
        settings.env["RATTLER_CACHE_DIR"] = str(path)

    rows: dict[str, dict[str, list[float]]] = {k: {"envkit": [], "bare": []} for k in ("cold", "warm", "noop")}
    cli_noop: list[float] = []
    for i in range(opts.repeat):
        # interleave envkit and bare, alternating which goes first, so machine noise hits both alike
        for who in (("bare", "envkit") if i % 2 == 0 else ("envkit", "bare")):
            cache = work / f"cache-{who}-{i}"
            set_cache(cache)
            for kind in ("cold", "warm"):
                prefix = envs / f"{who}-{kind}-{i}"
                settle()
                t = time.perf_counter()
                if who == "bare":
                    bare(file_url(ch), specs, prefix, cache, vps)
                else:
                    create_env(CreateRequest(file=env_file, name=prefix.name, no_smoke=True), settings)
                rows[kind][who].append(time.perf_counter() - t)
            prefix = envs / f"{who}-warm-{i}"
            settle()
            t = time.perf_counter()
            if who == "bare":
                bare(file_url(ch), specs, prefix, cache, vps)
            else:
                r = create_env(CreateRequest(file=env_file, name=prefix.name, no_smoke=True), settings)
                assert r.status == "up to date", r.status
            rows["noop"][who].append(time.perf_counter() - t)
            if who == "envkit":
                # a whole process; bytecode caching on (a user's install has .pyc files), one warm-up run
                cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
                cli_env["PYTHONPATH"] = str(ROOT)
                argv = [sys.executable, "-m", "envkit", "create", "--file", str(env_file), "--name", prefix.name,
                        "--no-smoke"]
                if i == 0:
                    subprocess.run(argv, check=True, capture_output=True, env=cli_env)
                t = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True, env=cli_env)
                cli_noop.append(time.perf_counter() - t)
        for p in envs.iterdir():
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()

    n_files = sum(1 for _ in (work / "channel").rglob("*.conda"))
    print(f"channel: {n_files + 1} packages ({opts.packages} fillers x {opts.files} files), built in {build_s:.2f} s;"
          f" repeat={opts.repeat}; python {sys.version.split()[0]}")
    print(f"{'scenario':<12}{'bare rattler':>14}{'envkit':>12}{'ratio':>9}{'overhead':>12}")
    for kind, d in rows.items():
        b, e = statistics.median(d["bare"]), statistics.median(d["envkit"])
        # envkit and bare run back to back in each round: the paired difference cancels slow load drift
        paired = statistics.median([x - y for x, y in zip(d["envkit"], d["bare"], strict=True)])
        print(f"{kind:<12}{b * 1000:>11.1f} ms{e * 1000:>9.1f} ms{e / b:>9.2f}{paired * 1000:>+9.1f} ms")
    print(f"{'noop (cli)':<12}{'':>14}{statistics.median(cli_noop) * 1000:>9.1f} ms   (whole process)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
