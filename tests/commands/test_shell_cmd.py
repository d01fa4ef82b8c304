"""``envkit shell`` (a real interactive subshell on a pty) and ``envkit shell-hook`` (eval'd in real shells),
against environments built from the local test channel served over HTTP."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from envkit_cli import envkit


def _controlling_tty() -> None:
    """In the child: a new session whose controlling terminal is the pty (stdin), as a terminal emulator does."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _pty_session(argv: list[str], lines: list[bytes], env: dict[str, str], marker: bytes) -> tuple[int, str]:
    """Start ``argv`` on a pty, type ``lines``, read until it exits; (exit code, everything it printed)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env,
                            preexec_fn=_controlling_tty)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + 60
    for line in lines:
        os.write(leader, line)
    while marker not in out or proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, out.decode(errors="replace")


# fish is left out here: on this pty it took ~50 s to exit (measured, cause not pinned down); its activation is the
# one `shell-hook --shell fish` prints, tested below
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_is_an_activated_subshell(shell: str, make_env: Callable[..., Path], serve_channel: Callable[[Path], str],
                                        trt_channel: Path, tmp_path: Path) -> None:
    exe = shutil.which(shell)
    if not exe:
        pytest.skip(f"{shell} not installed")
    prefix = make_env(name="demo", channel_url=serve_channel(trt_channel))
    env = {**os.environ, "SHELL": exe, "TERM": "dumb"}
    code, out = _pty_session(
        [sys.executable, "-m", "envkit", "shell", "demo"],
        [b"trt-hello; echo DONE-$CONDA_DEFAULT_ENV\n", b"exit 3\n"], env, b"DONE-demo",
    )
    assert f"trt-hello TRT_HOME={prefix}/share/trt prefix={prefix}" in out, out
    assert "DONE-demo" in out
    assert code == 3  # the subshell's exit status is envkit's


def test_shell_errors(make_env: Callable[..., Path], tmp_path: Path) -> None:
    r = envkit("shell", "nope")
    assert r.returncode == 2 and "no environment named 'nope'" in r.stderr
    r = envkit("shell", "--prefix", str(tmp_path))
    assert r.returncode == 2 and "is not a conda environment" in r.stderr
    r = envkit("shell-hook", "--prefix", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such directory" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_hook_eval(shell: str, make_env: Callable[..., Path], serve_channel: Callable[[Path], str],
                         trt_channel: Path, tmp_path: Path) -> None:
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    # create refuses prefixes a shell would expand ($, backquote, ...); quote and space are allowed
    prefix = make_env(name=None, prefix=tmp_path / "it's an env", channel_url=serve_channel(trt_channel))
    # fish sources activate.d/*.fish; the test package ships a .sh one, so give fish its own
    (prefix / "etc/conda/activate.d/trt.fish").write_text('set -gx TRT_HOME "$CONDA_PREFIX/share/trt"\n')
    hook = envkit("shell-hook", "--prefix", str(prefix), "--shell", shell)
    assert hook.returncode == 0, hook.stderr
    script = hook.stdout + "trt-hello\n"
    argv = {"bash": ["bash", "-c", script], "zsh": ["zsh", "-f", "-c", script],
            "fish": ["fish", "--no-config", "-c", script]}[shell]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"trt-hello TRT_HOME={prefix}/share/trt prefix={prefix}"
    assert not (tmp_path / "PWNED").exists()


def test_shell_hook_default_shell_and_bash_eval(make_env: Callable[..., Path]) -> None:
    prefix = make_env(name="demo")
    r = subprocess.run(["bash", "-c", f'eval "$({sys.executable} -m envkit shell-hook demo)"; echo "$CONDA_PREFIX"'],
                       capture_output=True, text=True, env={**os.environ, "SHELL": "/bin/bash"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(prefix)
    r = envkit("shell-hook", "demo", env={**os.environ, "SHELL": "/usr/bin/fish"})
    assert r.stdout.startswith("set -gx PATH ")


@pytest.mark.parametrize("where", ["named", "prefix"])
def test_create_ends_with_an_activation_line_that_works(where: str, trt_channel: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`create` ends with the line to activate the environment, for named and --prefix ones; eval'd as printed."""
    from channel_factory import env_yaml, file_url

    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(trt_channel)], ["trt-tools"], name="demo")
    target = ["--name", "demo"] if where == "named" else ["--prefix", str(tmp_path / "my env")]
    r = envkit("create", "--file", str(env), *target, "--no-smoke")
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("activate it: "))[len("activate it: "):]
    assert line.startswith('eval "$(envkit shell-hook ')
    bindir = tmp_path / "bin"  # `envkit` on PATH, as after `pip install envkit`
    bindir.mkdir()
    (bindir / "envkit").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envkit "$@"\n')
    (bindir / "envkit").chmod(0o755)
    r = subprocess.run(["bash", "-c", f"{line}\ntrt-hello"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("trt-hello TRT_HOME=")
