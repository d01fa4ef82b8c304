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


@pytest.fixture(scope="module")
def channel_with_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = PackageSpec(
        "python", PY, build="h0_envkit_test",
        files={"bin/python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'},
        executables=("bin/python",),
    )
    return build_channel(tmp_path_factory.mktemp("py-channel") / "channel", [*trt_stack(), python])


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
    env = env_yaml(tmp_path / "environment.yml", [file_url(channel_with_python)], [f"python={PY}", "tensorrt"])
    prefix = Path(os.environ["CONDA_ENVS_PATH"]) / "smoky"

    # first build: no GPU here, so the needed driver/CUDA/TensorRT layers fail inside the staging prefix
    code, err = create(env)
    assert code == 6, err
    assert err["code"] == "SmokeError" and "smoke" in err["text"] and "driver: " in err["text"]
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
