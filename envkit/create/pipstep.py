"""The ``pip:`` section of an environment file, installed with the environment's own Python.

``install_pip(prefix, deps, ...)`` runs ``uv pip install --python <prefix>/bin/python ...`` with the ``uv``
binary envkit depends on (``uv.find_uv_bin()``), or ``<prefix>/bin/python -m pip install --no-input ...``
when asked (``--installer pip``, ``ENVKIT_PIP=pip``) or when uv cannot serve the section the way pip would:
an option uv's pip interface does not accept (``UV_OPTIONS`` lists those it does, checked against the real
binary by tests/create/test_pipstep.py), or a pip setting uv has no equivalent for. pip's index settings
(``index-url``, ``extra-index-url``, ``find-links``, ``trusted-host``, ``no-index``, ``constraint``), from pip.conf or the
``PIP_*`` variables as pip reads them, are passed to uv as options, and with
extra indexes uv considers every index like pip does (``--index-strategy unsafe-best-match``), so a mirror
and NVIDIA's index are used the same way by both. Options in the section (``--extra-index-url URL``,
``-f``...) are passed through. A failure raises ``InstallError`` naming the package that failed, with a hint
for the well-known traps (``tensorrt-cu12-libs`` and friends are stubs on PyPI that need NVIDIA's index).
The fix-ups that follow the section (``envkit.create.trt_fixup``) are the pipeline's next step; they use
``run_installer`` from here (this module does not know them).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from envkit.config import redact_text
from envkit.envfile import PipDep
from envkit.errors import InstallError
from envkit.fsutil import find_python

NVIDIA_INDEX = "https://pypi.nvidia.com"


@dataclass
class PipOutcome:
    tool: str
    argv: list[str]
    seconds: float
    packages: list[str]
    python: Path  # the environment's interpreter that ran it
    note: str | None = None  # why pip ran instead of uv, when envkit fell back


# pip options uv's pip interface accepts with pip's meaning (uv 0.13; tests/create/test_pipstep.py runs each)
UV_OPTIONS = frozenset({
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index", "--no-deps", "--pre",
    "--no-build-isolation", "--trusted-host", "--only-binary", "--no-binary", "-U", "--upgrade",
    "--force-reinstall", "--no-cache-dir", "--compile", "-c", "--constraint", "-r", "--requirement",
    "-e", "--editable", "-C", "--config-settings", "--require-hashes",
})
# pip settings (environment PIP_<KEY> or pip.conf [global]/[install] <key>) and the uv option each becomes
_PIP_SETTINGS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links",
                 "trusted-host": "--trusted-host", "no-index": "--no-index", "constraint": "--constraint"}
# pip.conf keys that change nothing uv does differently (output, timeouts, pip's own checks)
_HARMLESS = {"cert", "timeout", "default-timeout", "retries", "disable-pip-version-check", "no-input", "quiet",
             "verbose", "progress-bar", "no-color", "root-user-action", "require-virtualenv", "cache-dir",
             "no-cache-dir", "log"}
def _section_args(deps: Sequence[PipDep]) -> list[str]:
    args: list[str] = []
    for d in deps:
        if d.option:
            args += shlex.split(d.option)
        else:
            args.append(d.raw.strip())
    return args


def _pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files that exist, lowest precedence first (uv reads none of them)."""
    home = Path(env.get("HOME", "~")).expanduser()
    xdg = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    names = [Path(d) / "pip" / "pip.conf" for d in env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":") if d]
    names += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg / "pip" / "pip.conf"]
    if env.get("PIP_CONFIG_FILE"):
        names.append(Path(env["PIP_CONFIG_FILE"]))
    return [p for p in names if p.is_file()]


def pip_settings(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """pip's settings from its config files and PIP_* variables (which win): ({key: value}, keys uv cannot take).

    Read with configparser (plain data; a file over 64 KiB or unreadable is skipped like pip skips a bad one).
    """
    import configparser

    settings: dict[str, str] = {}
    unknown: list[str] = []
    for path in _pip_config_files(env):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            if path.stat().st_size > 65536:
                continue
            parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    settings[key] = value
                    if key not in _PIP_SETTINGS and key not in _HARMLESS:
                        unknown.append(f"{key} ({path})")
    for key in _PIP_SETTINGS:
        from_env = env.get("PIP_" + key.upper().replace("-", "_"))
        if from_env is not None:
            settings[key] = from_env
    return settings, unknown


def choose_installer(deps: Sequence[PipDep], requested: str | None = None,
                     env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """("uv" | "pip", why envkit fell back to pip, or None when it did not have to)."""
    env = os.environ if env is None else env
    wanted = requested or (env.get("ENVKIT_PIP", "").lower() or None)
    if wanted == "pip":
        return "pip", None
    options = sorted({a.split("=", 1)[0] for a in _section_args(deps) if a.startswith("-")} - UV_OPTIONS)
    if options:
        return "pip", f"uv cannot serve {', '.join(options)} as pip does: installed with pip"
    _, unknown = pip_settings(env)
    if unknown and wanted != "uv":
        return "pip", f"pip configuration uv has no equivalent for: {', '.join(unknown)}: installed with pip"
    return "uv", None


def pip_argv(python: Path, deps: Sequence[PipDep], *, installer: str = "uv",
             env: Mapping[str, str] | None = None) -> list[str]:
    """The argv that installs ``deps`` into ``python``'s environment with ``installer``."""
    args = _section_args(deps)
    if installer == "pip":
        return [str(python), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", *args]
    from uv import find_uv_bin

    env = os.environ if env is None else env
    settings, _ = pip_settings(env)
    extra: list[str] = []
    for key, option in _PIP_SETTINGS.items():
        value = settings.get(key)
        if value is None:
            continue
        if key == "no-index":
            extra += [option] if value.strip().lower() in {"1", "true", "yes", "on"} else []
            continue
        for item in value.split():
            extra += [option, item]
    if "--extra-index-url" in args or "--extra-index-url" in extra:
        extra += ["--index-strategy", "unsafe-best-match"]  # pip's rule: the best match over every index
    return [find_uv_bin(), "pip", "install", "--python", str(python), *extra, *args]


_PATTERNS = [
    re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-\[\]]+)"),
    re.compile(r"Could not find a version that satisfies the requirement ([A-Za-z0-9_.\-\[\]]+)"),
    re.compile(r"Because ([A-Za-z0-9_.\-]+) was not found in the package registry"),
    re.compile(r"No solution found when resolving dependencies:[\s\S]*?Because ([A-Za-z0-9_.\-]+)"),
    re.compile(r"Failed to build `?([A-Za-z0-9_.\-]+)"),
    re.compile(r"Failed to (?:download|prepare distributions|build)[^`]*`([A-Za-z0-9_.\-]+)"),
    re.compile(r"ERROR: Failed building wheel for ([A-Za-z0-9_.\-]+)"),
    re.compile(r"Failed to build installable wheels for some pyproject\.toml based projects \(([^)]+)\)"),
]


def failing_package(output: str) -> str | None:
    """The package pip/uv names as the culprit, or the last one it was collecting."""
    for pat in _PATTERNS:
        m = pat.search(output)
        if m:
            return m.group(1).strip()
    collecting = re.findall(r"^Collecting ([A-Za-z0-9_.\-]+)", output, flags=re.M)
    return collecting[-1] if collecting else None


def _hint(pkg: str | None, output: str) -> str:
    name = (pkg or "").lower()
    if re.match(r"tensorrt(-cu\d+)?(-libs|-bindings)?$", name) or "pypi.nvidia.com" in output:
        return (
            f"{pkg} on PyPI is a stub that downloads from NVIDIA's index: add "
            f"`--extra-index-url {NVIDIA_INDEX}` to the pip section (or install TensorRT from conda)"
        )
    if "No matching distribution" in output or "not found in the package registry" in output:
        return "check the package name and version, and that this Python version and platform have a wheel"
    return "run the same pip command inside the environment to see the full log: envkit run NAME -- python -m pip ..."


def install_pip(prefix: Path, deps: Sequence[PipDep], *, timeout: float = 3600, run_in: Path | None = None,
                installer: str | None = None) -> PipOutcome:
    """Install the pip section into ``prefix`` (the staging prefix during create)."""
    packages = [d.raw for d in deps if not d.option]
    python = find_python(prefix)
    if python is None:
        raise InstallError(
            f"the environment has a pip: section ({', '.join(packages) or 'options only'}) but no python",
            hint="add python to the conda dependencies, or move those packages to conda",
        )
    tool, why = choose_installer(deps, installer)
    _, argv, seconds = run_installer(prefix, python, deps, timeout=timeout, run_in=run_in, installer=tool)
    return PipOutcome(tool, [redact_text(a) for a in argv], seconds, packages, python, why)


def run_installer(
    prefix: Path, python: Path, deps: Sequence[PipDep], *, timeout: float = 3600, run_in: Path | None = None,
    installer: str = "uv",
) -> tuple[str, list[str], float]:
    """Run pip (or uv) for ``deps`` into ``prefix``: (tool, argv, seconds); ``InstallError`` on failure."""
    from envkit.proc import clean_env, run

    packages = [d.raw for d in deps if not d.option]
    tool = installer
    argv = pip_argv(python, deps, installer=tool)
    env = clean_env(
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUAL_ENV=str(prefix),
        CONDA_PREFIX=str(prefix),
    )
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    if tool == "uv":  # pip's CA bundle (pip.conf `cert`, PIP_CERT) for uv: SSL_CERT_FILE
        cert = env.get("PIP_CERT") or pip_settings(env)[0].get("cert")
        if cert and "SSL_CERT_FILE" not in env:
            env["SSL_CERT_FILE"] = cert
    res = run(argv, timeout=timeout, env=env, cwd=str(run_in) if run_in else None)
    out = redact_text((res.stdout or "") + "\n" + (res.stderr or ""))
    if res.timed_out:
        raise InstallError(f"the pip step timed out after {timeout:g} s ({' '.join(packages)})")
    if res.not_found or getattr(res, "error", None):
        raise InstallError(f"cannot run {argv[0]}: {getattr(res, 'error', None) or 'not found'}")
    if res.returncode != 0:
        pkg = failing_package(out)
        tail = "\n".join(ln for ln in out.strip().splitlines()[-8:])
        what = f"package {pkg}" if pkg else ", ".join(packages)
        raise InstallError(f"pip section failed ({tool}) on {what}:\n{tail}", hint=_hint(pkg, out))
    return tool, argv, res.seconds
