"""Settings: where things are, read once from arguments and the environment.

No work at import time: ``Settings.from_env()`` is called by the CLI per invocation,
and tests build ``Settings`` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def packaged_matrix() -> Path:
    """matrix.yaml: the repository root's in a checkout, the packaged copy when installed."""
    checkout = PACKAGE_DIR.parent / "matrix.yaml"
    if checkout.is_file() and (PACKAGE_DIR.parent / "pyproject.toml").is_file():
        return checkout
    return PACKAGE_DIR / "matrix.yaml"


def builtin_environments() -> Path:
    """The profiles envkit ships: the checkout's environments/, or the packaged copy."""
    checkout = PACKAGE_DIR.parent / "environments"
    if checkout.is_dir() and (PACKAGE_DIR.parent / "pyproject.toml").is_file():
        return checkout
    return PACKAGE_DIR / "_environments"


def find_project_dir(start: Path) -> Path:
    """The nearest directory at or above ``start`` with an environments/ folder or envkit.toml."""
    for d in [start, *start.parents]:
        if (d / "environments").is_dir() or (d / "envkit.toml").is_file():
            return d
    return start


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "envkit"


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "envkit"


@dataclass
class Settings:
    """Everything a verb needs to know about where to look."""

    project_dir: Path
    matrix_path: Path
    cache_dir: Path
    nvidia_smi: str | None = None
    nvidia_smi_timeout: float = 20.0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def environments_dir(self) -> Path:
        return self.project_dir / "environments"

    def profile_dirs(self) -> list[Path]:
        dirs = [self.environments_dir]
        builtin = builtin_environments()
        if builtin.resolve() != self.environments_dir.resolve():
            dirs.append(builtin)
        return [d for d in dirs if d.is_dir()]

    @classmethod
    def from_env(
        cls,
        *,
        project: str | None = None,
        matrix: str | None = None,
        nvidia_smi: str | None = None,
        environ: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Settings:
        env = dict(os.environ if environ is None else environ)
        here = cwd or Path.cwd()
        given = project or env.get("ENVKIT_PROJECT")
        if given and not Path(given).is_dir():
            from envkit.errors import InputError

            origin = "--project" if project else "ENVKIT_PROJECT"
            raise InputError(f"no such project directory: {given}", key=origin,
                             hint="give the directory holding environments/ (or envkit.toml), or leave it out")
        project_dir = Path(given or find_project_dir(here)).resolve()
        matrix_path = Path(matrix or env.get("ENVKIT_MATRIX") or packaged_matrix())
        cache = Path(env.get("ENVKIT_CACHE_DIR") or user_cache_dir())
        from envkit.limits import env_seconds

        timeout = env_seconds("ENVKIT_NVIDIA_SMI_TIMEOUT", 20.0, env)
        return cls(
            project_dir=project_dir,
            matrix_path=matrix_path,
            cache_dir=cache,
            nvidia_smi=nvidia_smi or env.get("ENVKIT_NVIDIA_SMI"),
            nvidia_smi_timeout=timeout,
            env=env,
        )


def global_options(settings: Settings, cwd: Path | None = None) -> str:
    """``--project DIR --matrix FILE`` (shell-quoted) as far as a command envkit prints needs them to work as
    printed from ``cwd``: the project when it is not the one found from there, the matrix when it is neither
    the packaged one nor $ENVKIT_MATRIX. Ends with a space when not empty."""
    from envkit.engine.activation import quote

    out = ""
    here = find_project_dir(cwd or Path.cwd()).resolve()
    if here != settings.project_dir.resolve():
        out += f"--project {quote('bash', str(settings.project_dir), minimal=True)} "
    default = Path(settings.env.get("ENVKIT_MATRIX") or packaged_matrix()).resolve()
    if Path(settings.matrix_path).resolve() != default:
        out += f"--matrix {quote('bash', str(Path(settings.matrix_path).resolve()), minimal=True)} "
    return out
