"""``envkit create``: generate, solve, install, pip, lock, record, smoke, swap (issue 3).

``create_env(request, settings, reporter=None) -> CreateResult``. Never prints; progress goes to the
``reporter`` (an ``envkit.engine.types.Reporter``: ``step(name, detail)``, ``progress(kind, done, total, label)``).

Flow for a profile NAME (``--file`` skips step 1):

1. ``envkit.generate.ensure_generated`` writes/refreshes ``environments/NAME/environment.yml``;
2. fast path: the environment exists, is complete, and its recorded spec hash (sha256 of the environment
   file), lock hash and channels match -> ``up to date`` (no rattler import, no network);
3. solve with rattler for the virtual packages of the machine resolve answered for (``request.machine``, chosen by
   ``envkit.host.policy``: this machine, ``--host FILE``, or the profile's targets), or read the lock (``--locked``);
4. install into the staging prefix (``envkit.create.staging`` documents the atomic swap), pip section, smoke test;
   the package cache is verified before (``envkit.engine.cache``) and stamped while rattler installs;
5. the lock (``envkit.lock``, rattler/pixi v7 with virtual packages) and ``environment.explicit.txt`` are
   prepared on a worker thread during the install and renamed in next to the environment file once it
   succeeded, then ``conda-meta/history`` and ``conda-meta/envkit.json`` (``envkit.create.record``);
6. swap the staging prefix in.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.config import load_config, redact
from envkit.context import Settings
from envkit.engine.types import Reporter
from envkit.envs import env_dir_for, in_conda_envs_dirs, read_record, staging_dir, validate_name, validate_prefix
from envkit.errors import EnvkitError, InputError, InstallError, SmokeError
from envkit.fsutil import find_python, sha256_file
from envkit.host.machines import Machine


@dataclass
class CreateRequest:
    profile: str | None = None
    file: Path | None = None
    name: str | None = None
    prefix: Path | None = None
    host_file: str | None = None
    machine: Machine | None = None  # what to build for (envkit.host.policy); None: chosen by create_env
    channels: list[str] = field(default_factory=list)
    offline: bool = False
    locked: bool = False
    force: bool = False
    no_smoke: bool = False
    backend: str = "rattler"
    dry_run: bool = False
    lock_timeout: float | None = None


@dataclass
class CreateResult:
    status: str  # "created", "up to date", "dry run"
    name: str | None
    prefix: Path
    env_file: Path
    lock_file: Path | None = None
    explicit_file: Path | None = None
    packages: list[str] = field(default_factory=list)
    stack: dict[str, str | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    solved: bool = False
    channels: list[str] = field(default_factory=list)
    target: dict[str, Any] | None = None
    machine: dict[str, Any] | None = None
    smoke: dict[str, Any] | None = None
    backend: str = "rattler"
    conda_activate: bool = False

    @property
    def usage(self) -> list[str]:
        out = []
        if self.conda_activate and self.name:
            out.append(f"conda activate {self.name}")
        out.append(f"envkit run {self.name} -- CMD" if self.name and self.conda_activate else
                   f"envkit run --prefix {self.prefix} -- CMD")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "name": self.name,
            "prefix": str(self.prefix),
            "env_file": str(self.env_file),
            "lock_file": str(self.lock_file) if self.lock_file else None,
            "explicit_file": str(self.explicit_file) if self.explicit_file else None,
            "packages": self.packages,
            "stack": self.stack,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": self.notes,
            "solved": self.solved,
            "channels": self.channels,
            "target": self.target,
            "machine": self.machine,
            "smoke": self.smoke,
            "backend": self.backend,
            "usage": self.usage,
        }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _step(reporter: Reporter | None, name: str, detail: str = "") -> None:
    if reporter is not None:
        reporter.step(name, detail)


def _env_file_for(request: CreateRequest, settings: Settings, timings: dict[str, float]) -> Path:
    if request.file is not None:
        if request.profile:
            raise InputError("give a profile NAME or --file, not both")
        path = Path(request.file)
        if not path.is_file():
            raise InputError("no such environment file", file=str(path))
        return path.resolve()
    if not request.profile:
        raise InputError("give a profile NAME or --file ENVIRONMENT.yml", hint="envkit create trt-yolo")
    t = time.perf_counter()
    from envkit.generate import ensure_generated

    assert request.machine is not None
    path = ensure_generated(request.profile, settings, request.machine)
    timings["generate"] = time.perf_counter() - t
    return Path(path).resolve()


def _target_path(request: CreateRequest, env_name: str | None, settings: Settings) -> tuple[str | None, Path]:
    if request.prefix is not None:
        p = validate_prefix(Path(request.prefix).expanduser().resolve())
        return request.name or env_name or p.name, p
    name = request.name or request.profile or env_name
    if not name:
        raise InputError("the environment needs a name", hint="pass --name NAME or --prefix DIR")
    validate_name(name)
    return name, validate_prefix(env_dir_for(name, settings))


def _with_machine(request: CreateRequest, settings: Settings) -> CreateRequest:
    """The request with the machine it builds for: the one resolve would answer for (``envkit.host.policy``)."""
    if request.machine is not None:
        return request
    from dataclasses import replace

    from envkit.host.policy import machines_for
    from envkit.matrix.load import load_for
    from envkit.profile import load_profile

    prof = load_profile(request.profile, settings) if request.profile and request.file is None else None
    matrix = load_for(settings) if prof is not None else None  # --file: loaded only if a capture needs it
    answer = machines_for(settings, matrix, host_file=request.host_file, profile=prof)
    return replace(request, machine=answer.machine)


def create_env(request: CreateRequest, settings: Settings, reporter: Reporter | None = None) -> CreateResult:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    from envkit.envfile import read_env_file

    request = _with_machine(request, settings)

    env_path = _env_file_for(request, settings, timings)
    env_bytes = env_path.read_bytes()
    env_file = read_env_file(env_path)
    name, prefix = _target_path(request, env_file.name if request.file is None else None, settings)
    config = load_config(settings)
    from envkit.engine.channels import channels_for, mirrored_names

    chans = channels_for(env_file.channels, request.channels, config)  # the one channel-and-mirror policy
    channels, mirrored = [c.url for c in chans], mirrored_names(chans)
    offline = request.offline or config.offline
    from envkit.engine.paths import lock_paths

    lock_file, explicit_file = lock_paths(env_path)
    if request.locked and request.channels:
        raise InputError("--locked installs the lock's channels; --channel cannot be combined with it")
    if request.backend != "rattler":
        from envkit.create.backends import create_with_backend

        return create_with_backend(request, settings, env_path, name, prefix, reporter)

    result = CreateResult(
        status="created",
        name=name,
        prefix=prefix,
        env_file=env_path,
        lock_file=lock_file,
        explicit_file=explicit_file,
        channels=[redact(c) for c in channels],
        machine=request.machine.to_json() if request.machine is not None else None,
        conda_activate=request.prefix is None and in_conda_envs_dirs(prefix, settings),
    )
    spec_hash = _sha(env_bytes)

    from envkit.create.staging import env_lock, guard_target, recover, sigterm_as_interrupt

    prefix.parent.mkdir(parents=True, exist_ok=True)
    with env_lock(prefix, request.lock_timeout), sigterm_as_interrupt():
        result.notes += recover(prefix)
        guard_target(prefix)  # never replace what envkit did not create
        if not request.force and not request.dry_run:
            current = _up_to_date(prefix, spec_hash, lock_file, result.channels, request)
            if current is not None:
                result.status = "up to date"
                result.stack = current.get("stack") or {}
                result.packages = current.get("packages") or []
                result.timings = {"total": time.perf_counter() - t0}
                return result
        _build(request, settings, result, env_file, spec_hash, channels, mirrored, offline, reporter, timings)
    timings["total"] = time.perf_counter() - t0
    result.timings = timings
    return result


def _up_to_date(
    prefix: Path, spec_hash: str, lock_file: Path, channels: list[str], request: CreateRequest
) -> dict[str, Any] | None:
    rec = read_record(prefix)
    if not rec or not rec.get("complete") or rec.get("spec_hash") != spec_hash:
        return None
    if rec.get("channels") != channels and not request.locked:
        return None
    try:
        if sha256_file(lock_file) != rec.get("lock_hash"):
            return None
    except OSError:
        return None
    if request.host_file and (rec.get("host") or {}).get("host_file") != request.host_file:
        return None
    return rec


def _build(
    request: CreateRequest,
    settings: Settings,
    result: CreateResult,
    env_file: Any,
    spec_hash: str,
    channels: list[str],
    mirrored: dict[str, str],
    offline: bool,
    reporter: Reporter | None,
    timings: dict[str, float],
) -> None:
    from envkit.create.record import PendingLock, stack_of, write_record
    from envkit.create.staging import Swap, fix_staging_paths, oserror_to_envkit
    from envkit.engine.install import install
    from envkit.engine.lockfile import lock_mismatches, read_lock

    prefix = result.prefix
    assert result.lock_file is not None and result.explicit_file is not None
    cache_dir = Path(settings.env.get("RATTLER_CACHE_DIR") or os.environ.get("RATTLER_CACHE_DIR") or settings.cache_dir / "rattler")

    # solve (for the host's or --host FILE's virtual packages) or read the lock (which names its target)
    t = time.perf_counter()
    verify = os.environ.get("ENVKIT_VERIFY_CACHE", "1").lower() not in ("0", "false", "no")
    ahead = None
    if request.locked:
        _step(reporter, "lock", str(result.lock_file))
        if not result.lock_file.is_file():
            raise InputError(
                "no lock file to install from", file=str(result.lock_file), hint="run envkit create without --locked first"
            )
        lock = read_lock(result.lock_file, channels=channels)
        reasons = lock_mismatches(lock, env_file, channels)
        if reasons:
            raise InputError(
                "the lock no longer matches the environment file:\n  " + "\n  ".join(reasons),
                file=str(result.lock_file),
                hint="run `envkit create` without --locked to solve again and rewrite the lock",
            )
        records, target = lock.records, lock.target
        timings["lock"] = time.perf_counter() - t
    else:
        from envkit.engine.solve import solve

        if verify and result.lock_file.is_file():
            from envkit.engine.cache import VerifyAhead

            ahead = VerifyAhead(result.lock_file, cache_dir)
        assert request.machine is not None
        target = request.machine.solve_target()  # exactly the machine resolve answered for
        _step(reporter, "solve", f"{len(env_file.conda)} specs, {', '.join(result.channels)}")
        specs = [d.raw.strip() for d in env_file.conda]
        try:
            records = solve(specs, channels, target, cache_dir=settings.cache_dir, offline=offline, mirrored=mirrored)
        except BaseException:
            if ahead is not None:
                ahead.wait()
            raise
        result.solved = True
        timings["solve"] = time.perf_counter() - t
    result.target = target.to_json()
    result.packages = sorted(r.dist for r in records)
    result.stack = stack_of(records)
    if request.dry_run:
        if ahead is not None:
            ahead.wait()
        result.status = "dry run"
        return

    swap = Swap(prefix)
    staging = staging_dir(prefix)
    # the lock files depend only on the records: written on a worker thread while rattler installs
    pending = PendingLock(records, target, channels, result.lock_file, result.explicit_file,
                          write_lock=not request.locked)
    stamper = None
    try:
        # install (cache entries are verified before, and stamped as soon as rattler extracted them)
        t = time.perf_counter()
        _step(reporter, "install", f"{len(records)} packages into {prefix}")
        if verify:
            from envkit.engine.cache import CacheStamper, verify_for_install

            stamped, dropped, others = verify_for_install(records, cache_dir, ahead)
            if others:
                result.notes.append(f"corrupted package(s) removed from the cache: {', '.join(others)}")
            if dropped:
                result.notes.append(f"corrupted package(s) in the cache were removed and fetched again: {', '.join(dropped)}")
            stamper = CacheStamper(records, cache_dir, stamped=stamped)
        stats = install(records, staging, cache_dir=cache_dir, reporter=reporter, target_prefix=prefix,
                        on_cached=stamper.package_ready if stamper and stamper.needed else None)
        timings["install"] = time.perf_counter() - t

        # pip
        pip_deps = env_file.pip
        if pip_deps:
            t = time.perf_counter()
            _step(reporter, "pip", ", ".join(d.raw for d in pip_deps if not d.option))
            from envkit.create.pipstep import install_pip

            result.notes += install_pip(staging, pip_deps).notes
            fix_staging_paths(staging, prefix)
            timings["pip"] = time.perf_counter() - t

        # smoke
        if not request.no_smoke:
            t = time.perf_counter()
            result.smoke = _smoke(staging, result, reporter)
            timings["smoke"] = time.perf_counter() - t

        # lock + record
        t = time.perf_counter()
        _step(reporter, "lock", str(result.lock_file))
        lock_hash = pending.commit()
        write_record(staging, result, request, target, spec_hash=spec_hash, lock_hash=lock_hash,
                     install=stats.to_json(), timings=timings)
        if stamper is not None:
            stamper.finish()
        timings["record"] = time.perf_counter() - t

        # swap
        _step(reporter, "swap", str(prefix))
        swap.swap()
    except OSError as exc:
        swap.rollback()
        raise oserror_to_envkit(exc, staging)
    except BaseException:
        swap.rollback()
        raise
    finally:
        pending.discard()
        if stamper is not None:
            stamper.close()
    swap.finish()


def _smoke(staging: Path, result: CreateResult, reporter: Reporter | None) -> dict[str, Any] | None:
    from envkit.smoke import smoke_prefix

    if find_python(staging) is None:
        result.notes.append("smoke test skipped: the environment has no python")
        return None
    _step(reporter, "smoke", str(staging))
    report = smoke_prefix(staging, pins=dict(result.stack), save=False)
    data: dict[str, Any] = report.to_json()
    if not report.passed:
        failed = []
        for name in report.failed:
            layer = report.layer(name) or {}
            failed.append(f"{name}: {layer.get('reason') or layer.get('diagnosis') or 'failed'}")
        raise SmokeError(
            "the smoke test failed in the new environment (" + "; ".join(failed) + "); "
            "the previous one (if any) was kept",
            hint="run `envkit smoke --prefix ...` on a copy, or create with --no-smoke to keep the broken build",
        )
    return data


__all__ = ["CreateRequest", "CreateResult", "EnvkitError", "InstallError", "create_env"]
