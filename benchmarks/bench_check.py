"""`envkit check --all` for 10 environments x 3 targets against a local HTTP channel, cold and warm cache,
against the equivalent sequential solves with bare py-rattler, measured in the same run.

    python benchmarks/bench_check.py [--runs N] [--latency-ms MS]

The project: 10 profiles (TensorRT 8.6 / 10.3 / 11.0 stacks, with and without extras) generated from
tests/check/data/matrix.yaml and locked against a channel built with tests/channel_factory.py and served
by a stdlib HTTP server on 127.0.0.1 (304s with Last-Modified). Targets per profile:
linux-64:driver=580.65.06, linux-64, linux-aarch64. That is 30 environment x target checks of 5 steps.

Rows (medians over --runs, seconds):
* envkit check --all, cold: a fresh envkit cache (repodata fetched), in process, default workers
* envkit check --all, warm: the same cache again (conditional GETs answered 304), in process
* the same with ENVKIT_CHECK_WORKERS=1 (sequential), cold and warm: the parallel speed-up
* envkit check --all, warm, as a CLI subprocess (python start-up and imports included): what CI sees
* bare py-rattler: 30 sequential rattler.solve calls with one Gateway (cold: fresh cache dir; warm: a new
  Gateway on the warm disk cache, sharding off). These do only step 3 (the solve) of envkit's five.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import functools
import http.server
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "check")]

MATRIX = ROOT / "tests" / "check" / "data" / "matrix.yaml"
TARGETS = ["linux-64:driver=580.65.06", "linux-64", "linux-aarch64"]
PROFILES = [  # (tensorrt range, extra conda packages)
    (">=10.0,<11", []), (">=11", []), ("8.6", []), (">=10.0,<11", ["trt-tools"]), (">=11", ["trt-tools"]),
    ("8.6", ["trt-tools"]), (">=10.0,<11", ["pip"]), (">=11", ["pip"]), ("8.6", ["pip"]), (">=10.0", ["trt-tools", "pip"]),
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    latency = 0.0  # seconds added to every request: a channel or mirror across a network

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle_one_request(self) -> None:
        if self.latency:
            time.sleep(self.latency)
        super().handle_one_request()

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        if code == 304:
            with contextlib.suppress(OSError):
                mtime = os.stat(self.translate_path(self.path)).st_mtime
                self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def cli(project: Path, *args: str) -> int:
    from envkit.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["--project", str(project), "--matrix", str(MATRIX), *args])


def make_project(base: Path, url: str, count: int = len(PROFILES)) -> tuple[Path, list[tuple[list[str], list[str], str]]]:
    """``count`` (10) generated + locked environments; returns (project, [(specs, channels, name)])."""
    from check_fixtures import Project

    project = base / "project"
    (project / "environments").mkdir(parents=True)
    helper = Project(project, None)
    envs = []
    for i, (trt, extra) in enumerate(PROFILES[:count]):
        name = f"env{i:02d}"
        helper.profile(name, [url], tensorrt=trt, targets=TARGETS, conda=extra)
        assert cli(project, "generate", name) == 0, name
        env_path = project / "environments" / name / "environment.yml"
        from envkit.envfile import read_env_file

        env = read_env_file(env_path)
        cuda = next(d.exact_or_prefix for d in env.conda if d.name == "cuda-version")
        helper.lock(name, f"linux-64:cuda={cuda}")
        envs.append(([d.raw for d in env.conda], env.channels, name))
    return project, envs


def time_it(fn: Callable[[], object], runs: int, before: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def bare_rattler(envs: list[tuple[list[str], list[str], str]], cache: Path) -> None:
    import rattler
    from rattler.repo_data.gateway import SourceConfig

    from envkit.engine.solve import rattler_virtual_packages
    from envkit.host.machines import Machine

    gw = rattler.Gateway(cache_dir=cache, default_config=SourceConfig(sharded_enabled=False))
    for specs, channels, _ in envs:
        cuda = next(s.split("=")[1] for s in specs if s.startswith("cuda-version="))
        for spec in TARGETS:
            t = Machine.from_spec(spec, matrix=_matrix()).solve_target(cuda)
            asyncio.run(rattler.solve(channels, specs, gateway=gw, platforms=[t.platform, "noarch"],
                                      virtual_packages=rattler_virtual_packages(t)))


@functools.cache
def _matrix():  # type: ignore[no-untyped-def]
    from envkit.matrix.load import load_matrix

    return load_matrix(MATRIX)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="delay every HTTP request by this much (simulate a remote channel or mirror)")
    opts = ap.parse_args()
    runs = opts.runs
    from check_fixtures import build_stack_channel

    with tempfile.TemporaryDirectory(prefix="envkit-bench-check-") as tmp:
        base = Path(tmp)
        os.environ["RATTLER_CACHE_DIR"] = str(base / "rattler")
        channel = build_stack_channel(base / "channel")
        with serve(channel) as url:
            project, envs = make_project(base, url)
            _Handler.latency = opts.latency_ms / 1000
            counter = [0]

            def fresh_cache() -> None:
                counter[0] += 1
                os.environ["ENVKIT_CACHE_DIR"] = str(base / f"cache-{counter[0]}")

            def check() -> None:
                code = cli(project, "check", "--all")
                assert code == 0, f"envkit check --all failed (exit {code})"

            rows: list[tuple[str, float]] = []
            os.environ.pop("ENVKIT_CHECK_WORKERS", None)
            rows.append(("envkit check --all, cold cache", time_it(check, runs, fresh_cache)))
            rows.append(("envkit check --all, warm cache", time_it(check, runs)))
            os.environ["ENVKIT_CHECK_WORKERS"] = "1"
            rows.append(("  same, 1 worker (sequential), cold", time_it(check, runs, fresh_cache)))
            rows.append(("  same, 1 worker (sequential), warm", time_it(check, runs)))
            os.environ.pop("ENVKIT_CHECK_WORKERS", None)
            argv = [sys.executable, "-m", "envkit", "--project", str(project), "--matrix", str(MATRIX), "check", "--all"]
            rows.append(("envkit check --all, warm, CLI subprocess",
                         time_it(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT), runs)))
            rat_counter = [0]

            def fresh_rattler() -> None:
                rat_counter[0] += 1

            rows.append(("bare py-rattler, 30 sequential solves, cold",
                         time_it(lambda: bare_rattler(envs, base / f"rat-{rat_counter[0]}"), runs, fresh_rattler)))
            warm_dir = base / "rat-warm"
            bare_rattler(envs, warm_dir)
            rows.append(("bare py-rattler, 30 sequential solves, warm", time_it(lambda: bare_rattler(envs, warm_dir), runs)))
            os.environ["ENVKIT_CACHE_DIR"] = str(base / "json-run")
            with contextlib.redirect_stdout(io.StringIO()) as buf:
                from envkit.cli import main as envkit_main

                envkit_main(["--project", str(project), "--matrix", str(MATRIX), "check", "--all", "--json"])
            summary = json.loads(buf.getvalue())["data"]["summary"]

    ref = dict(rows)["bare py-rattler, 30 sequential solves, cold"]
    print(f"10 environments x 3 targets = {summary['total'] // 5} checks, {summary['total']} steps "
          f"({summary['passed']} pass, {summary['failed']} fail, {summary['skipped']} skip); "
          f"{os.cpu_count()} CPUs; runs={runs}; HTTP latency {opts.latency_ms:g} ms")
    print(f"{'case':48} {'median s':>9} {'x bare cold':>12}")
    for name, t in rows:
        print(f"{name:48} {t:9.3f} {t / ref:12.2f}")
    d = dict(rows)
    print(f"parallel speed-up: cold {d['  same, 1 worker (sequential), cold'] / d['envkit check --all, cold cache']:.2f}x, "
          f"warm {d['  same, 1 worker (sequential), warm'] / d['envkit check --all, warm cache']:.2f}x; "
          f"warm goal < 2 s: {'met' if d['envkit check --all, warm, CLI subprocess'] < 2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
