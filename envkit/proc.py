"""The one subprocess wrapper of envkit.

Every external program (nvidia-smi, conda, mamba, pip, a smoke payload) is run through
``run()``: an argv list (never a shell string), a timeout, a cleaned environment, and a
result that tells apart the outcomes a caller must handle differently:

* the program ran and exited (``returncode``; 0 or not),
* the program does not exist or cannot be executed (``not_found`` / ``error``),
* the program ran past its timeout and was killed (``timed_out``).

``run()`` never raises for those; it raises only ``ValueError`` for a bad call (empty argv).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

# Variables that make child programs behave differently from what envkit expects or that
# leak the caller's Python into the child (a child python3 must not import our venv).
_DROP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__")


def clean_env(env: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """A copy of ``env`` (default: os.environ) without Python-leaking variables, in the C locale.

    The C locale keeps programs' messages in English so envkit can recognise them.
    """
    base = dict(os.environ if env is None else env)
    for key in _DROP:
        base.pop(key, None)
    base["LC_ALL"] = "C"
    base["LANG"] = "C"
    base.update(overrides)
    return base


@dataclass
class ProcResult:
    """What happened when envkit ran a program."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    not_found: bool = False
    argv: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # OSError text when the program could not be started (not "not found")

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.not_found and self.error is None

    @property
    def ran(self) -> bool:
        """The program started and exited on its own (with any return code)."""
        return self.returncode is not None and not self.timed_out

    @property
    def output(self) -> str:
        """stdout and stderr together (stdout first), for messages."""
        parts = [p.strip("\n") for p in (self.stdout, self.stderr) if p.strip()]
        return "\n".join(parts)

    def describe(self) -> str:
        """One line saying what happened, for messages."""
        name = self.argv[0] if self.argv else "program"
        if self.not_found:
            return f"{name}: not found"
        if self.error:
            return f"{name}: cannot run: {self.error}"
        if self.timed_out:
            return f"{name}: no answer after {self.seconds:.1f} s (killed)"
        return f"{name}: exit code {self.returncode}"


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """Kill the child and everything it started (it runs in its own process group)."""
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
) -> ProcResult:
    """Run ``argv`` and wait at most ``timeout`` seconds.

    ``env`` is used as given when passed (build it with ``clean_env``); by default the
    cleaned current environment. Output is decoded as UTF-8 with replacement, so a
    program's odd bytes never raise.
    """
    args = [str(a) for a in argv]
    if not args:
        raise ValueError("run() needs a program to run")
    child_env = dict(env) if env is not None else clean_env()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            cwd=None if cwd is None else os.fspath(cwd),
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=sys.platform != "win32",
        )
    except FileNotFoundError:
        return ProcResult(None, "", "", not_found=True, argv=args, seconds=time.monotonic() - start)
    except NotADirectoryError as exc:
        # a path component is a file: the program as named does not exist
        return ProcResult(None, "", "", not_found=True, argv=args, seconds=time.monotonic() - start,
                          error=exc.strerror)
    except PermissionError as exc:
        return ProcResult(None, "", "", argv=args, seconds=time.monotonic() - start,
                          error=exc.strerror or "permission denied")
    except OSError as exc:
        return ProcResult(None, "", "", argv=args, seconds=time.monotonic() - start, error=exc.strerror or str(exc))
    try:
        stdout, stderr = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        try:
            stdout, stderr = proc.communicate(timeout=5)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            stdout, stderr = "", ""
        return ProcResult(None, stdout or "", stderr or "", timed_out=True, argv=args,
                          seconds=time.monotonic() - start)
    except BaseException:
        _kill_tree(proc)
        proc.wait()
        raise
    return ProcResult(proc.returncode, stdout or "", stderr or "", argv=args, seconds=time.monotonic() - start)


@dataclass
class StreamResult:
    """What happened when envkit ran a person's command and passed its output through."""

    returncode: int | None
    argv: list[str]
    not_found: bool = False
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """The shell convention: the command's code, 128+N when signal N killed it, 127 not found, 126 not runnable."""
        if self.not_found:
            return 127
        if self.returncode is None:
            return 126
        return 128 - self.returncode if self.returncode < 0 else self.returncode


def stream(argv: Sequence[str], sinks: Sequence[Callable[[bytes], object]], *, block: int = 1 << 16) -> StreamResult:
    """Run a person's command (an argv list, never a shell) with their environment, stdout and stderr merged,
    handing every block of output to each of ``sinks`` as it arrives; returns when the command exits.

    The command stays in envkit's process group, so Ctrl-C reaches it as it would without envkit.
    """
    args = [str(a) for a in argv]
    if not args:
        raise ValueError("stream() needs a program to run")
    try:
        proc = subprocess.Popen(args, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    except (FileNotFoundError, NotADirectoryError):
        return StreamResult(None, args, not_found=True)
    except OSError as exc:
        return StreamResult(None, args, error=exc.strerror or str(exc))
    assert proc.stdout is not None
    try:
        while True:
            chunk = proc.stdout.read(block)
            if not chunk:
                break
            for sink in sinks:
                sink(chunk)
        return StreamResult(proc.wait(), args)
    except BaseException:
        proc.wait()
        raise
