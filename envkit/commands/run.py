"""``envkit run (NAME | --prefix DIR) -- CMD``: run CMD inside an environment with conda activation.

Activation uses rattler's activation script (``rattler.shell.activate``, via
``envkit.engine.rattler_engine.activation_script``): PATH, CONDA_PREFIX, CONDA_DEFAULT_ENV, and every
``etc/conda/activate.d/*.sh`` sourced; then ``exec "$@"`` in bash. The exit code of CMD is propagated.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path
from typing import Any

from envkit.context import Settings
from envkit.envs import resolve_env
from envkit.errors import InputError, ToolMissingError
from envkit.result import Message


class RunResult:
    def __init__(self, code: int, argv: list[str], prefix: Path) -> None:
        self.code = code
        self.argv = argv
        self.prefix = prefix

    def messages(self) -> list[Message]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"prefix": str(self.prefix), "argv": self.argv, "exit_code": self.code}

    def render(self, console: Any) -> None:
        pass

    @property
    def exit_code(self) -> int:
        return self.code


def run_in_env(prefix: Path, cmd: list[str], env: dict[str, str] | None = None) -> int:
    from envkit.engine.rattler_engine import activation_script

    base = dict(os.environ if env is None else env)
    script = activation_script(prefix, base.get("PATH", ""))
    # a missing command: one clear line and 127 (the shell's own message names envkit's script instead)
    full = script + (
        '\nif ! command -v -- "$1" >/dev/null 2>&1 && ! [ -e "$1" ]; then\n'
        '  printf \'command not found: %s\\n\' "$1" >&2; exit 127\nfi\nexec "$@"\n'
    )
    try:
        proc = subprocess.run(["bash", "-c", full, "envkit-run", *cmd], env=base, check=False)
    except FileNotFoundError:
        raise ToolMissingError("bash is needed to activate the environment", "install bash (envkit run activates with it)")
    return proc.returncode


def run(args: argparse.Namespace, settings: Settings) -> RunResult:
    cmd = list(getattr(args, "cmd", []) or [])
    name = getattr(args, "name", None)
    prefix_arg = getattr(args, "prefix", None)
    if prefix_arg and name:
        # `envkit run --prefix DIR -- CMD ...`: argparse hands CMD's first word to the NAME positional
        cmd = [name, *cmd]
        name = None
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise InputError("nothing to run", hint="envkit run NAME -- CMD ARGS...")
    prefix = resolve_env(name, prefix_arg, settings)
    return RunResult(run_in_env(prefix, cmd), cmd, prefix)
