"""create runs the smoke test inside the staging prefix, before the swap: a failing smoke test never
replaces a working environment. The environment's `python` is a real conda package (built here) whose
bin/python runs this test interpreter, which has real numpy, onnx and onnxruntime."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url, trt_stack
from envelope import parsed

from envkit.cli import main

PY = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"


WRONG = "3.9.99"  # a python package whose bin/python is not the version it claims: the python layer fails


@pytest.fixture(scope="module")
def channel_with_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pythons = [PackageSpec(
        "python", version, build="h0_envkit_test",
        files={"bin/python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'},
        executables=("bin/python",),
    ) for version in (PY, WRONG)]
    return build_channel(tmp_path_factory.mktemp("py-channel") / "channel", [*trt_stack(), *pythons])


def create(env: Path, *extra: str) -> tuple[int, dict]:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["create", "--file", str(env), "--name", "smoky", "--json", *extra])
    return code, parsed(buf.getvalue(), "create")


def test_failing_smoke_never_replaces_the_working_env(channel_with_python: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(channel_with_python)], [f"python={WRONG}", "tensorrt"])
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "smoky"

    # first build: its python layer fails inside the staging prefix (the GPU layers, with no GPU here,
    # are not the environment's failures)
    code, err = create(env)
    assert code == 6, err
    assert err["code"] == "SmokeError" and "python: " in err["text"] and "driver: " not in err["text"]
    assert not prefix.exists(), "a build whose smoke test failed must not appear as an environment"
    assert not [p for p in prefix.parent.iterdir() if p.name.startswith(".smoky") and not p.name.endswith(".envkit.lock")], "staging left behind"

    # a working environment (smoke skipped), then a forced rebuild whose smoke test fails: the old one stays
    code, ok = create(env, "--no-smoke")
    assert code == 0, ok
    record = (prefix / "conda-meta" / "envkit.json").read_text()
    assert (prefix / "bin" / "python").exists()
    code, err = create(env, "--force")
    assert code == 6, err
    assert (prefix / "conda-meta" / "envkit.json").read_text() == record
    assert not [p for p in prefix.parent.iterdir() if p.name.startswith(".smoky") and not p.name.endswith(".envkit.lock")]

    # the same environment, smoke-tested on its own: the payload ran with the environment's python
    code = main(["smoke", "--prefix", str(prefix), "--json"])
    assert code == 6


def test_no_gpu_here_the_gpu_layers_are_not_the_environments_failures(channel_with_python: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: create said "the smoke test will skip the GPU layers" on a machine without a GPU, then
    failed on exactly those layers. Python is proven here; the GPU layers are named, with the command that
    proves them on the machine the environment was built for."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.4")
    env = env_yaml(tmp_path / "environment.yml", [file_url(channel_with_python)], [f"python={PY}", "tensorrt"])
    code, data = create(env)
    assert code == 0, data
    assert data["smoke"]["passed"] is False and "driver" in data["smoke"]["failed"]
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["create", "--file", str(env), "--name", "smoky", "--force", "--json"]) == 0
    from envelope import notes_of

    (note,) = [n for n in notes_of(buf.getvalue(), "create") if n.startswith("smoke: ")]
    assert "this machine has no GPU, so driver" in note and note.endswith("envkit smoke smoky")
