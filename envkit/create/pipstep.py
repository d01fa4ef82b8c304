"""The ``pip:`` section of an environment file, installed with the environment's own Python.

``install_pip(prefix, deps, ...)`` runs ``<prefix>/bin/python -m pip install --no-input ...`` (or
``uv pip install --python <prefix>/bin/python ...`` when ``uv`` is on PATH and ``ENVKIT_PIP`` is not
``pip``) through ``envkit.proc.run``. Options in the section (``--extra-index-url URL``, ``-f``...)
are passed through. A failure raises ``InstallError`` naming the package that failed, with a hint for
the well-known traps (``tensorrt-cu12-libs`` and friends are stubs on PyPI that need NVIDIA's index).
The fix-ups that follow the section (``envkit.create.trt_fixup``) are the pipeline's next step; they use
``run_installer`` from here (this module does not know them).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Sequence
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


def pip_argv(python: Path, deps: Sequence[PipDep], *, use_uv: bool | None = None) -> tuple[str, list[str]]:
    """(tool, argv) for installing ``deps`` with ``python``."""
    args: list[str] = []
    for d in deps:
        if d.option:
            args += shlex.split(d.option)
        else:
            args.append(d.raw.strip())
    uv = shutil.which("uv") if use_uv is not False else None
    if use_uv is None and os.environ.get("ENVKIT_PIP", "").lower() == "pip":
        uv = None
    if uv:
        return "uv", [uv, "pip", "install", "--python", str(python), *args]
    return "pip", [str(python), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", *args]


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


def install_pip(prefix: Path, deps: Sequence[PipDep], *, timeout: float = 3600, run_in: Path | None = None) -> PipOutcome:
    """Install the pip section into ``prefix`` (the staging prefix during create)."""
    packages = [d.raw for d in deps if not d.option]
    python = find_python(prefix)
    if python is None:
        raise InstallError(
            f"the environment has a pip: section ({', '.join(packages) or 'options only'}) but no python",
            hint="add python to the conda dependencies, or move those packages to conda",
        )
    tool, argv, seconds = run_installer(prefix, python, deps, timeout=timeout, run_in=run_in)
    return PipOutcome(tool, [redact_text(a) for a in argv], seconds, packages, python)


def run_installer(
    prefix: Path, python: Path, deps: Sequence[PipDep], *, timeout: float = 3600, run_in: Path | None = None
) -> tuple[str, list[str], float]:
    """Run pip (or uv) for ``deps`` into ``prefix``: (tool, argv, seconds); ``InstallError`` on failure."""
    from envkit.proc import clean_env, run

    packages = [d.raw for d in deps if not d.option]
    tool, argv = pip_argv(python, deps)
    env = clean_env(
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUAL_ENV=str(prefix),
        CONDA_PREFIX=str(prefix),
    )
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
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
