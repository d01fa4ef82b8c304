"""Activation of a prefix (``envkit run``): rattler's shell activation, as a bash script."""

from __future__ import annotations

from pathlib import Path


def activation_script(prefix: Path, current_path: str) -> str:
    """A bash script activating ``prefix`` (rattler.shell.activate): PATH, CONDA_PREFIX, activate.d scripts."""
    from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

    path = [p for p in current_path.split(":") if p]
    variables = ActivationVariables(
        current_prefix=None,
        current_path=path,
        path_modification_behavior=PathModificationBehavior.Replace,
    )
    res = activate(Path(prefix), variables, shell=Shell.bash)
    return f"{res.script}\nexport CONDA_DEFAULT_ENV={_shquote(Path(prefix).name)}\n"


def _shquote(s: str) -> str:
    import shlex

    return shlex.quote(s)
