"""envkit libs on a real conda environment from the local test channel, with shared objects compiled here.

The channel's packages ship tiny .so files with chosen SONAMEs, NEEDED, RUNPATHs and symbol versions;
a local wheel adds a second cuDNN major under site-packages/nvidia/cudnn/lib (as nvidia-cudnn-cu12
lays it out); LD_LIBRARY_PATH points at decoys. Every scenario is checked statically AND with --live:
the static prediction must equal what the real loader did.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from channel_factory import PackageSpec, build_channel, env_yaml, file_url
from libs_factory import local_wheel, pip_install
from so_factory import build_so

from envkit.context import Settings
from envkit.create.pipeline import CreateRequest, create_env
from envkit.libs.report import LibsReport, libs_report

pytestmark = pytest.mark.slow


def _codes(report: LibsReport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f.message)
    return out


def _agree(report: LibsReport) -> None:
    assert report.live is not None
    assert report.live.differences == [], [d.to_json() for d in report.live.differences]
    assert report.live.agree == report.live.probes == len(report.env.probes) > 0


@pytest.fixture
def conda_env(tmp_path: Path, envkit_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cudnn 8 and cuda-cudart 12 (CUDART_1.0 + CUDART_1.1) in $PREFIX/lib, gpu-consumer needing
    libcudart.so.12 (version CUDART_1.1) and libcudnn.so.9 with RUNPATH $ORIGIN, and python as a venv."""
    monkeypatch.setenv("ENVKIT_PIP", "pip")
    so = tmp_path / "so"
    cudart = build_so(so / "cudart/libcudart.so.12", "libcudart.so.12", versions=["CUDART_1.0", "CUDART_1.1"])
    cudnn8 = build_so(so / "cudnn8/libcudnn.so.8", "libcudnn.so.8")
    cudnn9 = build_so(so / "cudnn9/libcudnn.so.9", "libcudnn.so.9")
    consumer = build_so(so / "consumer/libgpuconsumer.so", "libgpuconsumer.so", needed=[cudart, cudnn9],
                        runpath="$ORIGIN", uses=["libcudart_v1"])
    post = f'#!/bin/sh\n"{sys.executable}" -m venv "$PREFIX" || exit 1\n'
    ch = build_channel(tmp_path / "ch", [
        PackageSpec("venv-python", "3.11", post_link=post),
        PackageSpec("cuda-cudart", "12.4.127", files={"lib/libcudart.so.12": cudart.read_bytes()}),
        PackageSpec("cudnn", "8.9.7.29", files={"lib/libcudnn.so.8": cudnn8.read_bytes()}),
        PackageSpec("gpu-consumer", "1.0", files={"lib/libgpuconsumer.so": consumer.read_bytes()}),
    ])
    env_file = env_yaml(tmp_path / "environment.yml", [file_url(ch)],
                        ["venv-python", "cuda-cudart", "cudnn", "gpu-consumer"], name="libs")
    res = create_env(CreateRequest(file=env_file, name="libs", no_smoke=True), envkit_settings)
    prefix = Path(res.prefix)
    wheel = local_wheel(tmp_path / "wheels", "envkit-test-cudnn9", "9.1.0",
                        {"nvidia/cudnn/lib/libcudnn.so.9": cudnn9.read_bytes()})
    pip_install(prefix / "bin/python", wheel)
    return prefix


def _set_stack(prefix: Path, **stack: str) -> None:
    path = prefix / "conda-meta" / "envkit.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["stack"] = stack
    path.write_text(json.dumps(data))


def test_conda_env_copies_owners_two_majors_missing_needed(conda_env: Path, clean_environ: dict[str, str]) -> None:
    _set_stack(conda_env, cuda="12.4", cudnn="8.9")
    report = libs_report(conda_env, live=True, environ=clean_environ)
    _agree(report)
    copies = {c.soname: c for c in report.env.copies}
    assert copies["libcudnn.so.8"].owner and copies["libcudnn.so.8"].owner.text() == "conda cudnn 8.9.7.29"
    assert copies["libcudnn.so.9"].owner and copies["libcudnn.so.9"].owner.text() == "pip envkit-test-cudnn9 9.1.0"
    assert copies["libcudnn.so.9"].path.endswith("site-packages/nvidia/cudnn/lib/libcudnn.so.9")
    assert copies["libcudart.so.12"].owner and copies["libcudart.so.12"].owner.package == "cuda-cudart"
    codes = _codes(report)
    assert len(codes["two-majors"]) == 1 and codes["two-majors"][0].startswith("libcudnn: majors 8 (conda cudnn")
    missing = [f for f in report.findings if f.code == "missing-needed"]
    assert len(missing) == 1 and missing[0].severity == "error"
    assert missing[0].message.endswith("libgpuconsumer.so needs libcudnn.so.9, which no directory on its search "
                                       "path provides")
    assert missing[0].hint == "install conda-forge cudnn=9 or pypi nvidia-cudnn-cu12==9.*"
    assert report.exit_code == 1
    # a venv's python has no RPATH into $PREFIX/lib: dlopen by soname does not find the conda copies
    rows = {r.soname: r for r in report.rows}
    assert rows["libcudart.so.12"].path is None and rows["libcudnn.so.8"].path is None


def test_ld_library_path_decoys_shadow_and_are_too_old(conda_env: Path, clean_environ: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A decoy libcudart.so.12 without CUDART_1.1 and a libcudnn.so.9 on LD_LIBRARY_PATH: dlopen takes the decoy
    (shadowing), and the consumer, whose RUNPATH comes after LD_LIBRARY_PATH, fails on the symbol version."""
    decoy = tmp_path / "decoy"
    build_so(decoy / "libcudart.so.12", "libcudart.so.12", versions=["CUDART_1.0"])
    build_so(decoy / "libcudnn.so.9", "libcudnn.so.9")
    _set_stack(conda_env, cuda="13.0", cudnn="9.1")
    report = libs_report(conda_env, live=True, environ={**clean_environ, "LD_LIBRARY_PATH": str(decoy)})
    _agree(report)
    rows = {r.soname: r for r in report.rows}
    assert rows["libcudart.so.12"].path == str(decoy / "libcudart.so.12")
    assert rows["libcudart.so.12"].via == "LD_LIBRARY_PATH"
    codes = _codes(report)
    assert any(m.startswith(f"libcudart.so.12 is loaded from {decoy}/libcudart.so.12 (LD_LIBRARY_PATH), not the "
                            f"environment's {conda_env}/lib/libcudart.so.12") for m in codes["shadowed"])
    assert codes["version-too-old"] == [f"{decoy}/libcudart.so.12: version `CUDART_1.1' not found (required by "
                                        f"{conda_env}/lib/libgpuconsumer.so)"]
    assert any("libcudart.so.12" in m and "pins cuda 13.0" in m for m in codes["stack-mismatch"])
    assert "missing-needed" not in codes  # the decoy cudnn 9 satisfies it


def test_rpath_comes_before_ld_library_path(tmp_path: Path, venv: Path, clean_environ: dict[str, str]) -> None:
    """DT_RPATH (no RUNPATH) is searched before LD_LIBRARY_PATH; DT_RUNPATH after it."""
    lib = venv / "lib"
    good = build_so(lib / "libcublas.so.12", "libcublas.so.12")
    decoy = build_so(tmp_path / "decoy/libcublas.so.12", "libcublas.so.12")
    build_so(lib / "libuses_rpath.so", "libuses_rpath.so", needed=[good], rpath="$ORIGIN")
    build_so(lib / "libuses_runpath.so", "libuses_runpath.so", needed=[good], runpath="$ORIGIN")
    report = libs_report(venv, live=True, environ={**clean_environ, "LD_LIBRARY_PATH": str(decoy.parent)})
    _agree(report)
    loaded = {p.load: {o.soname: o for o in p.mapped()} for p in report.env.probes}
    assert loaded[str(lib / "libuses_rpath.so")]["libcublas.so.12"].path == str(good)
    assert loaded[str(lib / "libuses_runpath.so")]["libcublas.so.12"].path == str(decoy)
    assert loaded[str(lib / "libuses_runpath.so")]["libcublas.so.12"].via == "LD_LIBRARY_PATH"


def test_driver_library_needed_by_an_object(tmp_path: Path, venv: Path, clean_environ: dict[str, str]) -> None:
    """An object that NEEDs libcuda.so.1 (libcaffe2_nvrtc.so does, on the GPU machine): the driver library it maps
    is predicted and observed; driver libraries mapped by a library's own dlopen are set apart (runtime_loaded)."""
    driver = build_so(tmp_path / "driver/libcuda.so.1", "libcuda.so.1")
    user = build_so(venv / "lib/libnvrtc_user.so", "libnvrtc_user.so", needed=[driver], runpath=str(driver.parent))
    report = libs_report(venv, live=True, environ=clean_environ)
    _agree(report)
    probe = next(p for p in report.env.probes if p.load == str(user))
    assert [o.path for o in probe.mapped()] == [str(user), str(driver)]
    assert report.live is not None and report.live.runtime_loaded[probe.id] == [str(driver)]


def test_ld_library_path_set_by_activation(conda_env: Path, clean_environ: dict[str, str], tmp_path: Path) -> None:
    """An etc/conda/activate.d script that puts a decoy on LD_LIBRARY_PATH: envkit libs (and --live) see it."""
    pytest.importorskip("rattler")
    decoy = build_so(tmp_path / "activated/libcudart.so.12", "libcudart.so.12", versions=["CUDART_1.0", "CUDART_1.1"])
    act = conda_env / "etc" / "conda" / "activate.d"
    act.mkdir(parents=True, exist_ok=True)
    (act / "decoy.sh").write_text(f'export LD_LIBRARY_PATH="{decoy.parent}"\n')
    report = libs_report(conda_env, live=True, environ=clean_environ)
    _agree(report)
    assert report.ld_library_path == str(decoy.parent)
    rows = {r.soname: r for r in report.rows}
    assert rows["libcudart.so.12"].path == str(decoy) and rows["libcudart.so.12"].via == "LD_LIBRARY_PATH"
    assert any(f.code == "shadowed" and f.severity == "error" for f in report.findings)
