"""`envkit check --all` for 10 environments x 3 targets against a local HTTP channel, cold and warm cache,
against a bare py-rattler script doing the same bare solves; whole processes, alternated, in the same run.

    python benchmarks/bench_check.py [--runs N] [--latency-ms MS]

The project: 10 profiles (TensorRT 8.6 / 10.3 / 11.0 stacks, with and without extras) generated from
tests/check/data/matrix.yaml and locked against a channel built with tests/channel_factory.py and served
by a stdlib HTTP server on 127.0.0.1 (304s with Last-Modified). Targets per profile:
linux-64:driver=580.65.06, linux-64, linux-aarch64. That is 30 environment x target checks of 5 steps.

Cases (whole processes, one warm-up round, then alternated run by run; medians, min-max, ratios):
* envkit check --all [--json], cold: a fresh envkit cache (repodata fetched), default workers
* envkit check --all [--json], warm: the same cache again (conditional GETs answered 304)
* the same with ENVKIT_CHECK_WORKERS=1 (warm): what the thread pool adds or costs
* bare py-rattler script: import rattler, one Gateway, the bare solves (cold: its cache deleted before each
  run; warm: kept). It does only step 3 (the solve) of envkit's five.
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
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "check"), str(ROOT / "benchmarks")]

MATRIX = ROOT / "tests" / "check" / "data" / "matrix.yaml"
TARGETS = ["linux-64:driver=580.65.06", "linux-64", "linux-aarch64"]
TARGETS_12 = [*TARGETS, "linux-64:cuda=12.4", "linux-64:cuda=12.6", "linux-64:cuda=13.0", "linux-64:driver=560.35.03",
              "linux-64:driver=570.124.04", "linux-aarch64:cuda=12.6", "linux-aarch64:cuda=13.0", "linux-64:cuda=12.8",
              "linux-64:driver=575.51.03"]
PROFILES = [  # (tensorrt range, extra conda packages)
    (">=10.0,<11", []), (">=11", []), ("8.6", []), (">=10.0,<11", ["trt-tools"]), (">=11", ["trt-tools"]),
    ("8.6", ["trt-tools"]), (">=10.0,<11", ["pip"]), (">=11", ["pip"]), ("8.6", ["pip"]), (">=10.0", ["trt-tools", "pip"]),
]


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # a real listen backlog: the stdlib's 5 stalls parallel downloads (SYN retries)


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
    httpd = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
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
    for i in range(count):
        trt, extra = PROFILES[i % len(PROFILES)]
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


def bare_rattler(jobs_file: Path, cache: Path) -> None:
    """The baseline process: the same solves, nothing else (virtual packages precomputed by the parent)."""
    import rattler
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.exceptions import SolverError
    from rattler.package import BuildString
    from rattler.repo_data.gateway import SourceConfig

    gw = rattler.Gateway(cache_dir=cache, default_config=SourceConfig(sharded_enabled=False))
    for job in json.loads(jobs_file.read_text()):
        vps = [GenericVirtualPackage(PackageName(n), Version(v), BuildString(b)) for n, v, b in job["virtual"]]
        try:
            asyncio.run(rattler.solve(job["channels"], job["specs"], gateway=gw,
                                      platforms=[job["platform"], "noarch"], virtual_packages=vps))
        except SolverError:
            pass  # no solution is an answer too (envkit reports it as a failed check)


def write_jobs(envs: list[tuple[list[str], list[str], str]], dest: Path, targets: list[str]) -> Path:
    from envkit.host.machines import Machine
    from envkit.matrix.load import load_matrix

    matrix = load_matrix(MATRIX)
    jobs = []
    for specs, channels, _ in envs:
        cuda = next(s.split("=")[1] for s in specs if s.startswith("cuda-version="))
        for spec in targets:
            t = Machine.from_spec(spec, matrix=matrix).solve_target(cuda)
            jobs.append({"specs": specs, "channels": channels, "platform": t.platform,
                         "virtual": [[vp.name, vp.version, vp.build] for vp in t.virtual_packages]})
    dest.write_text(json.dumps(jobs))
    return dest


def main() -> int:
    if sys.argv[1:2] == ["--bare"]:
        try:
            bare_rattler(Path(sys.argv[2]), Path(sys.argv[3]))
        except BaseException as exc:  # a broken baseline must stop the benchmark, not time a crash
            print(f"bare script failed: {exc!r}", file=sys.stderr, flush=True)
            os._exit(3)
        os._exit(0)  # as envkit does once rattler is loaded
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--envs", type=int, default=10, help="environments (the 10 profile shapes, cycled)")
    ap.add_argument("--targets", type=int, choices=(3, 12), default=3, help="targets per environment (--target)")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="delay every HTTP request by this much (simulate a remote channel or mirror)")
    opts = ap.parse_args()
    from check_fixtures import build_stack_channel
    from harness import alternate, env, machine_note, report

    with tempfile.TemporaryDirectory(prefix="envkit-bench-check-") as tmp:
        base = Path(tmp)
        os.environ["RATTLER_CACHE_DIR"] = str(base / "rattler")
        os.environ["ENVKIT_CACHE_DIR"] = str(base / "setup-cache")
        channel = build_stack_channel(base / "channel")
        with serve(channel) as url:
            project, envs = make_project(base, url, count=opts.envs)
            targets = TARGETS if opts.targets == 3 else TARGETS_12
            _Handler.latency = opts.latency_ms / 1000
            jobs = write_jobs(envs, base / "jobs.json", targets)
            py = sys.executable
            check = [py, "-m", "envkit", "--project", str(project), "--matrix", str(MATRIX), "check", "--all"]
            check += [a for t in targets for a in ("--target", t)]
            bare = [py, __file__, "--bare", str(jobs)]
            cold, warm = base / "cold", base / "warm"

            def arg_env(cache: Path, *extra: str) -> list[str]:
                return ["env", f"ENVKIT_CACHE_DIR={cache}", *extra]

            cases = [
                ("envkit check --all --json, cold", [*arg_env(cold), *check, "--json"]),
                ("envkit check --all, cold", [*arg_env(cold), *check]),
                ("bare py-rattler script, bare solves, cold", [*bare, str(cold / "rattler")]),
                ("envkit check --all --json, warm", [*arg_env(warm), *check, "--json"]),
                ("envkit check --all, warm", [*arg_env(warm), *check]),
                ("  same, ENVKIT_CHECK_WORKERS=1, warm", [*arg_env(warm, "ENVKIT_CHECK_WORKERS=1"), *check]),
                ("bare py-rattler script, bare solves, warm", [*bare, str(warm / "rattler")]),
            ]

            def before(name: str) -> None:
                if name.endswith("cold"):
                    shutil.rmtree(cold, ignore_errors=True)

            samples = alternate(cases, opts.runs, warmup=1, environ=env(), before=before)
            out = subprocess.run([*arg_env(warm), *check, "--json"], capture_output=True, text=True, env=env())
            summary = json.loads(out.stdout)["data"]["summary"]
    print(f"{opts.envs} environments x {len(targets)} targets = {summary['total'] // 5} checks, {summary['total']} steps "
          f"({summary['passed']} pass, {summary['failed']} fail, {summary['skipped']} skip), {summary['solves']} "
          f"solves; runs={opts.runs}; HTTP latency {opts.latency_ms:g} ms; {machine_note()}")
    report(samples, [
        ("envkit check --all --json, cold", "bare py-rattler script, bare solves, cold"),
        ("envkit check --all, cold", "bare py-rattler script, bare solves, cold"),
        ("envkit check --all --json, warm", "bare py-rattler script, bare solves, warm"),
        ("envkit check --all, warm", "bare py-rattler script, bare solves, warm"),
        ("  same, ENVKIT_CHECK_WORKERS=1, warm", "envkit check --all, warm"),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
