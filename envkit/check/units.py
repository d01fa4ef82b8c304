"""Which environments ``check`` / ``mirror-check`` / ``bundle`` look at, and on which machines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envkit.check.steps import EnvUnit
from envkit.errors import InputError

if TYPE_CHECKING:
    from envkit.context import Settings


def _is_env_path(name: str) -> bool:
    return name.endswith((".yml", ".yaml")) and Path(name).is_file()


def profile_unit(name: str, settings: Settings, path: Path | None = None) -> EnvUnit:
    """The unit of a profile by name (or read from ``path``, its file, when the caller has listed the folder)."""
    from envkit.generate import default_output
    from envkit.profile import load_profile, parse_profile

    prof = parse_profile(path, name) if path is not None else load_profile(name, settings)
    return EnvUnit(name=prof.name, env_path=default_output(prof, settings), profile=prof)


def file_unit(path: str | Path) -> EnvUnit:
    from envkit.envfile import read_env_file

    p = Path(path)
    if not p.is_file():
        raise InputError("no such environment file", file=str(p), key="--file")
    env = read_env_file(p)  # a bad file is a usage error (exit 2), found before anything runs
    fallback = p.parent.name if p.stem == "environment" else p.stem
    return EnvUnit(name=env.name or fallback, env_path=p)


def project_units(settings: Settings) -> list[EnvUnit]:
    """Every profile of the project (environments/*.yaml) plus generated folders without a profile."""
    d = settings.environments_dir
    units: list[EnvUnit] = []
    if d.is_dir():
        files = sorted(d.glob("*.yaml"), key=lambda p: p.stem)
        names = [p.stem for p in files]
        units = [profile_unit(p.stem, settings, p) for p in files]
        for sub in sorted(p for p in d.iterdir() if p.is_dir() and p.name not in names):
            env = sub / "environment.yml"
            if env.is_file():
                units.append(EnvUnit(name=sub.name, env_path=env))
    if not units:
        from envkit.profile import profile_paths

        units = [profile_unit(n, settings) for n in profile_paths(settings)]
    if not units:
        raise InputError(f"no environments in {d}", "add profiles to environments/ or pass --file ENVIRONMENT.yml")
    return units


def select_units(settings: Settings, names: list[str], all_: bool, files: list[str]) -> list[EnvUnit]:
    if not names and not all_ and not files:
        raise InputError("nothing to check", "name environments, or pass --all or --file ENVIRONMENT.yml")
    units: list[EnvUnit] = project_units(settings) if all_ else []
    for n in names:
        units.append(file_unit(n) if _is_env_path(n) else profile_unit(n, settings))
    units += [file_unit(f) for f in files]
    seen: set[tuple[str, str]] = set()
    out = []
    for u in units:
        key = (u.name, str(u.env_path))
        if key not in seen:
            seen.add(key)
            out.append(u)
    return out


def assign_machines(units: list[EnvUnit], settings: Settings, specs: list[str]) -> None:
    """The machines each unit is checked on (``envkit.host.policy``): --target for every unit, else the
    profile's ``targets:`` (or its platforms), else linux-64."""
    from envkit.host.policy import machines_for

    given = machines_for(settings, specs=specs).machines if specs else None
    for u in units:
        u.machines = list(given) if given is not None else machines_for(settings, profile=u.profile, each=True).machines
