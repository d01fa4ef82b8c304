"""The pip step with the environment's own Python.

conda-forge's python is not reachable here, so the "environment" is a real venv made with
``python -m venv`` (its bin/python is the environment's interpreter), and real PyPI packages are
installed into it. End to end, a fixture conda package ``venv-python`` turns the staging prefix into a
venv in its post-link script, so the whole create flow (staging, pip, shebang fix-up, swap) runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url

from envkit.context import Settings
from envkit.create import CreateRequest, create_env
from envkit.envfile import PipDep
from envkit.errors import InstallError
from envkit.pipstep import failing_package, install_pip, pip_argv

network = pytest.mark.skipif(os.environ.get("ENVKIT_OFFLINE_TESTS") == "1", reason="needs PyPI")


def dep(raw: str) -> PipDep:
    if raw.startswith("-"):
        return PipDep(raw=raw, name=None, specifier="", local=None, option=raw, line=None)
    return PipDep(raw=raw, name=raw.split("=")[0].split("<")[0].split(">")[0], specifier="", local=None, option=None,
                  line=None)


def test_pip_argv_exact(tmp_path: Path) -> None:
    py = tmp_path / "bin/python"
    tool, argv = pip_argv(py, [dep("numpy==1.26.4"), dep("--extra-index-url https://pypi.nvidia.com")], use_uv=False)
    assert tool == "pip"
    assert argv == [str(py), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "numpy==1.26.4",
                    "--extra-index-url", "https://pypi.nvidia.com"]


@pytest.mark.parametrize(
    ("output", "pkg"),
    [
        ("Collecting nope-xyz\nERROR: Could not find a version that satisfies the requirement nope-xyz (from versions: "
         "none)\nERROR: No matching distribution found for nope-xyz", "nope-xyz"),
        ("  × No solution found when resolving dependencies:\n  ╰─▶ Because nope-xyz was not found in the package "
         "registry and you require nope-xyz, we can conclude that your requirements are unsatisfiable.", "nope-xyz"),
        ("Collecting numpy\nCollecting tensorrt-cu12-libs\n  Downloading tensorrt_cu12_libs-11.4.0.106.tar.gz\n"
         "error: metadata-generation-failed", "tensorrt-cu12-libs"),
    ],
)
def test_failing_package(output: str, pkg: str) -> None:
    assert failing_package(output) == pkg


def test_no_python_in_env(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="no python"):
        install_pip(tmp_path, [dep("numpy")])


@pytest.fixture
def venv_prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
    (prefix / "conda-meta").mkdir()
    return prefix


@pytest.fixture(params=["pip", "uv"])
def installer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pip":
        monkeypatch.setenv("ENVKIT_PIP", "pip")
        monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                    if not (Path(p) / "uv").exists()))
    else:
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        if not Path(uv).exists():
            pytest.skip("uv not installed")
        monkeypatch.setenv("PATH", str(Path(uv).parent) + os.pathsep + os.environ["PATH"])
    return str(request.param)


@network
@pytest.mark.slow
def test_real_pypi_packages(venv_prefix: Path, installer: str) -> None:
    out = install_pip(venv_prefix, [dep("numpy"), dep("onnx")])
    assert out.tool == installer
    r = subprocess.run([str(venv_prefix / "bin/python"), "-c", "import numpy, onnx; print(numpy.__version__)"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@network
@pytest.mark.slow
def test_nonexistent_package_is_named(venv_prefix: Path, installer: str) -> None:
    with pytest.raises(InstallError) as ei:
        install_pip(venv_prefix, [dep("six"), dep("envkit-no-such-package-xyz")])
    assert "envkit-no-such-package-xyz" in ei.value.message
    assert ei.value.exit_code == 5


@network
@pytest.mark.slow
def test_tensorrt_libs_stub_is_named_with_hint(venv_prefix: Path, installer: str) -> None:
    with pytest.raises(InstallError) as ei:
        install_pip(venv_prefix, [dep("tensorrt-cu12-libs")], timeout=300)
    assert "tensorrt-cu12-libs" in ei.value.message
    assert ei.value.hint and "pypi.nvidia.com" in ei.value.hint


@network
@pytest.mark.slow
def test_create_with_pip_section_end_to_end(tmp_path: Path, envkit_settings: Settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A conda package whose post-link makes the prefix a venv stands in for conda-forge's python."""
    monkeypatch.setenv("ENVKIT_PIP", "pip")
    post = f'#!/bin/sh\n"{sys.executable}" -m venv "$PREFIX" || exit 1\n'
    ch = build_channel(tmp_path / "ch", [PackageSpec("venv-python", "3.11", subdir="linux-64", post_link=post)])
    env_file = env_yaml(tmp_path / "environment.yml", [file_url(ch)], ["venv-python"], name="pyenv", pip=["six"])
    res = create_env(CreateRequest(file=env_file, name="pyenv", no_smoke=True), envkit_settings)
    assert res.status == "created" and "pip" in res.timings
    prefix = res.prefix
    r = subprocess.run([str(prefix / "bin/python"), "-c", "import six, sys; print(sys.prefix)"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == str(prefix)
    # pip wrote its scripts in staging; envkit rewrote them to the final path
    pip_script = (prefix / "bin/pip").read_text()
    assert "envkit-staging" not in pip_script and str(prefix) in pip_script.splitlines()[0]
    # the pip failure path through create: the previous environment is kept
    env_yaml(env_file, [file_url(ch)], ["venv-python"], name="pyenv", pip=["envkit-no-such-package-xyz"])
    with pytest.raises(InstallError, match="envkit-no-such-package-xyz"):
        create_env(CreateRequest(file=env_file, name="pyenv", no_smoke=True), envkit_settings)
    assert (prefix / "bin/python").exists()
