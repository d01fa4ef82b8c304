"""conda / mamba / micromamba driven as programs (exact argv, run through envkit.proc)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from envkit import __version__
from envkit.create.model import CreateRequest, CreateResult
from envkit.create.record import EnvRecord, write_record
from envkit.engine.types import Reporter
from envkit.errors import EnvkitError, InputError, InstallError, ToolMissingError
from envkit.fsutil import sha256_file
from envkit.limits import env_seconds

if TYPE_CHECKING:
    from envkit.context import Settings


class _CliBackend:
    name = ""
    env_var = ""  # override the executable, e.g. ENVKIT_CONDA=/opt/conda/bin/conda

    def executable(self) -> str | None:
        override = os.environ.get(self.env_var) if self.env_var else None
        if override:
            return override if (os.path.isfile(override) and os.access(override, os.X_OK)) else None
        return shutil.which(self.name)

    def available(self) -> bool:
        return self.executable() is not None

    def _exe(self) -> str:
        return self.executable() or self.name

    def create_argv(self, prefix: Path, env_file: Path) -> list[str]:
        return [self._exe(), "env", "create", "--prefix", str(prefix), "--file", str(env_file), "--yes"]

    def remove_argv(self, prefix: Path) -> list[str]:
        return [self._exe(), "env", "remove", "--prefix", str(prefix), "--yes"]

    def missing_error(self) -> EnvkitError:
        return ToolMissingError(
            f"--backend {self.name}: `{self.name}` is not on PATH",
            hint=f"install {self.name} (or set {self.env_var}), or use the default embedded backend (--backend rattler)",
        )


class CondaCliBackend(_CliBackend):
    name = "conda"
    env_var = "ENVKIT_CONDA"


class MambaCliBackend(_CliBackend):
    name = "mamba"
    env_var = "ENVKIT_MAMBA"


class MicromambaCliBackend(_CliBackend):
    name = "micromamba"
    env_var = "ENVKIT_MICROMAMBA"

    def create_argv(self, prefix: Path, env_file: Path) -> list[str]:
        return [self._exe(), "create", "-y", "-p", str(prefix), "-f", str(env_file)]

    def remove_argv(self, prefix: Path) -> list[str]:
        return [self._exe(), "env", "remove", "-y", "-p", str(prefix)]


CLI_BACKENDS: dict[str, type[_CliBackend]] = {
    "conda": CondaCliBackend,
    "mamba": MambaCliBackend,
    "micromamba": MicromambaCliBackend,
}


def create_with_backend(
    request: CreateRequest,
    settings: Settings,
    env_file: Path,
    name: str | None,
    prefix: Path,
    reporter: Reporter | None = None,
) -> CreateResult:
    """Build ``prefix`` with an external tool. conda embeds the prefix in files, so the tool installs into
    the final path; an existing environment is moved aside first and restored on failure (same
    ``envkit.create.staging`` recovery as the embedded backend)."""
    from envkit.create.staging import Swap, env_lock, guard_target, recover, sigterm_as_interrupt
    from envkit.proc import clean_env, run

    if request.backend not in CLI_BACKENDS:
        raise InputError(f"unknown backend {request.backend!r}", hint="one of: rattler, " + ", ".join(CLI_BACKENDS))
    backend = CLI_BACKENDS[request.backend]()
    if not backend.available():
        raise backend.missing_error()
    result = CreateResult(status="created", name=name, prefix=prefix, env_file=env_file, backend=backend.name)
    if request.dry_run:
        result.status = "dry run"
        result.notes.append(" ".join(backend.create_argv(prefix, env_file)))
        return result
    t0 = time.perf_counter()
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with env_lock(prefix, request.lock_timeout), sigterm_as_interrupt():
        result.notes += recover(prefix)
        guard_target(prefix)
        swap = Swap(prefix)
        try:
            if prefix.exists():
                prefix.rename(swap.old)
                swap.moved_old = True
            swap.swapped = True
            argv = backend.create_argv(prefix, env_file)
            if reporter is not None:
                reporter.step(backend.name, " ".join(argv))
            # the tool solves for the machine envkit resolved for (--host, the profile's targets), not this one
            overrides = request.machine.conda_overrides() if request.machine is not None else {}
            res = run(argv, timeout=env_seconds("ENVKIT_BACKEND_TIMEOUT", 7200.0), env=clean_env(None, **overrides))
            if not res.ok:
                tail = "\n".join((res.stderr or res.stdout or "").strip().splitlines()[-10:])
                raise InstallError(f"{backend.name} failed (exit {res.returncode}):\n{tail}", hint=" ".join(argv))
            write_record(prefix, EnvRecord(complete=True, name=name, prefix=str(prefix), env_file=str(env_file),
                                           spec_hash=sha256_file(env_file), backend=backend.name,
                                           envkit_version=__version__))
        except BaseException:
            swap.rollback()
            raise
        swap.finish()
    result.timings = {"total": time.perf_counter() - t0}
    return result

