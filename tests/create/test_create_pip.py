"""The pip step with the environment's own Python.

conda-forge's python is not reachable here, so the "environment" is a real venv made with
``python -m venv`` (its bin/python is the environment's interpreter), and real PyPI packages are
installed into it. End to end, a fixture conda package ``venv-python`` turns the staging prefix into a
venv in its post-link script, so the whole create flow (staging, pip, shebang fix-up, swap) runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url

from envkit.context import Settings
from envkit.create.model import CreateRequest
from envkit.create.pipeline import create_env
from envkit.create.pipstep import failing_package, install_pip, pip_argv
from envkit.create.trt_fixup import apply_trt_fixup, bindings_pin, real_tensorrt_libs, write_shim
from envkit.envfile import PipDep, parse_pip_line
from envkit.errors import InstallError

network = pytest.mark.network


def dep(raw: str) -> PipDep:
    if raw.startswith("-"):
        return PipDep(raw=raw, name=None, specifier="", local=None, option=raw, line=None)
    return PipDep(raw=raw, name=raw.split("=")[0].split("<")[0].split(">")[0], specifier="", local=None, option=None,
                  line=None)


def test_pip_argv_exact(tmp_path: Path) -> None:
    py = tmp_path / "bin/python"
    argv = pip_argv(py, [dep("numpy==1.26.4"), dep("--extra-index-url https://pypi.nvidia.com")], installer="pip")
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


@pytest.fixture(params=["pip", "uv"])
def installer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ENVKIT_PIP", str(request.param))
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
    record = json.loads((prefix / "conda-meta" / "envkit.json").read_text())
    assert record["pip"]["installer"] == "pip" and "six" in record["pip"]["argv"]  # the record says who installed
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


# ---------------------------------------------------------------- TensorRT bindings fix-up (conda-forge route)

TRT_V = "11.3.0.99"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([f"tensorrt-cu13-bindings=={TRT_V}"], ("cu13", TRT_V)),
        ([f"tensorrt_cu12_bindings=={TRT_V}", "numpy"], ("cu12", TRT_V)),
        ([f"tensorrt-cu13-bindings=={TRT_V}", f"tensorrt-cu13=={TRT_V}"], None),  # the frontend is there
        (["tensorrt-cu13-bindings>=11"], None),  # no version to pin the frontend and the libraries to
        (["numpy"], None),
    ],
)
def test_trt_fixup_applies_to_bare_bindings_only(lines: list[str], expected: tuple[str, str] | None) -> None:
    assert bindings_pin([parse_pip_line(x) for x in lines]) == expected


def test_trt_fixup_leaves_a_real_tensorrt_libs_alone(tmp_path: Path) -> None:
    assert real_tensorrt_libs(tmp_path) is None
    write_shim(tmp_path, "cu13", TRT_V)
    assert real_tensorrt_libs(tmp_path) is None  # envkit's own shim
    (tmp_path / "tensorrt_libs/__init__.py").write_text("# NVIDIA's\n")
    assert real_tensorrt_libs(tmp_path) == str(tmp_path / "tensorrt_libs")


_IMPORT_TENSORRT = """
import json, sys, traceback
sys.path.insert(0, sys.argv[1])  # envkit/smoke: the payload runs in the environment's python
seen = []
sys.addaudithook(lambda ev, a: seen.append(a[0]) if ev == "import" and "tensorrt" in a[0] else None)
try:
    import tensorrt
except ImportError as exc:
    out = {"error": str(exc), "type": type(exc).__name__, "imports": seen,
           "frames": [f.filename for f in traceback.extract_tb(exc.__traceback__)]}
else:
    out = {"imported": tensorrt.__file__}
import payload, payload_trt
layer = payload.Layer("tensorrt")
payload_trt.import_tensorrt(layer)
out["layer"] = layer.data
print(json.dumps(out))
"""


@network
@pytest.mark.slow
def test_trt_bindings_fixup_real_wheel(venv_prefix: Path, installer: str) -> None:
    """The real tensorrt-cu13-bindings wheel, no libnvinfer here: `import tensorrt` now goes frontend ->
    tensorrt_bindings -> its `import tensorrt_libs` hook (envkit's shim), and fails with the shim's message."""
    deps = [parse_pip_line(f"tensorrt-cu13-bindings=={TRT_V}")]
    out = install_pip(venv_prefix, deps, timeout=600)  # the create pipeline's pip step, then its fix-up step
    notes = apply_trt_fixup(venv_prefix, out.python, deps, timeout=600)
    assert out.tool == installer
    assert len(notes) == 2 and all(n.startswith("TensorRT bindings fix-up: ") for n in notes)
    assert "wrote tensorrt_libs" in notes[0] and f"installed the frontend tensorrt-cu13=={TRT_V}" in notes[1]
    py = str(venv_prefix / "bin/python")
    smoke_dir = str(Path(__file__).resolve().parents[2] / "envkit" / "smoke" / "payload")
    r = subprocess.run([py, "-c", _IMPORT_TENSORRT, smoke_dir], capture_output=True, text=True, cwd=venv_prefix)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    lib = venv_prefix / "lib"
    expected = f"libnvinfer.so.11 not found in {lib}: install conda-forge libnvinfer={TRT_V}"
    assert got["type"] == "ImportError" and got["error"].startswith(expected), got
    # the import chain: the frontend, the bindings, the bindings' own preload hook, then its extension module
    assert got["imports"][:4] == ["tensorrt", "tensorrt_bindings", "tensorrt_libs", "tensorrt_bindings.tensorrt"]
    site = Path(sysconfig_purelib(py))
    assert got["frames"][1:3] == [str(site / "tensorrt/__init__.py"), str(site / "tensorrt_bindings/__init__.py")]
    assert got["frames"][-1] == str(site / "tensorrt_libs/__init__.py")
    # the smoke layer names the file and the fix
    layer = got["layer"]
    assert layer["status"] == "fail" and layer["reason"] == "tensorrt bindings cannot load libnvinfer.so.11"
    assert layer["fix"] == f"install conda-forge libnvinfer={TRT_V}"
    # the shim's dist-info stands for the frontend's tensorrt_cu13_libs requirement
    assert "tensorrt-cu13-bindings" not in (r2 := subprocess.run([py, "-m", "pip", "check"], capture_output=True,
                                                                 text=True)).stdout, r2.stdout
    assert r2.returncode == 0, r2.stdout
    # without the shim (its RECORD lets pip remove it), the same import fails with the loader's bare message,
    # and the smoke layer still names the file and the conda package
    subprocess.run([py, "-m", "pip", "uninstall", "-y", "tensorrt_cu13_libs"], capture_output=True, check=True)
    r3 = subprocess.run([py, "-c", _IMPORT_TENSORRT, smoke_dir], capture_output=True, text=True, cwd=venv_prefix)
    bare = json.loads(r3.stdout)
    assert bare["error"] == "libnvonnxparser.so.11: cannot open shared object file: No such file or directory"
    assert bare["layer"]["reason"] == "tensorrt bindings cannot load libnvonnxparser.so.11"
    assert "conda-forge libnvonnxparser" in bare["layer"]["fix"]


def sysconfig_purelib(py: str) -> str:
    return subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _system_library(soname: str) -> Path | None:
    """Where this machine's dynamic loader takes ``soname`` from (ldconfig's cache), or None."""
    r = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.strip().startswith(soname + " ("):
            path = Path(line.rsplit("=>", 1)[-1].strip())
            if path.is_file():
                return path
    return None


@pytest.mark.slow
def test_trt_shim_preloads_from_the_prefix(venv_prefix: Path) -> None:
    """The shim's "found" path, with a real system library (zlib) in the shim's library list in place of
    TensorRT's (there is no libnvinfer here): it is loaded from sys.prefix/lib, by path, RTLD_GLOBAL."""
    libz = _system_library("libz.so.1")
    if libz is None:
        pytest.skip("no libz.so.1 in ldconfig's cache")
    (venv_prefix / "lib" / "libz.so.1").symlink_to(libz)
    py = str(venv_prefix / "bin/python")
    write_shim(Path(sysconfig_purelib(py)), "cu13", TRT_V, libraries=[("libz.so.1", "zlib")])
    code = ("import ctypes\n"
            "def visible():\n"
            "    try:\n        ctypes.CDLL(None).zlibVersion\n        return 1\n"
            "    except AttributeError:\n        return 0\n"
            "before = visible()\n"
            "import tensorrt_libs\n"
            "print(tensorrt_libs.loaded[0]._name, before, visible())")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    name, before, after = r.stdout.split()
    assert name == str(venv_prefix / "lib" / "libz.so.1")
    assert after == "1"  # RTLD_GLOBAL: its symbols are visible to what is loaded next (tensorrt.so)
    if before == "1":
        pytest.skip("this python already exports zlib's symbols: RTLD_GLOBAL not shown (the load by path is)")
