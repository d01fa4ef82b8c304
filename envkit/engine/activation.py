"""Activation of a prefix: what changes (PATH, CONDA_* variables, activate.d scripts) and the script for a shell.

rattler (``rattler.shell.activate``) computes the new PATH for the prefix's platform; the script itself is
written here, because rattler's scripts put paths inside double quotes (``"$PREFIX/bin"``), where ``$(...)``
and backquotes in a directory name would run. Every value goes through ``quote(shell, value)``: the one place
that knows each shell's quoting. Nothing here evaluates anything.

* ``activation(prefix, current_path)`` -> ``Activation`` (the variables, the activate.d scripts per shell);
* ``shell_script(activation, shell)`` -> the script ``eval "$(envkit shell-hook NAME)"`` runs;
* ``activation_script(prefix, current_path)``: the bash script ``envkit run`` uses.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

SHELLS = ("bash", "zsh", "fish", "powershell")
# activate.d script suffixes each shell sources (conda's convention)
SCRIPT_SUFFIX = {"bash": ".sh", "zsh": ".sh", "fish": ".fish", "powershell": ".ps1"}
# characters PowerShell treats as single quotes inside a single-quoted string (doubled to escape)
_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def quote(shell: str, value: str, *, minimal: bool = False) -> str:
    """``value`` as one literal word of ``shell``: never expanded, never evaluated. ``minimal``: leave a word
    of plain characters bare (for commands printed for a person to copy)."""
    if "\0" in value:
        raise ValueError("a NUL byte cannot be passed to a shell")
    if minimal and _PLAIN.fullmatch(value):
        return value
    if shell in ("bash", "zsh", "sh"):
        return "'" + value.replace("'", "'\\''") + "'"
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return "'" + "".join(c * 2 if c in _PS_SINGLE_QUOTES else c for c in value) + "'"
    raise ValueError(f"unknown shell {shell!r}")


@dataclass
class Activation:
    """What activating ``prefix`` changes."""

    prefix: Path
    env: dict[str, str]  # variables to set, PATH included
    scripts: dict[str, list[Path]] = field(default_factory=dict)  # shell -> activate.d scripts, in order


def _state_vars(prefix: Path) -> dict[str, str]:
    """``conda env config vars`` (``conda-meta/state``: {"env_vars": {...}}), bounded and type-checked."""
    state = prefix / "conda-meta" / "state"
    try:
        if not state.is_file() or state.stat().st_size > 1 << 20:
            return {}
        data = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    env_vars = data.get("env_vars") if isinstance(data, dict) else None
    if not isinstance(env_vars, dict):
        return {}
    return {str(k): str(v) for k, v in env_vars.items() if isinstance(k, str) and k.isidentifier()}


def _scripts(prefix: Path) -> dict[str, list[Path]]:
    d = prefix / "etc" / "conda" / "activate.d"
    found = sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []
    return {sh: [p for p in found if p.suffix == suffix] for sh, suffix in SCRIPT_SUFFIX.items()}


def activation(prefix: Path, current_path: str, name: str | None = None) -> Activation:
    """The variables and scripts of activating ``prefix`` on top of ``current_path`` (PATH)."""
    from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

    prefix = Path(prefix)
    path = [p for p in current_path.split(os.pathsep) if p]
    variables = ActivationVariables(
        current_prefix=None, current_path=path, path_modification_behavior=PathModificationBehavior.Replace,
    )
    res = activate(prefix, variables, shell=Shell.bash)
    new_path: list[Any] = cast("list[Any]", res.path)  # typed as one Path by py-rattler 0.28; it is the list
    env = {
        "PATH": os.pathsep.join(str(p) for p in new_path),
        "CONDA_PREFIX": str(prefix),
        "CONDA_DEFAULT_ENV": name or prefix.name,
        "CONDA_SHLVL": "1",
    }
    env.update(_state_vars(prefix))
    return Activation(prefix, env, _scripts(prefix))


def shell_script(act: Activation, shell: str) -> str:
    """The activation script for ``shell``: set every variable, then source the activate.d scripts."""
    lines: list[str] = []
    for key, value in act.env.items():
        q = quote(shell, value)
        if shell == "fish":
            lines.append(f"set -gx {key} {q}")
        elif shell == "powershell":
            lines.append(f"${{Env:{key}}} = {q}")
        else:
            lines.append(f"export {key}={q}")
    for script in act.scripts.get(shell, []):
        q = quote(shell, str(script))
        lines.append(f". {q}" if shell != "fish" else f"source {q}")
    return "\n".join(lines) + "\n"


def activation_script(prefix: Path, current_path: str) -> str:
    """A bash script activating ``prefix``: PATH, CONDA_PREFIX, CONDA_DEFAULT_ENV, activate.d/*.sh sourced."""
    return shell_script(activation(prefix, current_path), "bash")
