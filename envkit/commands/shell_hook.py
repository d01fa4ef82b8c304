"""``envkit shell-hook NAME | --prefix DIR [--shell bash|zsh|fish|powershell]``: the activation script.

Use it as ``eval "$(envkit shell-hook NAME)"`` (bash, zsh), ``envkit shell-hook NAME --shell fish | source``
or ``envkit shell-hook NAME --shell powershell | Out-String | Invoke-Expression``. The script sets PATH,
CONDA_PREFIX, CONDA_DEFAULT_ENV, CONDA_SHLVL and the environment's ``conda env config vars``, then sources
``etc/conda/activate.d`` (``*.sh`` for bash and zsh, ``*.fish``, ``*.ps1``); every value is quoted for the
shell (``envkit.engine.activation.quote``), so nothing in a path is ever evaluated.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings


@dataclass
class HookResult:
    shell: str
    prefix: Path
    script: str
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"shell": self.shell, "prefix": str(self.prefix), "script": self.script}

    def render(self, console: Console) -> None:
        console.out(self.script, end="", highlight=False)


def default_shell(env: dict[str, str]) -> str:
    """The shell named by $SHELL when envkit knows it, else bash."""
    from envkit.engine.activation import SHELLS

    name = Path(env.get("SHELL") or "bash").name
    name = {"pwsh": "powershell", "powershell.exe": "powershell", "pwsh.exe": "powershell"}.get(name, name)
    return name if name in SHELLS else "bash"


def run(args: argparse.Namespace, settings: Settings) -> HookResult:
    from envkit.engine.activation import activation, shell_script
    from envkit.envs import resolve_env

    env = settings.env or dict(os.environ)
    name = getattr(args, "name", None)
    prefix = resolve_env(name, getattr(args, "prefix", None), settings)
    shell = getattr(args, "shell", None) or default_shell(env)
    act = activation(prefix, env.get("PATH", ""), name=name)
    return HookResult(shell, prefix, shell_script(act, shell))
