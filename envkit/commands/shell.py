"""``envkit shell NAME | --prefix DIR``: an interactive subshell with the environment active.

The shell is $SHELL when it is bash, zsh or fish (else bash). It starts with the user's own startup file,
then the activation script of ``envkit shell-hook`` (written to a private temporary file, never passed
through a command line), and a prompt prefixed with ``(NAME)``. ``exit`` returns; the subshell's exit
status is envkit's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from envkit.context import Settings
from envkit.errors import ToolMissingError
from envkit.result import Message


class ShellResult:
    def __init__(self, code: int, shell: str, prefix: Path) -> None:
        self.code, self.shell, self.prefix = code, shell, prefix

    def messages(self) -> list[Message]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"shell": self.shell, "prefix": str(self.prefix), "exit_code": self.code}

    def render(self, console: Any) -> None:
        pass

    @property
    def exit_code(self) -> int:
        return self.code


def _argv(shell: str, exe: str, tmp: Path, script: str, env: dict[str, str], label: str) -> list[str]:
    """The command starting ``shell`` with the activation in ``tmp`` (files written here)."""
    import re

    from envkit.engine.activation import quote

    label = re.sub(r"[^A-Za-z0-9._+-]", "_", label)  # the prompt is expanded by the shell: plain characters only

    home = Path(env.get("HOME") or str(Path.home()))
    if shell == "zsh":
        user_dir = Path(env.get("ZDOTDIR") or home)
        rc = f"[ -f {quote('zsh', str(user_dir / '.zshrc'))} ] && . {quote('zsh', str(user_dir / '.zshrc'))}\n"
        # afterwards ZDOTDIR is the user's again, so shells started inside read their own startup files
        restore = (f"export ZDOTDIR={quote('zsh', env['ZDOTDIR'])}\n" if env.get("ZDOTDIR") else "unset ZDOTDIR\n")
        (tmp / ".zshrc").write_text(rc + script + f'PS1="({label}) $PS1"\n' + restore)
        env["ZDOTDIR"] = str(tmp)
        return [exe, "-i"]
    if shell == "fish":
        (tmp / "activate.fish").write_text(script)
        return [exe, "-i", "-C", f"source {quote('fish', str(tmp / 'activate.fish'))}"]
    rc = f"[ -f ~/.bashrc ] && . ~/.bashrc\n{script}" + f'PS1="({label}) ${{PS1-\\$ }}"\n'
    (tmp / "bashrc").write_text(rc)
    return [exe, "--rcfile", str(tmp / "bashrc"), "-i"]


def run(args: argparse.Namespace, settings: Settings) -> ShellResult:
    import shutil

    from envkit.commands.shell_hook import default_shell
    from envkit.engine.activation import activation, shell_script
    from envkit.envs import resolve_env

    env = dict(settings.env or os.environ)
    name = getattr(args, "name", None)
    prefix = resolve_env(name, getattr(args, "prefix", None), settings)
    shell = default_shell(env)
    if shell == "powershell":
        shell = "bash"
    exe = env.get("SHELL") if Path(env.get("SHELL") or "").name == shell else shutil.which(shell)
    if not exe:
        raise ToolMissingError(f"{shell} is needed for `envkit shell`",
                               hint=f'or activate in this shell: eval "$(envkit shell-hook {name or "--prefix DIR"})"')
    script = shell_script(activation(prefix, env.get("PATH", ""), name=name), shell)
    with tempfile.TemporaryDirectory(prefix="envkit-shell-") as tmp:
        argv = _argv(shell, exe, Path(tmp), script, env, name or prefix.name)
        env["ENVKIT_SHELL"] = str(prefix)
        code = subprocess.run(argv, env=env, check=False).returncode
    return ShellResult(code, shell, prefix)
