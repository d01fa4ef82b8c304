"""Target specs: platforms, cuda=, driver= (through the matrix), glibc=, host:FILE, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_fixtures import MATRIX

from envkit.check.targets import driver_max_cuda, parse_target, parse_targets
from envkit.context import Settings
from envkit.errors import InputError
from envkit.matrix.load import load_matrix

ROOT = Path(__file__).resolve().parents[2]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"


@pytest.fixture(scope="module")
def matrix():  # type: ignore[no-untyped-def]
    return load_matrix(MATRIX)


def test_plain_platforms() -> None:
    t = parse_target("linux-64")
    assert (t.platform, t.cuda, t.driver, t.any_driver) == ("linux-64", None, None, True)
    assert t.virtual_packages() == ("__unix=0=0", "__linux=5.15=0", "__glibc=2.28=0", "__archspec=1=x86_64")
    # a plain platform stands for a machine that runs the environment's pinned CUDA
    assert t.virtual_packages("12.6")[-1] == "__cuda=12.6=0"
    arm = parse_target("linux-aarch64")
    assert "__archspec=1=aarch64" in arm.virtual_packages()


def test_cuda_and_glibc() -> None:
    t = parse_target("linux-64:cuda=12.4,glibc=2.17")
    assert t.cuda == "12.4" and t.glibc == "2.17"
    assert "__cuda=12.4=0" in t.virtual_packages("13.0") and "__glibc=2.17=0" in t.virtual_packages()
    assert t.synthetic_host().effective_cuda() == "12.4"


def test_driver_maps_to_the_newest_cuda_it_fully_supports(matrix) -> None:  # type: ignore[no-untyped-def]
    assert driver_max_cuda(matrix, "535.104.05") == "12.2"
    assert driver_max_cuda(matrix, "560.28.03") == "12.6"
    assert driver_max_cuda(matrix, "580.159.04") == "13.0"
    assert driver_max_cuda(matrix, "470.57.02") is None
    t = parse_target("linux-64:driver=535.104.05", matrix=matrix)
    assert t.cuda == "12.2" and t.driver == "535.104.05" and not t.any_driver
    old = parse_target("linux-64:driver=470.57.02", matrix=matrix)
    assert old.cuda is None and old.note and "470.57.02" in old.note and "520.61.05" in old.note
    assert not any(v.startswith("__cuda") for v in old.virtual_packages("12.6"))


def test_driver_through_settings(tmp_path: Path) -> None:
    settings = Settings(project_dir=tmp_path, matrix_path=MATRIX, cache_dir=tmp_path / "c")
    assert parse_target("linux-64:driver=580.65.06", settings).cuda == "13.0"


def test_host_capture(tmp_path: Path) -> None:
    settings = Settings(project_dir=tmp_path, matrix_path=MATRIX, cache_dir=tmp_path / "c")
    t = parse_target(f"host:{H200}", settings)
    assert t.platform == "linux-64" and t.driver == "580.159.04" and t.cuda == "13.0"
    assert t.host_file == str(H200)


def test_parse_targets_dedups() -> None:
    assert [t.spec for t in parse_targets(["linux-64", "linux-64", "linux-aarch64"])] == ["linux-64", "linux-aarch64"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("linux64", "unknown platform 'linux64'; did you mean"),
        ("osx-arm64", "unknown platform"),
        ("linux-64:", "expected KEY=VALUE"),
        ("linux-64:cuda=", "expected KEY=VALUE"),
        ("linux-64:cuda=twelve", "not a version"),
        ("linux-64:cuda=12.4,cuda=12.6", "given twice"),
        ("linux-64:arch=x86", "unknown option 'arch'"),
        ("linux-64:driver=535.1,cuda=12.2", "not both"),
        ("host:", "needs a file"),
        ("host:does-not-exist.xml", "no such file"),
    ],
)
def test_bad_specs(spec: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_target(spec)
    assert words in info.value.message and "bad target" in info.value.message
    assert info.value.exit_code == 2 and info.value.hint and "linux-64:cuda=12.4" in info.value.hint
