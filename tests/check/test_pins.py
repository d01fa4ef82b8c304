"""pip pins as `envkit check` reads them against index file names."""

from __future__ import annotations

import pytest
from packaging.version import Version

from envkit.check.pins import file_version, pin_admits


@pytest.mark.parametrize(
    ("spec", "filename", "ok"),
    [
        ("==12.4.*", "nvidia_cuda_runtime_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", True),
        ("==12.4.*", "nvidia_cuda_runtime_cu12-12.5.39-py3-none-manylinux2014_x86_64.whl", False),
        ("==10.0.1", "tensorrt_cu12-10.0.1.tar.gz", True),
        ("==10.0.1", "tensorrt_cu12-10.0.1.6.tar.gz", False),
        ("==2.4.0+cu124", "torch-2.4.0-cp312-cp312-manylinux1_x86_64.whl", True),
        ("==8.6.1.post1", "tensorrt-8.6.1.post1.tar.gz", True),
    ],
)
def test_pin_admits(spec: str, filename: str, ok: bool) -> None:
    name = filename.split("-")[0].replace("_", "-")
    assert pin_admits(spec, file_version(filename, name)) is ok


def test_no_version_never_matches() -> None:
    assert pin_admits("==1.0", None) is False
    assert pin_admits("==1.0", Version("1.0")) is True
