"""Machines: target specs (platforms, cuda=, driver= through the matrix, glibc=, host:FILE), captures,
this machine, a profile's targets together; the solve target they give; the policy choosing them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from check_fixtures import MATRIX

from envkit.context import Settings
from envkit.errors import HostError, InputError
from envkit.host import system
from envkit.host.machines import Machine, driver_max_cuda
from envkit.host.platforms import PLATFORMS, platform_for, virtual_packages
from envkit.host.policy import machines_for
from envkit.matrix.load import load_matrix
from envkit.profile import Profile

ROOT = Path(__file__).resolve().parents[2]
SMI = ROOT / "tests" / "data" / "nvidia-smi"
H200 = SMI / "h200-driver-580.159.04" / "q.xml"
GT1030 = SMI / "corpus" / "telegraf-geforce-gt-1030-470.74.xml"


@pytest.fixture(scope="module")
def matrix():  # type: ignore[no-untyped-def]
    return load_matrix(MATRIX)


def settings(tmp_path: Path, **env: str) -> Settings:
    # no nvidia-smi anywhere on this PATH: "this machine" has no GPU, whatever the test machine has
    return Settings(project_dir=tmp_path, matrix_path=MATRIX, cache_dir=tmp_path / "c",
                    nvidia_smi=str(tmp_path / "no-nvidia-smi"), env={"PATH": str(tmp_path), **env})


def strings(m: Machine, cuda: str | None = None) -> list[str]:
    return m.solve_target(cuda).strings()


def test_plain_platforms() -> None:
    t = Machine.from_spec("linux-64")
    assert (t.platform, t.cuda, t.driver, t.any_driver, t.kind) == ("linux-64", None, None, True, "spec")
    assert strings(t) == ["__unix=0=0", "__linux=5.15=0", "__glibc=2.28=0", "__archspec=1=x86_64"]
    # a plain platform stands for a machine that runs the environment's pinned CUDA
    assert strings(t, "12.6")[-1] == "__cuda=12.6=0"
    assert "__archspec=1=aarch64" in strings(Machine.from_spec("linux-aarch64"))
    assert strings(Machine.from_spec("win-64:cuda=12.4")) == ["__win=0=0", "__archspec=1=x86_64", "__cuda=12.4=0"]


def test_one_platform_table() -> None:
    assert platform_for("x86_64") == platform_for("AMD64") == "linux-64"
    assert platform_for("aarch64") == platform_for("arm64") == "linux-aarch64"
    assert platform_for("ppc64le") == "linux-ppc64le" and platform_for("AMD64", "windows") == "win-64"
    for name, plat in PLATFORMS.items():
        assert plat.name == name and plat.wheel_tags and virtual_packages(name, cuda=None)


def test_cuda_and_glibc() -> None:
    t = Machine.from_spec("linux-64:cuda=12.4,glibc=2.17")
    assert t.cuda == "12.4" and t.glibc == "2.17"
    assert "__cuda=12.4=0" in strings(t, "13.0") and "__glibc=2.17=0" in strings(t)
    facts = t.host_facts()
    assert facts is not None and facts.effective_cuda() == "12.4" and facts.gpus == []
    assert t.solve_target().virtual("__cuda") == "12.4"


def test_driver_maps_to_the_newest_cuda_it_fully_supports(matrix) -> None:  # type: ignore[no-untyped-def]
    assert driver_max_cuda(matrix, "535.104.05") == "12.2"
    assert driver_max_cuda(matrix, "560.28.03") == "12.6"
    assert driver_max_cuda(matrix, "580.159.04") == "13.0"
    assert driver_max_cuda(matrix, "470.57.02") is None
    t = Machine.from_spec("linux-64:driver=535.104.05", matrix=matrix)
    assert t.cuda == "12.2" and t.driver == "535.104.05" and not t.any_driver
    old = Machine.from_spec("linux-64:driver=470.57.02", matrix=matrix)
    assert old.cuda is None and old.note and "470.57.02" in old.note and "520.61.05" in old.note
    assert not any(v.startswith("__cuda") for v in strings(old, "12.6"))


def test_driver_through_settings(tmp_path: Path) -> None:
    assert Machine.from_spec("linux-64:driver=580.65.06", settings(tmp_path)).cuda == "13.0"


def test_host_capture(tmp_path: Path) -> None:
    t = Machine.from_spec(f"host:{H200}", settings(tmp_path))
    assert t.platform == "linux-64" and t.driver == "580.159.04" and t.cuda == "13.0" and t.kind == "capture"
    assert t.host_file == str(H200) and t.label == f"host:{H200}"
    facts = t.host_facts()
    assert facts is not None and facts.gpus and facts.gpus[0].name == "NVIDIA H200"
    assert Machine.from_capture(H200).signature() == t.signature()


def test_old_capture_solves_for_its_cuda(matrix) -> None:  # type: ignore[no-untyped-def]
    m = Machine.from_capture(GT1030, matrix)
    assert (m.driver, m.cuda) == ("470.74", "11.4")
    assert m.solve_target().virtual("__cuda") == "11.4"


def test_dedup_and_signature(tmp_path: Path) -> None:
    got = machines_for(settings(tmp_path), specs=["linux-64", "linux-64", "linux-aarch64"]).machines
    assert [m.label for m in got] == ["linux-64", "linux-aarch64"]
    # different names, the same solve input
    assert Machine.from_spec("linux-64:cuda=12.2").signature() == Machine.from_spec("linux-64").signature("12.2")


def test_this_machine_without_gpu_honours_override(tmp_path: Path) -> None:
    here = Machine.from_probe(settings(tmp_path, CONDA_OVERRIDE_CUDA="12.2"))
    assert here.kind == "this" and not here.has_gpu_facts and here.host_facts() is None
    t = here.solve_target()
    assert t.virtual("__cuda") == "12.2" and t.virtual("__unix") == "0"
    assert t.virtual("__glibc") == (system.glibc_version() or "2.28")
    assert t.virtual("__linux") == os.uname().release.split("-")[0].rstrip(".")
    assert Machine.from_probe(settings(tmp_path)).solve_target().virtual("__cuda") is None


def test_targets_together(tmp_path: Path, matrix) -> None:  # type: ignore[no-untyped-def]
    m = Machine.from_targets(["linux-64:cuda=13.0", "linux-64:driver=535.104.05", f"host:{H200}"],
                             settings(tmp_path), matrix)
    assert m is not None and m.kind == "targets"
    assert (m.driver, m.cuda, m.platform) == ("535.104.05", "12.2", "linux-64")
    facts = m.host_facts()
    assert facts is not None and facts.format == "envkit-targets" and [g.name for g in facts.gpus] == ["NVIDIA H200"]
    assert m.solve_target().virtual("__cuda") == "12.2"
    assert Machine.from_targets(["linux-64", "linux-aarch64"], settings(tmp_path), matrix) is None


def test_policy_for_one_machine(tmp_path: Path, matrix) -> None:  # type: ignore[no-untyped-def]
    s = settings(tmp_path)
    prof = Profile(name="p", path=str(tmp_path / "p.yaml"), targets=("linux-64:driver=535.104.05",))
    # no GPU here: the profile's targets stand in, and the notes say so
    answer = machines_for(s, matrix, profile=prof)
    assert answer.machine.kind == "targets" and answer.machine.cuda == "12.2"
    assert any("profile's targets" in n for n in answer.notes)
    # no targets either: this machine, without GPU facts
    bare = machines_for(s, matrix, profile=Profile(name="q", path=str(tmp_path / "q.yaml")))
    assert bare.machine.kind == "this" and bare.machine.host_facts() is None
    # --host wins over everything
    assert machines_for(s, matrix, host_file=str(H200), profile=prof).machine.kind == "capture"


def test_policy_for_check(tmp_path: Path) -> None:
    s = settings(tmp_path)
    prof = Profile(name="p", path=str(tmp_path / "p.yaml"), platforms=("linux-64", "linux-aarch64"))
    assert [m.label for m in machines_for(s, profile=prof, each=True).machines] == ["linux-64", "linux-aarch64"]
    assert [m.label for m in machines_for(s, each=True).machines] == ["linux-64"]
    bad = Profile(name="b", path=str(tmp_path / "b.yaml"), targets=("linux64",))
    with pytest.raises(InputError) as info:
        machines_for(s, profile=bad, each=True)
    assert info.value.key == "targets" and info.value.file == str(tmp_path / "b.yaml")


def test_host_capture_without_driver_is_refused(tmp_path: Path) -> None:
    bad = next(p for p in sorted((SMI / "errors").glob("*")) if p.is_file())
    with pytest.raises(HostError, match="no usable GPU facts"):
        machines_for(settings(tmp_path), host_file=str(bad))


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
        Machine.from_spec(spec)
    assert words in info.value.message and "bad target" in info.value.message
    assert info.value.exit_code == 2 and info.value.hint and "linux-64:cuda=12.4" in info.value.hint


def test_fleet_directory_of_captures(tmp_path: Path, matrix) -> None:  # type: ignore[no-untyped-def]
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    for src in (H200, GT1030):
        (fleet / src.name).write_bytes(src.read_bytes())
    (fleet / ".keep").write_text("")
    s = settings(tmp_path)
    each = machines_for(s, matrix, specs=["host:fleet"]).machines  # relative to the project
    assert [(m.kind, m.driver, m.cuda) for m in each] == [("capture", "580.159.04", "13.0"), ("capture", "470.74", "11.4")]
    assert all(m.label.startswith("host:") and m.host_file for m in each)
    together = Machine.from_targets([f"host:{fleet}"], s, matrix)
    assert together is not None and (together.driver, together.cuda) == ("470.74", "11.4")
    facts = together.host_facts()
    assert facts is not None and len(facts.gpus) == 2
    with pytest.raises(InputError, match="directory names several machines"):
        Machine.from_spec(f"host:{fleet}", s, matrix)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no capture files"):
        machines_for(s, matrix, specs=[f"host:{tmp_path / 'empty'}"])


def test_conda_overrides_for_the_cli_backends(tmp_path: Path, matrix) -> None:  # type: ignore[no-untyped-def]
    assert Machine.from_probe(settings(tmp_path)).conda_overrides() == {}
    old = Machine.from_capture(GT1030, matrix)
    assert old.conda_overrides() == {"CONDA_OVERRIDE_CUDA": "11.4", "CONDA_OVERRIDE_GLIBC": "2.28"}
    assert Machine.from_spec("linux-64:driver=470.57.02", matrix=matrix).conda_overrides()["CONDA_OVERRIDE_CUDA"] == ""
    assert Machine.from_spec("win-64:cuda=12.4").conda_overrides() == {"CONDA_OVERRIDE_CUDA": "12.4"}


@pytest.mark.parametrize(("name", "platform"), [
    ("jetson/orin-nvgpu-540.4.0.txt", "linux-aarch64"),
    ("corpus/netdata-geforce-rtx-2080-windows-516.59.xml", "win-64"),
    ("corpus/gpud-8x-h100-80gb-hbm3-535.161.08-q.txt", "linux-64"),
])
def test_capture_platform_follows_the_kind_of_machine(name: str, platform: str, matrix) -> None:  # type: ignore[no-untyped-def]
    m = Machine.from_capture(SMI / name, matrix)
    assert m.platform == platform and m.solve_target().platform == platform
    assert m.solve_target().virtual("__cuda") == m.cuda
