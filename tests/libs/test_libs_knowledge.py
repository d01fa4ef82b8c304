"""The soname -> package knowledge and the machine's loader facts."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest
import yaml

from envkit.libs.families import family_of, providers
from envkit.libs.system import parse_ldconfig, parse_ldso_help, read_system

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("soname", "cuda", "expected"), [
    ("libcudart.so.12", None, ["conda-forge cuda-cudart", "pypi nvidia-cuda-runtime-cu12"]),
    ("libcudart.so.13", None, ["conda-forge cuda-cudart", "pypi nvidia-cuda-runtime"]),
    ("libcudart.so.11.0", None, ["conda-forge cudatoolkit", "pypi nvidia-cuda-runtime-cu11"]),
    ("libcublasLt.so.13", None, ["conda-forge libcublas", "pypi nvidia-cublas"]),
    ("libcufft.so.12", 13, ["conda-forge libcufft", "pypi nvidia-cufft"]),
    ("libcufft.so.11", 12, ["conda-forge libcufft", "pypi nvidia-cufft-cu12"]),
    ("libcudnn_ops.so.9", 12, ["conda-forge cudnn=9", "pypi nvidia-cudnn-cu12==9.*"]),
    ("libcudnn.so.9", 13, ["conda-forge cudnn=9", "pypi nvidia-cudnn-cu13==9.*"]),
    ("libnccl.so.2", 13, ["conda-forge nccl", "pypi nvidia-nccl-cu13"]),
    ("libnvinfer_plugin.so.10", 12, ["conda-forge libnvinfer-plugin=10",
                                     "nvidia-pypi tensorrt-cu12-libs (https://pypi.nvidia.com)"]),
    ("libcuda.so.1", 12, ["driver the NVIDIA driver (installed on the host, not in the environment)"]),
    ("libz.so.1", 12, []),
])
def test_providers(soname: str, cuda: int | None, expected: list[str]) -> None:
    assert [p.text() for p in providers(soname, cuda)] == expected


def test_providers_agree_with_the_matrix() -> None:
    """The runtime's and cuDNN's package names are the matrix's (cuda_majors[].pip_packages, cudnn[].pip)."""
    m = yaml.safe_load((ROOT / "matrix.yaml").read_text())
    for rec in m["cuda_majors"]:
        major = int(rec["major"])
        if major < 11:  # CUDA 9/10: conda's cudatoolkit only, outside what envkit libs names
            continue
        pip = rec["pip_packages"][0].split("==")[0]
        soname = "libcudart.so.11.0" if major == 11 else f"libcudart.so.{major}"
        assert f"pypi {pip}" in [p.text() for p in providers(soname)]
        conda = [c.split("=")[0] for c in rec["conda_packages"] if not c.startswith("cuda-version")]
        assert [p.package for p in providers(soname) if p.ecosystem == "conda-forge"] == conda
    for rec in m["cudnn"]:
        for cu, name in (rec.get("pip") or {}).items():
            assert any(p.package.startswith(name) for p in providers("libcudnn.so.9", int(cu[2:])))


def test_families() -> None:
    assert family_of("/x/libcudnn_engines_precompiled.so.9.1.0") == "cudnn"
    assert family_of("libnvJitLink.so.12") == "nvjitlink" and family_of("libnvinfer_lean.so.10") == "tensorrt"
    assert family_of("libc.so.6") is None


def test_this_machines_loader_facts() -> None:
    r = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip("no ldconfig")
    cache = parse_ldconfig(r.stdout, platform.machine())
    assert cache["libc.so.6"].endswith("/libc.so.6")
    facts = read_system()
    assert facts.cache == cache
    assert facts.defaults and all(d.startswith("/") for d in facts.defaults)
    help_text = subprocess.run(["/lib64/ld-linux-x86-64.so.2", "--help"], capture_output=True, text=True,
                               check=False).stdout if platform.machine() == "x86_64" else ""
    if "(system search path)" in help_text:
        assert facts.defaults == parse_ldso_help(help_text)


def test_dpkg_owner_is_the_package_listing_the_file_not_the_dev_link(tmp_path: Path) -> None:
    """On the GPU machine libcudnn9-dev-cuda-13 lists libcudnn.so -> libcudnn.so.9.14.0 and libcudnn9-cuda-13 lists
    the file: the file belongs to the runtime package whatever the order of the lists."""
    from envkit.libs.system import DpkgIndex

    lib = tmp_path / "usr/lib/x86_64-linux-gnu"
    lib.mkdir(parents=True)
    real = lib / "libcudnn.so.9.14.0"
    real.write_bytes(b"\x7fELF")
    (lib / "libcudnn.so.9").symlink_to(real.name)
    (lib / "libcudnn.so").symlink_to("libcudnn.so.9")
    info = tmp_path / "dpkg/info"
    info.mkdir(parents=True)
    (info / "libcudnn9-cuda-13.list").write_text(f"{lib}\n{real}\n{lib / 'libcudnn.so.9'}\n")
    (info / "libcudnn9-dev-cuda-13.list").write_text(f"{lib / 'libcudnn.so'}\n")
    (tmp_path / "dpkg/status").write_text("Package: libcudnn9-cuda-13\nVersion: 9.14.0.64-1\n\n"
                                          "Package: libcudnn9-dev-cuda-13\nVersion: 9.14.0.64-1\n")
    index = DpkgIndex(str(tmp_path / "dpkg"))
    assert index.owner(str(lib / "libcudnn.so.9")) == ("libcudnn9-cuda-13", "9.14.0.64-1")
    assert index.owner(str(real)) == ("libcudnn9-cuda-13", "9.14.0.64-1")
    assert index.owner(str(lib / "libcudnn.so")) == ("libcudnn9-dev-cuda-13", "9.14.0.64-1")
