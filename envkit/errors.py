"""The one exception hierarchy of envkit.

Every error carries a message, an optional hint and an exit code. Core code raises
these; only ``envkit.cli`` catches them, prints them and exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``envkit`` command (documented in README.md)."""

    OK = 0
    FINDINGS = 1  # checked and found incompatible / findings of severity error / a check failed
    USAGE = 2  # bad usage or a bad input file
    ENVIRONMENT = 3  # the machine: nvidia-smi failed, no driver, a tool missing, disk full
    SOLVE = 4  # the conda solve found no solution
    INSTALL = 5  # download, link or pip step failed; a channel unreachable
    SMOKE = 6  # the smoke test failed
    LOCKED = 7  # another envkit process holds the environment's lock
    INTERRUPTED = 130


class EnvkitError(Exception):
    """Base of every error envkit reports to a person."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
        }


class InputError(EnvkitError):
    """A file or argument a person gave is wrong. Names the file, the line and the key."""

    exit_code = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        where = ""
        if file:
            where = file + (f":{line}" if line else "")
        if key:
            where = f"{where}: {key}" if where else key
        super().__init__(f"{where}: {message}" if where else message, hint)


class MatrixError(InputError):
    """matrix.yaml is malformed or contradicts itself."""


class ProfileError(InputError):
    """A profile in environments/ is malformed."""


class EnvFileError(InputError):
    """An environment.yml cannot be read."""


class HostError(EnvkitError):
    """The host could not be inspected (no driver, nvidia-smi failed or hung)."""

    exit_code = ExitCode.ENVIRONMENT


class ResolveError(EnvkitError):
    """No stack satisfies the profile, the matrix and the host."""

    exit_code = ExitCode.FINDINGS


class SolveError(EnvkitError):
    """The conda solver found no solution."""

    exit_code = ExitCode.SOLVE


class ChannelError(EnvkitError):
    """A channel or mirror cannot be reached or lacks a package."""

    exit_code = ExitCode.INSTALL


class InstallError(EnvkitError):
    """Downloading, linking or the pip step failed."""

    exit_code = ExitCode.INSTALL


class LockedError(EnvkitError):
    """Another envkit process works on the same environment."""

    exit_code = ExitCode.LOCKED


class SmokeError(EnvkitError):
    """The smoke test failed."""

    exit_code = ExitCode.SMOKE
