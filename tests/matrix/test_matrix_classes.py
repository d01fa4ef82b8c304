"""Issue 15's classes, each on real captures where they exist: DGX Spark, FP8 per release, Jetson, WSL2/Windows
drivers, legacy CUDA on old drivers, old stacks on new GPUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.context import Settings
from envkit.envfile import parse_env_text
from envkit.host.model import Gpu, HostInfo
from envkit.host.parse import read_capture
from envkit.matrix.load import load_matrix
from envkit.matrix.model import Matrix
from envkit.profile import load_profile
from envkit.resolve import resolve_profile
from envkit.validate.report import validate_env
from envkit.versions import in_any

ROOT = Path(__file__).resolve().parents[2]
SMI = ROOT / "tests" / "data" / "nvidia-smi"
H200 = SMI / "h200-driver-580.159.04" / "q.xml"
H100 = SMI / "corpus" / "gpud-8x-h100-80gb-hbm3-535.161.08-q.txt"
GTX1080_390 = SMI / "corpus" / "nvidia-htop-8x-geforce-gtx-1080ti-390.25.txt"
WIN_536 = SMI / "corpus" / "telegraf-geforce-rtx-3080-536.40.xml"
ORIN = SMI / "jetson" / "orin-nvgpu-540.4.0.txt"


@pytest.fixture(scope="module")
def m() -> Matrix:
    return load_matrix(ROOT / "matrix.yaml")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_env(project=str(ROOT), environ={})


def profile(tmp_path: Path, settings: Settings, body: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "p.yaml"
    p.write_text("schema_version: 1\nchannels: [conda-forge]\npip_indexes: [pypi, nvidia]\n" + body, encoding="utf-8")
    return load_profile(str(p), settings)


def test_dgx_spark_gets_a_stack(m: Matrix, tmp_path: Path, settings: Settings) -> None:
    # no DGX Spark capture exists in the corpus: the machine is the GB10 table entry (CC 12.1) on an R580 driver
    cc = m.compute_capability_for("NVIDIA GB10")
    assert cc == "12.1"
    spark = HostInfo("capture", "spark", None, "580.95.05", "13.0", [Gpu(0, "NVIDIA GB10", cc)], arch="aarch64")
    res = resolve_profile(profile(tmp_path, settings, 'tensorrt: ">=10.0"\nplatforms: [linux-aarch64]\n'), m, spark)
    assert res.chosen is not None, [r.reasons for r in res.rejected][:3]
    assert m.tensorrt_release(res.chosen.tensorrt).arch_verdict("12.1") == "supported"  # type: ignore[union-attr]
    assert m.tensorrt_release("10.13").arch_verdict("12.1") == "too-new"  # type: ignore[union-attr]  # before 10.14
    # a capture carries no CPU facts: the GB10 is half of a Grace superchip, so the routes must deliver aarch64
    bare = HostInfo("capture", "spark", None, "580.95.05", "13.0", [Gpu(0, "NVIDIA GB10", cc)])
    res2 = resolve_profile(load_profile("trt-yolo", settings), m, bare)
    assert res2.chosen is not None
    use = next(u for u in m.tensorrt_release(res2.chosen.tensorrt).routes  # type: ignore[union-attr]
               if u.route == res2.chosen.route)
    assert use.delivers(int(res2.chosen.cuda.split(".")[0]), "linux-aarch64")


def test_fp8_on_h100_refused_with_trt8_accepted_later(m: Matrix, tmp_path: Path, settings: Settings) -> None:
    h100 = read_capture(H100, cc_lookup=m.compute_capability_for)
    old = resolve_profile(profile(tmp_path, settings, 'tensorrt: "8.6"\nprecisions: [fp8]\n'), m, h100)
    assert old.chosen is None
    assert any("does not offer FP8" in x for r in old.rejected for x in r.reasons)
    new = resolve_profile(profile(tmp_path, settings, 'tensorrt: ">=10.0"\nprecisions: [fp8]\n'), m, h100)
    assert new.chosen is not None and not new.chosen.tensorrt.startswith("8.")
    assert m.supports_precision("fp8", "9.0", m.tensorrt_release(new.chosen.tensorrt)) is True


def test_jetson_orin_capture_gets_jetpack_not_a_pypi_route(m: Matrix, settings: Settings) -> None:
    orin = read_capture(ORIN, cc_lookup=m.compute_capability_for)
    assert orin.machine_type == "jetson" and orin.gpus[0].compute_capability == "8.7"
    res = resolve_profile(load_profile("trt-yolo", settings), m, orin)
    assert res.chosen is not None and res.chosen.route == "jetpack"
    jp = m.jetpack_release("6.2")
    assert jp and res.chosen.tensorrt == jp.tensorrt and res.chosen.cuda == jp.cuda
    assert "Jetson" in orin.summary()


def test_wsl_or_windows_capture_is_judged_by_windows_minimums(m: Matrix) -> None:
    win = read_capture(WIN_536, cc_lookup=m.compute_capability_for)
    assert win.windows_driver
    r = validate_env(parse_env_text("dependencies:\n  - cuda-version=12.4\n  - cuda-cudart\n", "e.yml",
                                    lenient=True), m, win)
    texts = " ".join(f.message for f in r.findings)
    assert "551.61" in texts and "Windows column" in texts  # CUDA 12.4's Windows minimum, not Linux's 550.54.14


def test_cuda_10_1_on_an_old_driver_is_an_error(m: Matrix) -> None:
    old = read_capture(GTX1080_390, cc_lookup=m.compute_capability_for)
    r = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=10.1\n", "e.yml", lenient=True), m, old)
    errs = [f for f in r.findings if f.severity == "error" and f.code == "driver-too-old"]
    assert errs and "no minor-version compatibility" in errs[0].message and "418.39" in errs[0].message


def test_cuda_11_3_on_sm90_is_flagged_with_the_reason(m: Matrix) -> None:
    h200 = read_capture(H200, cc_lookup=m.compute_capability_for)
    r = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=11.3\n", "e.yml", lenient=True), m, h200)
    f = [x for x in r.findings if x.code == "gpu-too-new"]
    # CUDA alone: a warning, only PTX JIT can run it (the toolkit has no sm_90 code)
    assert f and f[0].severity == "warning" and "PTX JIT" in f[0].message
    # TensorRT has no PTX path: a TensorRT 8.2 stack (architectures up to 8.6) on the H200 is an error
    r2 = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=11.3\n  - pip:\n    - nvidia-tensorrt==8.2.5.1\n",
                                     "e.yml", lenient=True), m, h200)
    assert any(x.code == "gpu-too-new" and x.severity == "error" for x in r2.findings), r2.findings


@pytest.mark.parametrize(("spelling", "line"), [("10.13.2", "10.13.2"), ("10.13.2.6", "10.13.2"),
                                               ("10.13.3.9.post1", "10.13.3"), ("10.13.3.9", "10.13.3"),
                                               ("10.13", "10.13.3"), ("8.5.2", "8.5"), ("8.5.2.2", "8.5")])
def test_tensorrt_any_spelling(m: Matrix, spelling: str, line: str) -> None:
    t = m.tensorrt_release(spelling)
    assert t is not None and t.version == line
    if line.startswith("10.13.") and line != "10.13.0":
        assert not any(11 in r.cuda_majors for r in t.routes) and in_any(t.cuda, "13.0")


def test_a_10_13_2_pin_resolves_and_cu12_with_cuda_11_is_flagged(m: Matrix, tmp_path: Path, settings: Settings) -> None:
    h200 = read_capture(H200, cc_lookup=m.compute_capability_for)
    res = resolve_profile(profile(tmp_path, settings, 'tensorrt: "10.13.2"\n'), m, h200)
    assert res.chosen is not None and res.chosen.tensorrt == "10.13.2.6"
    r = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=11.8\n  - pip\n  - pip:\n    - tensorrt-cu12==10.13.2.6\n",
                                    "e.yml", lenient=True), m, None)
    errs = [f for f in r.findings if f.severity == "error"]
    assert errs and any(f.code == "trt-cuda-mismatch" for f in errs), r.findings


def test_every_pypi_ga_release_from_8_5_is_findable(m: Matrix) -> None:
    # the `tensorrt` versions on pypi.org (PyPI JSON, 2026-12-02), dev/beta builds left out
    for v in ["8.5.1.7", "8.5.2.2", "8.5.3.1", "8.6.0", "8.6.1", "8.6.1.post1", "10.0.1", "10.1.0", "10.2.0",
              "10.2.0.post1", "10.3.0", "10.4.0", "10.5.0", "10.6.0", "10.6.0.post2", "10.7.0", "10.7.0.post1",
              "10.8.0.43", "10.9.0.34", "10.10.0.31", "10.11.0.33", "10.12.0.36", "10.13.0.35", "10.13.2.6",
              "10.13.3.9", "10.13.3.9.post1", "10.14.1.48", "10.14.1.48.post1", "10.15.1.29", "10.16.0.72",
              "10.16.1.11", "11.0.0.114", "11.1.0.106", "11.2.1.2", "11.3.0.99", "11.4.0.106"]:
        t = m.tensorrt_release(v)
        assert t is not None and (v.startswith(t.version) or v.split(".")[:2] == t.version.split(".")[:2]), v


@pytest.mark.parametrize(("name", "cc"), [("Tesla K40c", "3.5"), ("Tesla K20c", "3.5"), ("GeForce GTX TITAN X", "5.2"),
                                          ("NVIDIA RTX 5880 Ada Generation", "8.9"), ("NVIDIA GeForce RTX 207...", "7.5"),
                                          ("NVIDIA A10...", None), ("Orin (nvgpu)", "8.7")])
def test_gpu_names(m: Matrix, name: str, cc: str | None) -> None:
    assert m.compute_capability_for(name) == cc


def test_legacy_is_proposed_only_when_pinned(m: Matrix, tmp_path: Path, settings: Settings) -> None:
    a100 = read_capture(SMI / "corpus" / "telegraf-a100-sxm4-80gb-mig-535.54.03.xml", cc_lookup=m.compute_capability_for)
    free = resolve_profile(profile(tmp_path, settings, 'tensorrt: ">=8.0"\n'), m, a100)
    seen = {r.candidate["tensorrt"] for r in free.rejected + free.outside}
    assert not any(v.startswith(("7.", "8.0", "8.2", "8.4", "9.")) for v in seen)
    assert free.chosen is not None and not m.tensorrt_release(free.chosen.tensorrt).legacy  # type: ignore[union-attr]
    pinned = resolve_profile(profile(tmp_path, settings, 'tensorrt: "8.2"\ncuda: "11.3"\n'), m, a100)
    reasons = [x for r in pinned.rejected for x in r.reasons if r.candidate["tensorrt"].startswith("8.2")]
    assert reasons and any("no route" in x for x in reasons), reasons  # judged, not skipped: no route ships it


def test_windows_driver_column_in_resolve(m: Matrix, settings: Settings) -> None:
    win = read_capture(WIN_536, cc_lookup=m.compute_capability_for)
    res = resolve_profile(load_profile("trt-yolo", settings), m, win)
    reasons = [x for r in res.rejected for x in r.reasons if "needs driver" in x]
    assert any("CUDA 12.3 needs driver >= 545.84" in x for x in reasons), reasons[:5]  # Windows, not 545.23.06


def test_jetson_without_nvidia_smi_answers_by_l4t(m: Matrix, settings: Settings) -> None:
    # JetPack 4/5 ship no nvidia-smi: the probe finds none, but the L4T release file names the stack
    from envkit.host.machines import Machine

    facts = HostInfo("nvidia-smi-missing", "probe", None, None, None, machine_type="jetson", l4t="35.4.1",
                     board="NVIDIA Jetson AGX Orin Developer Kit", arch="aarch64")
    here = Machine(kind="this", label="this machine", platform="linux-aarch64", facts=facts)
    assert not here.has_gpu_facts and here.is_jetson and here.host_facts() is facts
    res = resolve_profile(load_profile("trt-yolo", settings), m, here.host_facts())
    assert res.chosen is not None and res.chosen.route == "jetpack" and res.chosen.tensorrt == "8.5.2"
    assert any("JetPack 5.1.2" in n and "L4T 35.4.1" in n for n in res.notes), res.notes


def test_cuda_10_1_on_a_410_driver_is_an_error(m: Matrix) -> None:
    # no capture of a 410 driver exists in the corpus: the machine is the target spec a fleet would declare
    from envkit.host.machines import Machine

    host = Machine.from_spec("linux-64:driver=410.104", matrix=m).host_facts()
    assert host is not None and host.driver_version == "410.104"
    r = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=10.1\n", "e.yml", lenient=True), m, host)
    errs = [f for f in r.findings if f.code == "driver-too-old"]
    assert errs and errs[0].severity == "error" and "needs driver >= 418.39" in errs[0].message
    assert "no minor-version compatibility" in errs[0].message
    # the same driver runs CUDA 10.0 (410.48): no driver finding
    r2 = validate_env(parse_env_text("dependencies:\n  - cudatoolkit=10.0\n", "e.yml", lenient=True), m, host)
    assert not [f for f in r2.findings if f.code.startswith("driver")]


def test_aarch64_server_never_gets_a_release_without_aarch64_wheels(m: Matrix, tmp_path: Path,
                                                                   settings: Settings) -> None:
    # tensorrt-cu12-bindings has linux-aarch64 wheels only for 10.5.0-10.13.0.35 (PyPI JSON): 10.3 has none
    gh200 = HostInfo("capture", "gh200", None, "580.95.05", "13.0", [Gpu(0, "NVIDIA GH200 480GB", "9.0")])
    res = resolve_profile(profile(tmp_path, settings, 'tensorrt: "10.3"\n'), m, gh200)
    assert res.chosen is None
    reasons = [x for r in res.rejected for x in r.reasons]
    assert any("no linux-aarch64 build of TensorRT 10.3 for CUDA 12" in x for x in reasons), reasons[:4]
    ok = resolve_profile(profile(tmp_path, settings, 'tensorrt: "10.12"\n'), m, gh200)
    assert ok.chosen is not None and ok.chosen.tensorrt.startswith("10.12")
