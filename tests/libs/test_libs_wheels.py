"""envkit libs on venvs holding real NVIDIA wheels from PyPI: the CUDA 12 runtime, nvJitLink and NVRTC
wheels (site-packages/nvidia/<component>/lib), the CUDA 13 runtime wheel (site-packages/nvidia/cu13/lib),
and the real tensorrt-cu12-bindings wheel with envkit's tensorrt_libs shim. Static prediction = --live."""

from __future__ import annotations

from pathlib import Path

import pytest
from libs_factory import pip_install, site_packages
from pypi_wheels import pypi_wheel
from so_factory import build_so

from envkit.create.trt_fixup import write_shim
from envkit.libs.report import libs_report

pytestmark = [pytest.mark.slow, pytest.mark.network]

WHEELS = [("nvidia-cuda-runtime-cu12", "12.9.79"), ("nvidia-nvjitlink-cu12", "12.9.86"),
          ("nvidia-cuda-nvrtc-cu12", "12.9.86"), ("nvidia-cuda-runtime", "13.0.96")]


def test_pip_cuda_wheels(venv: Path, clean_environ: dict[str, str]) -> None:
    pip_install(venv / "bin/python", *(pypi_wheel(n, v) for n, v in WHEELS))
    site = site_packages(venv / "bin/python")
    report = libs_report(venv, live=True, environ=clean_environ)
    assert report.live is not None and report.live.differences == [], [d.to_json() for d in report.live.differences]
    assert report.live.agree == report.live.probes > 0
    env_copies = {c.soname: c for c in report.env.copies if c.where == "environment"}
    owners = {s: c.owner.text() if c.owner else None for s, c in env_copies.items()}
    assert owners["libcudart.so.12"] == "pip nvidia-cuda-runtime-cu12 12.9.79"
    assert owners["libcudart.so.13"] == "pip nvidia-cuda-runtime 13.0.96"
    assert owners["libnvJitLink.so.12"] == "pip nvidia-nvjitlink-cu12 12.9.86"
    assert owners["libnvrtc.so.12"] == "pip nvidia-cuda-nvrtc-cu12 12.9.86"
    assert env_copies["libcudart.so.12"].path == str(site / "nvidia/cuda_runtime/lib/libcudart.so.12")
    assert env_copies["libcudart.so.13"].path == str(site / "nvidia/cu13/lib/libcudart.so.13")
    assert env_copies["libcudart.so.12"].version == "12.9.79"  # the file says only 12: the package's version
    two = [f for f in report.findings if f.code == "two-majors"]
    assert len(two) == 1 and two[0].message.startswith("libcudart: majors 12 (pip nvidia-cuda-runtime-cu12 12.9.79")
    rows = {r.soname: r for r in report.rows}
    # the wheels' directories are on no search path: dlopen by soname finds them only where the system has it
    system13 = report.env.facts.cache.get("libcudart.so.13")
    assert rows["libcudart.so.12"].path == report.env.facts.cache.get("libcudart.so.12")
    assert rows["libcudart.so.13"].path == system13
    # a bare dlopen by name that finds the system's copy (here /usr/local/cuda-13.0 is in the ld.so cache) is
    # shown in the table, not reported: the wheel's directory is on no search path by design
    assert not [f for f in report.findings if f.code == "shadowed"]
    # loaded by path, NVRTC finds its builtins next to it (RUNPATH $ORIGIN), nothing is missing
    assert not [f for f in report.findings if f.code in ("missing-needed", "load-error")]


def test_tensorrt_bindings_with_envkit_shim(venv: Path, clean_environ: dict[str, str]) -> None:
    """The real bindings' tensorrt.so needs libnvonnxparser/libnvinfer_plugin/libnvinfer.so.10; the shim preloads
    $PREFIX/lib's libnvinfer.so.10 (compiled here) and stops at the missing plugin; loading tensorrt.so then fails
    on its first NEEDED, libnvonnxparser.so.10, named with the packages that provide it."""
    pip_install(venv / "bin/python", pypi_wheel("tensorrt-cu12-bindings", "10.16.1.11"))
    site = site_packages(venv / "bin/python")
    write_shim(site, "cu12", "10.16.1.11")
    nvinfer = build_so(venv / "lib/libnvinfer.so.10", "libnvinfer.so.10")
    report = libs_report(venv, live=True, environ=clean_environ)
    assert report.live is not None and report.live.differences == [], [d.to_json() for d in report.live.differences]
    assert report.env.preload == ["tensorrt_libs"]
    probe = next(p for p in report.env.probes if p.load == str(site / "tensorrt_bindings/tensorrt.so"))
    assert [o.path for o in probe.mapped()] == [str(nvinfer)]  # the shim's preload, by path
    assert probe.result is not None and probe.result.missing == "libnvonnxparser.so.10"
    observed = next(o for o in report.live.observed if o["id"] == probe.id)
    assert observed["error"].startswith("libnvonnxparser.so.10: cannot open shared object file")
    assert any("libnvinfer_plugin.so.10 not found in" in e for e in observed["preload_errors"])
    missing = [f for f in report.findings if f.code == "missing-needed"]
    assert [f.message for f in missing] == [f"{site}/tensorrt_bindings/tensorrt.so needs libnvonnxparser.so.10, which "
                                            "no directory on its search path provides"]
    assert missing[0].hint == "install conda-forge libnvonnxparser=10"
    rows = {r.soname: r for r in report.rows}
    assert rows["libnvinfer.so.10"].path == str(nvinfer) and rows["libnvinfer.so.10"].via == "already loaded"
