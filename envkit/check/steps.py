"""The five checks of ``envkit check``, per environment and machine (a ``--target`` / ``targets:`` spec), in parallel.

1. ``matrix``: the matrix (envkit.resolve, with the machine's facts: ``Machine.host_facts``) still accepts the
   pinned stack; 2. ``generated``: environments/NAME/environment.yml is current and not hand-edited;
3. ``solve``: the conda part solves (dry run, ``engine.solve.solve_repodata``) for ``machine.solve_target()``;
4. ``lock``: the lock satisfies the file and every locked file is still on its channel (same sha256);
5. ``pip``: every pinned pip requirement exists on the index (metadata only).

Repodata comes from ``RepodataCache`` (fetched once per channel and subdir, cached on disk), so
all workers share one fetch (``envkit.engine.repodata``); solves run in worker threads.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from envkit.check.pins import file_fits, file_version, pin_admits, pinned_stack, same_stack
from envkit.check.pipindex import PipIndex
from envkit.config import redact, redact_text
from envkit.engine.channels import Channel, channels_for, mapped, split_package_url
from envkit.engine.repodata import Repodata, RepodataCache
from envkit.host.machines import Machine

if TYPE_CHECKING:
    from envkit.config import Config
    from envkit.context import Settings
    from envkit.engine.types import Target
    from envkit.envfile import EnvFile
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix

STEPS = ("matrix", "generated", "solve", "lock", "pip")
BY_PLATFORM = ("lock", "pip")  # steps whose verdict depends on the machine's platform only
PASS, FAIL, SKIP = "pass", "fail", "skip"
DEFAULT_PIP_INDEX = "https://pypi.org/simple"
T = TypeVar("T")


@dataclass
class Row:
    environment: str
    target: str  # the machine's label (the spec as written)
    step: str
    status: str
    reason: str = ""
    from_cache: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "target": self.target,
            "step": self.step,
            "status": self.status,
            "reason": self.reason,
            "from_cache": self.from_cache,
        }


@dataclass
class EnvUnit:
    """One environment to check: a profile's generated file, or any environment file."""

    name: str
    env_path: Path
    profile: Any | None = None  # envkit.profile.Profile
    machines: list[Machine] = field(default_factory=list)  # what it must run on (envkit.host.policy)

    @property
    def lock_path(self) -> Path:
        from envkit.engine.lockfile import lock_paths

        return lock_paths(self.env_path)[0]


class Memo:
    """Compute once per key, thread-safe (the other threads wait for the first)."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any, fn: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, fn())
                except Exception as exc:  # remembered: every caller sees the same failure
                    self._values[key] = (False, exc)
            ok, value = self._values[key]
        if not ok:
            raise value
        return value


class CheckRun:
    """One ``envkit check`` run: the five checks for every (environment, machine), sharing one repodata cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        config: Config | None = None,
        channels: list[str] | None = None,
        offline: bool = False,
        pip_index: str | None = None,
        workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.channels_override = list(channels or [])
        self.offline = offline
        self.repodata = RepodataCache(settings.cache_dir, offline=offline)
        self.pip = PipIndex(settings.cache_dir, offline=offline)
        env = settings.env or {}
        self.pip_index = (pip_index or env.get("ENVKIT_PIP_INDEX_URL") or env.get("PIP_INDEX_URL")
                          or DEFAULT_PIP_INDEX).rstrip("/")
        self.workers = workers
        self.memo = Memo()
        self._keys: dict[tuple[Machine, str | None], tuple[Any, ...]] = {}

    @property
    def solves(self) -> int:
        """How many solves ran (machines of one solve input share one)."""
        return sum(1 for k in self.memo._values if k[0] == "solve")

    def kinds(self, units: list[EnvUnit]) -> dict[str, str]:
        """Each machine's label -> its kind ("linux-64: 8x NVIDIA H100 (sm 9.0), driver 535.161.08, CUDA 12.2")."""
        out: dict[str, str] = {}
        for u in units:
            for m in u.machines:
                facts = m.facts if m.kind == "capture" else None
                out.setdefault(m.label, f"{m.platform}: {facts.summary()}" if facts is not None else m.label)
        return out

    def _pins(self, env: EnvFile) -> tuple[str | None, str | None]:
        return self.memo.get(("pins", str(env.path)), lambda: pinned_stack(env))

    def _facts_key(self, machine: Machine, cuda: str | None) -> tuple[Any, ...]:
        """What resolve sees of a machine, without what only names the node (file, UUIDs, bus ids, disks):
        nodes of one kind resolve once."""
        key = self._keys.get((machine, cuda))
        if key is None:
            host = machine.host_facts(cuda)
            doc: dict[str, Any] | None = None
            if host is not None:
                doc = host.to_json()
                for k in ("source", "memory", "disk", "tools", "messages", "nvidia_smi"):
                    doc.pop(k, None)
                doc["gpus"] = [{k: v for k, v in g.items() if k not in ("uuid", "pci_bus_id", "index")}
                               for g in doc["gpus"]]
            key = (machine.platform, machine.kind == "this", json.dumps(doc, sort_keys=True, default=str))
            self._keys[(machine, cuda)] = key
        return key

    # ---- orchestration -------------------------------------------------------------------
    def run(self, units: list[EnvUnit]) -> list[Row]:
        jobs = [(u, t) for u in units for t in u.machines]
        if not jobs:
            return []
        # the first job of each (environment, solve input) does that group's solve; the others reuse it
        first: dict[tuple[Any, ...], int] = {}
        for i, (u, m) in enumerate(jobs):
            first.setdefault((u.name, str(u.env_path), m.signature()), i)
        leaders = list(first.values())
        results: dict[int, list[Row]] = {}
        fetches = self._prefetches(units)
        # I/O: every (channel, subdir) and pip project the checks will read, fetched concurrently up front
        with ThreadPoolExecutor(max_workers=self.workers or min(16, max(len(fetches), 1)),
                                thread_name_prefix="envkit-fetch") as pool:
            list(pool.map(lambda fetch: fetch(), fetches))
        # CPU: the solves (rattler's native code, off the GIL), one per group, no more threads than CPUs
        cpus = os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=self.workers or min(cpus, len(leaders)),
                                thread_name_prefix="envkit-check") as pool:
            results.update(zip(leaders, pool.map(lambda i: self.check_one(*jobs[i]), leaders), strict=True))
        # the rest is memoised Python work: one thread, no contention for the GIL
        for i, job in enumerate(jobs):
            if i not in results:
                results[i] = self.check_one(*job)
        return [row for i in range(len(jobs)) for row in results[i]]

    def _prefetches(self, units: list[EnvUnit]) -> list[Callable[[], object]]:
        keys: dict[tuple[str, str], None] = {}
        pips: dict[tuple[str, str], None] = {}
        for u in units:
            env = self._env(u)
            if env is None or isinstance(env, Exception):
                continue
            for ch in self.channels(env):
                for t in u.machines:
                    keys[(ch.url, t.platform)] = None
                keys[(ch.url, "noarch")] = None
            for dep in env.pip:
                if dep.name and dep.pinned_version:
                    pips[(self.pip_index, dep.name)] = None
        fetches: list[Callable[[], object]] = [
            functools.partial(self.repodata.get, url, sd) for url, sd in keys
        ]
        fetches += [functools.partial(self.pip.project, idx, name) for idx, name in pips]
        return fetches

    def check_one(self, unit: EnvUnit, machine: Machine) -> list[Row]:
        rows: list[Row] = []
        env = self._env(unit)
        for step, fn in (
            ("matrix", self.step_matrix),
            ("generated", self.step_generated),
            ("solve", self.step_solve),
            ("lock", self.step_lock),
            ("pip", self.step_pip),
        ):
            if env is None and step != "generated":
                status, reason, cached = SKIP, f"no environment file at {unit.env_path}", False
            elif isinstance(env, Exception):
                status, reason, cached = FAIL, f"cannot read {unit.env_path}: {env}", False
            else:
                try:
                    if step in BY_PLATFORM:  # these read the machine's platform only: once per platform
                        key = (step, unit.name, str(unit.env_path), machine.platform)
                        status, reason, cached = self.memo.get(key, functools.partial(fn, unit, env, machine))  # type: ignore[arg-type]
                    else:
                        status, reason, cached = fn(unit, env, machine)  # type: ignore[arg-type]
                except Exception as exc:  # one broken check must not hide the others
                    status, reason, cached = FAIL, redact_text(f"{type(exc).__name__}: {exc}"), False
            rows.append(Row(unit.name, machine.label, step, status, reason, cached))
        return rows

    def _env(self, unit: EnvUnit) -> EnvFile | Exception | None:
        from envkit.envfile import read_env_file

        if not unit.env_path.is_file():
            return None
        try:
            return self.memo.get(("env", str(unit.env_path)), lambda: read_env_file(unit.env_path))
        except Exception as exc:
            return exc

    def matrix(self) -> Matrix:
        from envkit.matrix.load import load_for

        return self.memo.get("matrix", lambda: load_for(self.settings))

    def channels(self, env: EnvFile) -> list[Channel]:
        """The channels the checks read: the one policy create uses (``envkit.engine.channels``)."""
        return channels_for(env.channels, self.channels_override, self.config)

    # ---- 1. matrix -------------------------------------------------------------------------
    def step_matrix(self, unit: EnvUnit, env: EnvFile, machine: Machine) -> tuple[str, str, bool]:
        trt, cuda = self._pins(env)
        if trt is None:
            return SKIP, "no TensorRT pin in the environment", False
        from envkit.profile import Profile
        from envkit.resolve import resolve_profile

        matrix = self.matrix()
        prof = unit.profile or Profile(name=unit.name, path=str(unit.env_path), channels=tuple(env.channels))
        key = ("resolve", unit.name, str(unit.env_path), self._facts_key(machine, cuda))
        res = self.memo.get(key, lambda: resolve_profile(prof, matrix, machine.host_facts(cuda)))
        prefix = f"{machine.note}; " if machine.note else ""
        ignore = {"older"} if unit.profile is not None else {"older", "profile", "route"}
        stack = f"TensorRT {trt}" + (f" + CUDA {cuda}" if cuda else "")
        if res.chosen is not None and same_stack(res.chosen.tensorrt, res.chosen.cuda, trt, cuda):
            return PASS, f"{stack}: the matrix picks it for {machine.label}", False
        for rej in [*res.rejected, *res.outside]:
            if same_stack(str(rej.candidate.get("tensorrt")), str(rej.candidate.get("cuda")), trt, cuda):
                if set(rej.kinds) <= ignore:
                    newer = f" (it would now pick {res.chosen.label()})" if res.chosen else ""
                    return PASS, f"{stack}: accepted{newer}", False
                return FAIL, prefix + f"{stack} rejected for {machine.label}: " + "; ".join(rej.reasons), False
        return FAIL, prefix + f"the matrix no longer lists {stack}", False

    # ---- 2. generated ----------------------------------------------------------------------
    def step_generated(self, unit: EnvUnit, env: Any, machine: Machine) -> tuple[str, str, bool]:
        if unit.profile is None:
            return SKIP, "not generated from a profile", False
        from envkit.generate import edited_by_hand, is_current

        path = unit.env_path
        if not path.is_file():
            return FAIL, f"{path} does not exist; run `envkit generate {unit.name}`", False
        if self.memo.get(("edited", str(path)), lambda: edited_by_hand(path)):
            return FAIL, f"{path.name} was edited by hand (its envkit-sha256 header no longer matches)", False
        if self.memo.get(("current", unit.name), lambda: is_current(unit.name, self.settings, self._fleet(unit))):
            return PASS, "regenerating gives the same packages", False
        _trt, cuda = self._pins(env) if env is not None else (None, None)
        key = ("current-on", unit.name, self._facts_key(machine, cuda))
        if self.memo.get(key, lambda: is_current(unit.name, self.settings, machine.host_facts(cuda))):
            return PASS, f"regenerating for {machine.label} gives the same packages", False
        return FAIL, f"stale: the matrix or the profile changed; run `envkit generate {unit.name}`", False

    def _fleet(self, unit: EnvUnit) -> HostInfo | None:
        """What `envkit generate` answers for without a GPU: the profile's targets taken together."""
        from envkit.host.machines import Machine

        prof = unit.profile
        fleet = Machine.from_targets(prof.targets, self.settings, self.matrix()) if prof and prof.targets else None
        return fleet.host_facts() if fleet is not None else None

    # ---- 3. solve --------------------------------------------------------------------------
    def _repodata(self, chans: list[Channel], subdirs: list[str]) -> tuple[list[Repodata], list[str], bool]:
        rds: list[Repodata] = []
        errors: list[str] = []
        for ch in chans:
            for sd in subdirs:
                rd = self.repodata.get(ch.url, sd)
                rds.append(rd)
                if rd.error:
                    msg = rd.error if not ch.mirror else f"{rd.error} [{ch.describe()}]"
                    if msg not in errors:
                        errors.append(msg)
        return rds, errors, any(rd.from_cache for rd in rds)

    def step_solve(self, unit: EnvUnit, env: EnvFile, machine: Machine) -> tuple[str, str, bool]:
        if not env.conda:
            return SKIP, "no conda dependencies", False
        chans = self.channels(env)
        rds, errors, cached = self._repodata(chans, [machine.platform, "noarch"])
        if any(not rd.available for rd in rds):
            return FAIL, "; ".join(errors) or "repodata unavailable", cached
        _trt, cuda = self._pins(env)
        solve_target = machine.solve_target(cuda)
        specs = [d.raw.split("::", 1)[1].strip() if "::" in d.raw else d.raw.strip() for d in env.conda]
        # machines with the same solve input (``Machine.signature``) share one solve
        key = ("solve", str(unit.env_path), tuple(c.url for c in chans), machine.signature(cuda))
        status, reason = self._solve(key, specs, rds, solve_target, chans, machine)
        if errors:
            when = " (against cached repodata)" if cached else ""
            return FAIL, "; ".join(errors) + f"; {reason}{when}", cached
        return status, reason, cached

    def _solve(self, key: tuple[Any, ...], specs: list[str], rds: list[Repodata], solve_target: Target,
               chans: list[Channel], machine: Machine) -> tuple[str, str]:
        from envkit.engine.solve import NoSolution, solve_repodata

        try:
            records = self.memo.get(key, lambda: solve_repodata(specs, rds, solve_target))
        except NoSolution as exc:
            mirrors = [c for c in chans if c.mirror]
            if exc.missing and mirrors:
                where = ", ".join(c.describe() for c in mirrors)
                return FAIL, f"{', '.join(exc.missing)} missing on {where} for {machine.platform}"
            fact = exc.fact
            if solve_target.virtual("__cuda") is None and "__cuda" in exc.text:
                fact = "no __cuda: " + (machine.note or "the machine gives no CUDA version") + ", and CUDA packages need one"
            head = f"no solution for {machine.label}" + (f": {fact}" if fact else "")
            return FAIL, head + "\n" + exc.short
        except Exception as exc:
            return FAIL, redact_text(f"solve failed: {exc}")
        picked = {r.name: r.version for r in records}
        shown = ", ".join(f"{n} {picked[n]}" for n in ("tensorrt", "libnvinfer", "cuda-version", "cudnn") if n in picked)
        return PASS, f"{len(records)} packages" + (f" ({shown})" if shown else "")

    # ---- 4. lock ---------------------------------------------------------------------------
    def step_lock(self, unit: EnvUnit, env: EnvFile, machine: Machine) -> tuple[str, str, bool]:
        path = unit.lock_path
        if not path.is_file():
            return SKIP, f"no lock ({path.name}); `envkit create` writes it", False
        from envkit.engine.lockfile import lock_mismatches, read_lock

        lock = self.memo.get(("lock", str(path)), lambda: read_lock(path, channels=env.channels))
        if lock.target.platform != machine.platform:
            return SKIP, f"the lock is for {lock.target.platform}", False
        mism = lock_mismatches(lock, env)
        if mism:
            urls = [c.url for c in self.channels(env)]
            if not lock_mismatches(lock, env, urls):
                mism = []
        if mism:
            return FAIL, "stale lock: " + "; ".join(mism[:4]) + (" ..." if len(mism) > 4 else ""), False
        missing: dict[str, list[str]] = {}
        differs: dict[str, list[str]] = {}
        errors: list[str] = []
        cached = False
        for rec in lock.records:
            base, subdir, filename = split_package_url(rec.url)
            ch = mapped(base, self.config)
            rd = self.repodata.get(ch.url, subdir)
            cached = cached or rd.from_cache
            if rd.error and rd.error not in errors:
                errors.append(rd.error + (f" [{ch.describe()}]" if ch.mirror else ""))
            if not rd.available:
                continue
            found = rd.lookup(filename)
            where = ch.describe()
            if found is None:
                missing.setdefault(where, []).append(f"{filename} ({subdir})")
            elif rec.sha256 and found.sha256 and found.sha256 != rec.sha256:
                differs.setdefault(where, []).append(
                    f"{filename} ({subdir}): lock {rec.sha256[:12]}…, channel {found.sha256[:12]}…"
                )
        parts = [f"missing on {w}: {', '.join(fs)}" for w, fs in missing.items()]
        parts += [f"sha256 differs on {w}: {', '.join(fs)}" for w, fs in differs.items()]
        if errors or parts:
            return FAIL, "; ".join(errors + parts), cached
        return PASS, f"{len(lock.records)} locked packages present with the same sha256", cached

    # ---- 5. pip ----------------------------------------------------------------------------
    def step_pip(self, unit: EnvUnit, env: EnvFile, machine: Machine) -> tuple[str, str, bool]:
        deps = [d for d in env.pip if d.name]
        if not deps:
            return SKIP, "no pip dependencies", False
        indexes = [self.pip_index]
        for opt in env.pip_options():
            parts = (opt.option or "").replace("=", " ").split()
            if len(parts) == 2 and parts[0] in ("--index-url", "-i"):
                indexes[0] = parts[1].rstrip("/")
            elif len(parts) == 2 and parts[0] == "--extra-index-url":
                indexes.append(parts[1].rstrip("/"))
        problems: list[str] = []
        cached = False
        checked = unpinned = 0
        for dep in deps:
            version = dep.pinned_version
            if version is None or dep.name is None:
                unpinned += 1
                continue
            checked += 1
            errs: list[str] = []
            files: list[str] = []
            for idx in indexes:
                proj = self.pip.project(idx, dep.name)
                cached = cached or proj.from_cache
                if proj.error:
                    errs.append(proj.error)
                files += [f for f in proj.files if pin_admits(dep.specifier, file_version(f, dep.name))]
            if not files:
                shown = ", ".join(redact(i) for i in indexes)
                problems.append(f"{dep.name}=={version} not found on {shown}" + (f" ({'; '.join(errs)})" if errs else ""))
            elif not any(file_fits(f, machine.platform) for f in files):
                problems.append(f"{dep.name}=={version} has no file for {machine.platform} ({', '.join(files[:3])})")
        if problems:
            return FAIL, "; ".join(problems), cached
        extra = f"; {unpinned} unpinned not checked" if unpinned else ""
        return PASS, f"{checked} pinned requirement(s) found{extra}", cached
