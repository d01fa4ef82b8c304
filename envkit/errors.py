"""The one exception hierarchy of envkit.

Every error carries a message, an optional hint and an exit code. Core code raises
these; only ``envkit.cli`` catches them, prints them and exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``envkit`` command: the one definition.

    The ``--help`` epilog and README's table are rendered from ``ExitCode.meaning``
    (``exit_code_table``); tests/test_errors.py checks README against it.
    """

    OK = 0
    FINDINGS = 1
    USAGE = 2
    ENVIRONMENT = 3
    SOLVE = 4
    INSTALL = 5
    SMOKE = 6
    LOCKED = 7
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.FINDINGS: "checked and found incompatible: no stack resolves, findings of severity error, a check failed, "
    "a generated file was edited by hand",
    ExitCode.USAGE: "bad usage or a bad input file (matrix, profile, environment file, capture); the message names "
    "the file, line and key",
    ExitCode.ENVIRONMENT: "environment problem: no NVIDIA driver, nvidia-smi missing, failing or hanging, a tool "
    "missing (conda, bash), disk full",
    ExitCode.SOLVE: "the conda solve found no solution",
    ExitCode.INSTALL: "download, install or pip step failed; a channel unreachable; a bundle does not verify",
    ExitCode.SMOKE: "the smoke test failed",
    ExitCode.LOCKED: "another envkit process holds the environment's lock",
    ExitCode.INTERRUPTED: "interrupted",
}


def exit_code_table(markdown: bool = False) -> str:
    """The exit-code table: plain for ``envkit --help``, markdown for README.md."""
    if markdown:
        rows = [f"| {int(c)} | {c.meaning} |" for c in ExitCode]
        return "\n".join(["| code | meaning |", "| --- | --- |", *rows]) + "\n"
    return "exit codes:\n" + "".join(f"  {int(c):<3} {c.meaning}\n" for c in ExitCode)


class EnvkitError(Exception):
    """Base of every error envkit reports to a person."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message



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


class UsageError(EnvkitError):
    """The command line itself is wrong (an unknown option, a missing argument)."""

    exit_code = ExitCode.USAGE


class MatrixError(InputError):
    """matrix.yaml is malformed or contradicts itself."""


class ProfileError(InputError):
    """A profile in environments/ is malformed."""


class EnvFileError(InputError):
    """An environment.yml cannot be read."""


class HostError(EnvkitError):
    """The host could not be inspected (no driver, nvidia-smi failed or hung)."""

    exit_code = ExitCode.ENVIRONMENT


class ToolMissingError(EnvkitError):
    """A program envkit needs is not installed (conda, mamba, micromamba, bash)."""

    exit_code = ExitCode.ENVIRONMENT


class DiskFullError(EnvkitError):
    """No space left on the filesystem envkit writes to."""

    exit_code = ExitCode.ENVIRONMENT


class WriteError(EnvkitError):
    """A file envkit must write cannot be written (read-only folder, a folder in the way, permissions)."""

    exit_code = ExitCode.ENVIRONMENT


class EditedFileError(EnvkitError):
    """A file envkit would overwrite was edited by hand (or not written by envkit)."""

    exit_code = ExitCode.FINDINGS


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


class BundleVerifyError(EnvkitError):
    """An offline bundle does not match its manifest."""

    exit_code = ExitCode.INSTALL


class LockedError(EnvkitError):
    """Another envkit process works on the same environment."""

    exit_code = ExitCode.LOCKED


class SmokeError(EnvkitError):
    """The smoke test failed."""

    exit_code = ExitCode.SMOKE
