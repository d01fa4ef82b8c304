"""The steps of ``envkit create`` with the embedded engine, one function each, over one ``Build`` context.

``run_build(build)`` runs them in order:

1. ``solve`` (for the machine resolve answered for) or ``read_lock`` (``--locked``): the records;
   ``--dry-run`` stops here;
2. ``install`` into the staging prefix (the package cache verified before, stamped while rattler installs);
3. ``pip``: the environment file's ``pip:`` section with the environment's own Python;
4. ``fixups``: the TensorRT bindings fix-up, staging paths rewritten to the final prefix;
5. ``smoke``: the smoke test in the staging prefix (a failure keeps the previous environment);
6. ``commit``: the lock files renamed into place, ``conda-meta/history``, the record (complete);
7. ``swap``: the staging prefix becomes the environment (``envkit.create.staging``).

Core code: never prints; progress goes to ``build.reporter``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from envkit import __version__
from envkit.context import Settings
from envkit.create.model import CreateRequest, CreateResult
from envkit.create.record import EnvRecord, stack_of, write_record
from envkit.engine.types import Reporter
from envkit.envfile import EnvFile
from envkit.errors import InputError, SmokeError
from envkit.fsutil import find_python


@dataclass
class Build:
    """What every step reads (the request, the environment file, the channels) and what they fill in."""

    request: CreateRequest
    settings: Settings
    result: CreateResult
    env: EnvFile
    spec_hash: str
    channels: list[str]  # mirrors applied
    mirrored: dict[str, str]  # mirror url -> the channel it stands for
    offline: bool
    reporter: Reporter | None
    timings: dict[str, float] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)
    target: Any = None
    ahead: Any = None  # envkit.engine.cache.VerifyAhead, checking the cache while the solve runs
    stamper: Any = None  # envkit.engine.cache.CacheStamper
    install_stats: dict[str, Any] = field(default_factory=dict)
    lock_source: Path | None = None  # the environment file's lock, which --locked reads when this has none

    @property
    def prefix(self) -> Path:
        return self.result.prefix

    @property
    def lock_file(self) -> Path:
        assert self.result.lock_file is not None
        return self.result.lock_file

    @property
    def cache_dir(self) -> Path:
        env = self.settings.env.get("RATTLER_CACHE_DIR") or os.environ.get("RATTLER_CACHE_DIR")
        return Path(env) if env else self.settings.cache_dir / "rattler"

    @property
    def verify(self) -> bool:
        return os.environ.get("ENVKIT_VERIFY_CACHE", "1").lower() not in ("0", "false", "no")

    def step(self, name: str, detail: str = "") -> None:
        if self.reporter is not None:
            self.reporter.step(name, detail)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - t


def run_build(b: Build) -> None:
    """Solve (or read the lock), then unless ``--dry-run``: install, pip, fix-ups, smoke, commit, swap."""
    from envkit.create.commit import PendingLock
    from envkit.create.staging import Swap, oserror_to_envkit, staging_dir

    read_lock(b) if b.request.locked else solve(b)
    b.result.target = b.target.to_json()
    b.result.packages = sorted(r.dist for r in b.records)
    b.result.stack = stack_of(b.records)
    if b.request.dry_run:
        if b.ahead is not None:
            b.ahead.wait()
        b.result.status = "dry run"
        return
    swap, staging = Swap(b.prefix), staging_dir(b.prefix)
    # the lock files depend only on the records: written on a worker thread while rattler installs
    assert b.result.explicit_file is not None
    lock, explicit = _staged(b.lock_file, b.prefix, staging), _staged(b.result.explicit_file, b.prefix, staging)
    # --locked rewrites nothing, unless the lock came from the environment file for an environment of its own
    pending = PendingLock(b.records, b.target, b.channels, lock, explicit,
                          write_lock=not b.request.locked or lock != b.lock_file or not b.lock_file.is_file())
    try:
        install(b, staging)
        pip(b, staging)
        if not b.request.no_smoke:
            smoke(b, staging)
        commit(b, staging, pending)
        b.step("swap", str(b.prefix))
        swap.swap()
    except OSError as exc:
        swap.rollback()
        raise oserror_to_envkit(exc, staging)
    except BaseException:
        swap.rollback()
        raise
    finally:
        pending.discard()
        if b.stamper is not None:
            b.stamper.close()
    swap.finish()


def _staged(path: Path, prefix: Path, staging: Path) -> Path:
    """A file inside the environment is written into the staging prefix (it is swapped in with it)."""
    try:
        return staging / path.relative_to(prefix)
    except ValueError:
        return path


def read_lock(b: Build) -> None:
    """``--locked``: the records and target of the lock file, which must still match the environment file."""
    from envkit.engine.lockfile import lock_mismatches
    from envkit.engine.lockfile import read_lock as read_lock_file

    source = b.lock_file if b.lock_file.is_file() or b.lock_source is None else b.lock_source
    with b.timed("lock"):
        b.step("lock", str(source))
        if not source.is_file():
            raise InputError("no lock file to install from", file=str(source),
                             hint="run envkit create without --locked first")
        lock = read_lock_file(source, channels=b.channels)
        reasons = lock_mismatches(lock, b.env, b.channels)
        if reasons:
            raise InputError(
                "the lock no longer matches the environment file:\n  " + "\n  ".join(reasons),
                file=str(source),
                hint="run `envkit create` without --locked to solve again and rewrite the lock",
            )
        b.records, b.target = lock.records, lock.target


def solve(b: Build) -> None:
    """Solve for exactly the machine resolve answered for (its virtual packages); the cache is checked meanwhile."""
    from envkit.engine.solve import solve as engine_solve

    if b.verify and b.lock_file.is_file():
        from envkit.engine.cache import VerifyAhead

        b.ahead = VerifyAhead(b.lock_file, b.cache_dir)
    assert b.request.machine is not None
    b.target = b.request.machine.solve_target()
    with b.timed("solve"):
        b.step("solve", f"{len(b.env.conda)} specs, {', '.join(b.result.channels)}")
        try:
            b.records = engine_solve([d.raw.strip() for d in b.env.conda], b.channels, b.target,
                                     cache_dir=b.settings.cache_dir, offline=b.offline, mirrored=b.mirrored)
        except BaseException:
            if b.ahead is not None:
                b.ahead.wait()
            raise
    b.result.solved = True


def install(b: Build, staging: Path) -> None:
    """Install the records into ``staging`` (files carry the final prefix); cache entries verified first."""
    from envkit.engine.install import install as engine_install

    with b.timed("install"):
        b.step("install", f"{len(b.records)} packages into {b.prefix}")
        if b.verify:
            from envkit.engine.cache import CacheStamper, verify_for_install

            stamped, dropped, others = verify_for_install(b.records, b.cache_dir, b.ahead)
            if others:
                b.result.notes.append(f"corrupted package(s) removed from the cache: {', '.join(others)}")
            if dropped:
                b.result.notes.append(
                    f"corrupted package(s) in the cache were removed and fetched again: {', '.join(dropped)}")
            b.stamper = CacheStamper(b.records, b.cache_dir, stamped=stamped)
        on_cached = b.stamper.package_ready if b.stamper is not None and b.stamper.needed else None
        stats = engine_install(b.records, staging, cache_dir=b.cache_dir, reporter=b.reporter,
                               target_prefix=b.prefix, on_cached=on_cached)
    b.install_stats = stats.to_json()


def pip(b: Build, staging: Path) -> None:
    """The ``pip:`` section, then its fix-ups (TensorRT bindings; staging paths -> the final prefix)."""
    if not b.env.pip:
        return
    from envkit.config import redact_text
    from envkit.create.pipstep import install_pip
    from envkit.create.staging import fix_staging_paths
    from envkit.create.trt_fixup import apply_trt_fixup

    with b.timed("pip"):
        options = [redact_text(d.option) for d in b.env.pip if d.option]  # said before pip runs with them
        b.step("pip", ", ".join(d.raw for d in b.env.pip if not d.option)
               + (f" (options: {' '.join(options)})" if options else ""))
        outcome = install_pip(staging, b.env.pip, installer=b.request.installer)
        b.result.pip = {"installer": outcome.tool, "argv": outcome.argv, "seconds": round(outcome.seconds, 3)}
        b.result.notes += [outcome.note] if outcome.note else []
        b.result.notes += apply_trt_fixup(staging, outcome.python, b.env.pip, installer=outcome.tool)
        fix_staging_paths(staging, b.prefix)


def smoke(b: Build, staging: Path) -> None:
    """The smoke test inside ``staging``; a failure raises SmokeError (the previous environment is kept)."""
    from envkit.smoke.runner import smoke_prefix

    if find_python(staging) is None:
        b.result.notes.append("smoke test skipped: the environment has no python")
        return
    with b.timed("smoke"):
        b.step("smoke", str(staging))
        report = smoke_prefix(staging, pins=dict(b.result.stack), save=False)
    untested = _untestable_here(b, report)
    if untested:
        b.result.notes.append(
            f"smoke: this machine has no GPU, so {', '.join(untested)} could not be proven here; "
            f"prove them on the machine it was built for: {_smoke_command(b)}")
    if any(name not in untested for name in report.failed):
        failed = []
        for name in report.failed:
            if name in untested:
                continue
            layer = report.layer(name) or {}
            failed.append(f"{name}: {layer.get('reason') or layer.get('diagnosis') or 'failed'}")
        raise SmokeError(
            "the smoke test failed in the new environment (" + "; ".join(failed) + "); "
            "the previous one (if any) was kept",
            hint="run `envkit smoke --prefix ...` on a copy, or create with --no-smoke to keep the broken build",
        )
    b.result.smoke = report.to_json()


def _untestable_here(b: Build, report: Any) -> list[str]:
    """The failed layers that need a GPU when this machine has none (its driver layer failed) and the build
    is not for this machine's own GPU: they are not the environment's failures (create said so before it
    started). Python is always tested."""
    machine = b.request.machine
    if machine is not None and machine.kind == "this" and machine.has_gpu_facts:
        return []
    driver = report.layer("driver") or {}
    if driver.get("status") != "fail":
        return []
    return [name for name in report.failed if name != "python"]


def _smoke_command(b: Build) -> str:
    from envkit.engine.activation import quote

    r = b.result
    if r.conda_activate and r.name:
        return f"envkit smoke {quote('bash', r.name, minimal=True)}"
    return f"envkit smoke --prefix {quote('bash', str(r.prefix), minimal=True)}"


def commit(b: Build, staging: Path, pending: Any) -> None:
    """The lock files into place, then ``conda-meta/history`` and the record (complete) in ``staging``."""
    from envkit.create.commit import append_history

    with b.timed("record"):
        b.step("lock", str(b.lock_file))
        lock_hash = pending.commit()
        append_history(staging, b.result.name, b.result.packages, b.spec_hash, lock_hash)
        write_record(staging, new_record(b, lock_hash))
        if b.stamper is not None:
            b.stamper.finish()


def new_record(b: Build, lock_hash: str) -> EnvRecord:
    r, request = b.result, b.request
    host: dict[str, Any] = {"target": b.target.to_json() if b.target is not None else None,
                            "host_file": request.host_file}
    facts = request.machine.host_facts() if request.machine is not None else None
    if facts is not None:
        host.update({k: getattr(facts, k, None) for k in ("driver_version", "cuda_version", "arch", "glibc")})
    return EnvRecord(
        complete=True, name=r.name, prefix=str(r.prefix), env_file=str(r.env_file), spec_hash=b.spec_hash,
        lock_file=str(r.lock_file), lock_hash=lock_hash, backend="rattler", stack=r.stack, packages=r.packages,
        channels=r.channels, host=host, machine=r.machine, envkit_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"), locked=request.locked,
        install=b.install_stats, pip=r.pip, timings={k: round(v, 4) for k, v in b.timings.items()},
    )
