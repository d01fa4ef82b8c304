"""``envkit create``: ``create_env(request, settings, reporter=None) -> CreateResult``.

Never prints; progress goes to the ``reporter`` (``envkit.engine.types.Reporter``). Flow for a profile
NAME (``--file`` skips step 1):

1. the machine to build for: ``request.machine``, else the one resolve would answer for
   (``envkit.host.policy``: this machine, ``--host FILE``, or the profile's targets); then
   ``envkit.generate.ensure_generated`` writes/refreshes ``environments/NAME/environment.yml``;
2. fast path: the environment exists, is complete, and its record's spec hash (sha256 of the
   environment file), lock hash and channels match -> ``up to date`` (no rattler import, no network);
3. the build steps, under the environment's lock (``envkit.create.steps``: solve or read the lock,
   install into staging, pip, fix-ups, smoke, commit, swap), or a conda-CLI backend
   (``envkit.create.backends``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from envkit.config import load_config, redact
from envkit.context import Settings
from envkit.create.model import CreateRequest, CreateResult
from envkit.create.record import read_record
from envkit.engine.types import Reporter
from envkit.envs import env_dir_for, in_conda_envs_dirs, validate_name, validate_prefix
from envkit.errors import InputError
from envkit.fsutil import sha256_file


def create_env(request: CreateRequest, settings: Settings, reporter: Reporter | None = None) -> CreateResult:
    from envkit.create.staging import env_lock, guard_target, recover, sigterm_as_interrupt
    from envkit.create.steps import Build, run_build
    from envkit.engine.channels import channels_for, mirrored_names
    from envkit.engine.paths import env_lock_paths, lock_paths
    from envkit.envfile import read_env_file

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    request = _with_machine(request, settings)
    env_path = _env_file_for(request, settings, timings)
    env_bytes = env_path.read_bytes()
    env = read_env_file(env_path)
    name, prefix = _target_path(request, env.name if request.file is None else None, settings)
    config = load_config(settings)
    chans = channels_for(env.channels, request.channels, config)  # the one channel-and-mirror policy
    channels, mirrored = [c.url for c in chans], mirrored_names(chans)
    own = request.prefix is None and name == (request.profile or env.name)
    lock_file, explicit_file = lock_paths(env_path) if own else env_lock_paths(prefix)
    if request.locked and request.channels:
        raise InputError("--locked installs the lock's channels; --channel cannot be combined with it")
    if request.backend != "rattler":
        from envkit.create.backends import create_with_backend

        return create_with_backend(request, settings, env_path, name, prefix, reporter)

    result = CreateResult(
        status="created", name=name, prefix=prefix, env_file=env_path, lock_file=lock_file,
        explicit_file=explicit_file, channels=[redact(c) for c in channels],
        machine=request.machine.to_json() if request.machine is not None else None,
        conda_activate=request.prefix is None and in_conda_envs_dirs(prefix, settings),
    )
    spec_hash = hashlib.sha256(env_bytes).hexdigest()
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder for {prefix}: {exc.strerror or exc}",
                         "give a --prefix under a writable folder (no file in the path)") from None
    with env_lock(prefix, request.lock_timeout), sigterm_as_interrupt():
        result.notes += recover(prefix)
        guard_target(prefix)  # never replace what envkit did not create
        if not request.force and not request.dry_run and _up_to_date(result, spec_hash, request):
            result.timings = {"total": time.perf_counter() - t0}
            return result
        build = Build(request, settings, result, env, spec_hash, channels, mirrored,
                      request.offline or config.offline, reporter, timings, lock_source=lock_paths(env_path)[0])
        run_build(build)
    timings["total"] = time.perf_counter() - t0
    result.timings = timings
    return result


def _with_machine(request: CreateRequest, settings: Settings) -> CreateRequest:
    """The request with the machine it builds for: the one resolve would answer for (``envkit.host.policy``)."""
    if request.machine is not None:
        return request
    from envkit.host.policy import machines_for
    from envkit.matrix.load import load_for
    from envkit.profile import load_profile

    prof = load_profile(request.profile, settings) if request.profile and request.file is None else None
    matrix = load_for(settings) if prof is not None else None  # --file: loaded only if a capture needs it
    answer = machines_for(settings, matrix, host_file=request.host_file, profile=prof)
    return replace(request, machine=answer.machine)


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


def _solved_for(machine: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """What a machine means to the solver: its platform and virtual packages (None when not recorded)."""
    if not machine:
        return None
    return machine.get("platform"), tuple(machine.get("virtual_packages") or ())


def _up_to_date(result: CreateResult, spec_hash: str, request: CreateRequest) -> bool:
    """True (and ``result`` filled from the record) when the environment is already what was asked for."""
    rec = read_record(result.prefix)
    if rec is None or not rec.complete or rec.spec_hash != spec_hash:
        return False
    if rec.channels != result.channels and not request.locked:
        return False
    try:
        if result.lock_file is None or sha256_file(result.lock_file) != rec.lock_hash:
            return False
    except OSError:
        return False
    if request.host_file and rec.host.get("host_file") != request.host_file:
        return False
    if _solved_for(rec.machine) != _solved_for(result.machine):  # built for another machine: re-solve
        return False
    result.status = "up to date"
    result.stack = rec.stack
    result.packages = rec.packages
    return True
