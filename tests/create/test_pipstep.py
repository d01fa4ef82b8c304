"""The pip step's installer: uv by default, pip where uv cannot serve the section as pip would (issue 11).

Every option envkit hands to uv is run through the real uv binary; the index tests install real wheels
from PEP 503 indexes served over HTTP on 127.0.0.1 into a real virtual environment, with uv and with pip.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from check_fixtures import build_pip_index
from uv import find_uv_bin

from envkit.create.pipstep import UV_OPTIONS, choose_installer, install_pip, pip_argv
from envkit.envfile import parse_pip_line

VALUES = {"-i": "http://127.0.0.1:9/simple", "--index-url": "http://127.0.0.1:9/simple",
          "--extra-index-url": "http://127.0.0.1:9/simple", "-f": "/tmp", "--find-links": "/tmp",
          "--trusted-host": "127.0.0.1", "--only-binary": ":all:", "--no-binary": ":none:", "-c": "/dev/null",
          "--constraint": "/dev/null", "-r": "/dev/null", "--requirement": "/dev/null", "-e": ".",
          "--editable": ".", "-C": "a=b", "--config-settings": "a=b"}


def deps(*lines: str) -> list:
    return [parse_pip_line(line) for line in lines]


@pytest.mark.parametrize("option", sorted(UV_OPTIONS))
def test_uv_accepts_every_option_envkit_gives_it(option: str, tmp_path: Path) -> None:
    argv = [find_uv_bin(), "pip", "install", "--dry-run", "--offline", "--python", sys.executable, option]
    argv += [VALUES[option]] if option in VALUES else []
    r = subprocess.run([*argv, "pip"], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert "unexpected argument" not in r.stderr and "unsupported" not in r.stderr, r.stderr


@pytest.mark.network  # uv resolves `pip` against PyPI (dry run)
def test_an_option_uv_lacks_goes_to_pip() -> None:
    r = subprocess.run([find_uv_bin(), "pip", "install", "--dry-run", "--prefer-binary", "pip"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert "unexpected argument '--prefer-binary'" in r.stderr  # the real uv: why the fallback exists
    tool, why = choose_installer(deps("--prefer-binary", "numpy"), env={"HOME": "/nonexistent"})
    assert tool == "pip" and why and "--prefer-binary" in why
    section = deps("--extra-index-url https://pypi.nvidia.com", "-e ./pkg", "numpy")
    assert choose_installer(section, env={"HOME": "/nonexistent"}) == ("uv", None)


def test_pip_conf_index_settings_go_to_uv_the_rest_to_pip(tmp_path: Path) -> None:
    conf = tmp_path / "xdg" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[global]\nindex-url = http://127.0.0.1:9/simple\ncert = /etc/ssl/ca.pem\ntimeout = 60\n")
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert choose_installer(deps("numpy"), env=env) == ("uv", None)
    assert "--index-url" in pip_argv(tmp_path / "python", deps("numpy"), env=env)
    with conf.open("a") as fh:
        fh.write("[install]\nuser = true\n")  # no uv equivalent: pip, saying why
    tool, why = choose_installer(deps("numpy"), env=env)
    assert tool == "pip" and why and f"user ({conf})" in why
    assert choose_installer(deps("numpy"), "uv", env=env) == ("uv", None)
    assert choose_installer(deps("numpy"), env={**env, "ENVKIT_PIP": "pip"}) == ("pip", None)


def test_pip_environment_settings_become_uv_options(tmp_path: Path) -> None:
    env = {"PIP_INDEX_URL": "http://mirror.invalid/simple", "PIP_TRUSTED_HOST": "mirror.invalid",
           "HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path)}
    argv = pip_argv(tmp_path / "bin/python", deps("numpy"), installer="uv", env=env)
    assert argv[:5] == [find_uv_bin(), "pip", "install", "--python", str(tmp_path / "bin/python")]
    assert argv[5:] == ["--index-url", "http://mirror.invalid/simple", "--trusted-host", "mirror.invalid", "numpy"]
    argv = pip_argv(tmp_path / "bin/python", deps("--extra-index-url http://b.invalid/simple", "x"),
                    env={"HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path)})
    assert argv[-5:] == ["--index-strategy", "unsafe-best-match", "--extra-index-url", "http://b.invalid/simple", "x"]


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_mirror_and_extra_index_are_used_as_pip_uses_them(
    installer: str, venv_prefix: Path, tmp_path: Path, serve_channel: Callable[[Path], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mirror (PIP_INDEX_URL) has alpha 1.0 and beta; the section's extra index has alpha 2.0:
    pip takes the best version over every index, and so must uv."""
    mirror = serve_channel(build_pip_index(tmp_path / "mirror", {"alpha": [("1.0", "py3-none-any")],
                                                                  "beta": [("3.0", "py3-none-any")]}).parent)
    extra = serve_channel(build_pip_index(tmp_path / "extra", {"alpha": [("2.0", "py3-none-any")]}).parent)
    monkeypatch.setenv("PIP_INDEX_URL", mirror + "/simple")
    out = install_pip(venv_prefix, deps(f"--extra-index-url {extra}/simple", "alpha", "beta"), installer=installer)
    assert out.tool == installer
    r = subprocess.run([str(venv_prefix / "bin/python"), "-c", "import alpha, beta; print(alpha.__version__, beta.__version__)"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.stdout.split() == ["2.0", "3.0"], r.stderr
