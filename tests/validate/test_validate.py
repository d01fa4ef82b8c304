"""validate_env: the effective stack and the findings, on a small matrix, the real matrix.yaml,
real environment files from public projects (tests/data/envfiles/corpus) and real nvidia-smi captures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from envkit.envfile import parse_env_text, read_env_file
from envkit.host.model import Gpu, HostInfo
from envkit.host.parse import read_capture
from envkit.matrix.load import load_matrix
from envkit.matrix.model import (
    CudaMajor,
    CudaRelease,
    CudnnRelease,
    Matrix,
    Route,
    RouteUse,
    Sourced,
    TensorRTRelease,
)
from envkit.validate.evidence_model import cu_digits
from envkit.validate.report import ValidateReport, validate_env

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "envfiles"
CORPUS = DATA / "corpus"
HOSTS = DATA / "hosts"
S = Sourced(source=("T",), unconfirmed=None, notes=None)


# ---- a small matrix: the rules read facts from the matrix, not from code ------------------------


def small_matrix() -> Matrix:
    return Matrix(
        schema_version=1,
        matrix_version="test",
        path="<test>",
        sources={"T": "https://example.invalid"},
        pip_indexes={"pypi": "https://pypi.org/simple", "nvidia": "https://pypi.nvidia.com"},
        cuda_majors={
            11: CudaMajor(11, {"linux": "450.80.02"}, "3.5", (), (), S),
            12: CudaMajor(12, {"linux": "525.60.13"}, "5.0", (), (), S),
        },
        cuda=[
            CudaRelease("11.8", {"linux": "520.61.05"}, "9.0", None, S),
            CudaRelease("12.4", {"linux": "550.54.14"}, "9.0", None, S),
            CudaRelease("12.8", {"linux": "570.26"}, "12.0", None, S),
        ],
        cudnn=[
            CudnnRelease("8.9", "8.9.7.29", (">=11.0,<11.9", ">=12.0,<12.3"), "5.0", "9.0", None, {}, S),
            CudnnRelease("9.10", "9.10.2.21", ("11.8", ">=12.0,<12.10"), "5.0", "12.0", None, {}, S),
        ],
        tensorrt=[
            TensorRTRelease("8.6", "8.6.1.6", (">=11.0,<11.9", ">=12.0,<12.2"), True, ("8.9",), "5.0", "9.0",
                            ("3.8", "3.9", "3.10", "3.11"), {},
                            (RouteUse("nvidia-conda", (11, 12), ("tensorrt={version}",), ()),), S),
            TensorRTRelease("10.3", "10.3.0", ("11.8", ">=12.0,<12.7"), False, ("8.9",), "7.0", "9.0",
                            ("3.8", "3.9", "3.10", "3.11", "3.12"), {},
                            (RouteUse("pypi-nvidia", (11, 12), (), ("tensorrt-cu{cuda_major}=={full_version}",)),), S),
        ],
        routes={
            "nvidia-conda": Route("nvidia-conda", "legacy", ("nvidia",), (), S),
            "pypi-nvidia": Route("pypi-nvidia", "pip", (), ("pypi", "nvidia"), S),
        },
        precisions={},
        gpus=[],
        ngc=[],
    )


# these tests are about other rules: judged as of a day before Python 3.9 and 3.10 reached end of life
# (eol-python has its own tests in test_validate_corpus.py)
BEFORE_EOL = date(2023, 1, 1)


def check(text: str, matrix: Matrix | None = None, host: HostInfo | None = None) -> ValidateReport:
    return validate_env(parse_env_text(text, "env.yml", lenient=True), matrix or small_matrix(), host, BEFORE_EOL)


def codes(report: ValidateReport, severity: str | None = None) -> set[str]:
    return set(report.codes(severity))


def one(report: ValidateReport, code: str) -> tuple[str, int | None, str]:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, (code, [f.to_json() for f in report.findings])
    return found[0].severity, found[0].line, found[0].message


CLASSIC = """name: trt-classic
channels: [nvidia, conda-forge, defaults]
dependencies:
  - python=3.9
  - cudatoolkit=11.8
  - cudnn=8.9
  - tensorrt=8.6
  - onnx
  - numpy
  - jupyter
"""


def test_small_matrix_classic_is_clean() -> None:
    r = check(CLASSIC)
    assert r.findings == []
    assert r.stack["cuda"]["version"] == "11.8" and r.stack["tensorrt"]["route"] == "conda"
    assert r.stack["cudnn"]["version"] == "8.9" and r.stack["python"]["version"] == "3.9"


def test_facts_come_from_the_matrix() -> None:
    """The same file flips when the matrix says TensorRT 8.6 does not support CUDA 11.8."""
    m = small_matrix()
    t = m.tensorrt[0]
    m.tensorrt[0] = TensorRTRelease(t.version, t.full_version, (">=12.0,<12.2",), t.cudnn_required,
                                    t.cudnn_versions, t.min_compute_capability, t.max_compute_capability,
                                    t.python, t.precisions, t.routes, t.meta)
    sev, line, msg = one(check(CLASSIC, m), "trt-cuda-mismatch")
    assert (sev, line) == ("error", 7) and "CUDA 11.8" in msg


def test_conda_tensorrt_needs_a_channel_the_matrix_knows() -> None:
    r = check(CLASSIC.replace("[nvidia, conda-forge, defaults]", "[conda-forge]"))
    sev, line, msg = one(r, "trt-not-on-channels")
    assert (sev, line) == ("warning", 7) and "nvidia" in msg
    # a channel-prefixed spec counts as its channel
    r = check(CLASSIC.replace("[nvidia, conda-forge, defaults]", "[conda-forge]").replace("- tensorrt=8.6",
                                                                                            "- nvidia::tensorrt=8.6"))
    assert "trt-not-on-channels" not in codes(r)


def test_trt_cudnn_mismatch() -> None:
    r = check(CLASSIC.replace("cudnn=8.9", "cudnn=9.10"))
    sev, line, msg = one(r, "trt-cudnn-mismatch")
    assert (sev, line) == ("error", 6) and "8.9" in msg


def test_cuda_minor_mismatch_between_conda_packages_is_an_error() -> None:
    r = check("dependencies:\n  - cuda-version=12.8\n  - cuda-cudart=12.4\n")
    assert one(r, "cuda-minor-mismatch")[:2] == ("error", 3)


def test_pip_trt_suffix_against_conda_cuda() -> None:
    text = ("channels: [conda-forge]\ndependencies:\n  - python=3.10\n  - cudatoolkit=11.8\n  - pip\n  - pip:\n"
            "    - --extra-index-url https://pypi.nvidia.com\n    - tensorrt-cu12==10.3.0\n")
    sev, line, msg = one(check(text), "trt-cuda-mismatch")
    assert (sev, line) == ("error", 8) and "CUDA 12" in msg and "-cu11" in (next(f.hint for f in check(text).findings) or "")
    ok = check(text.replace("tensorrt-cu12", "tensorrt-cu11"))
    assert ok.findings == []


def test_ranges_and_wildcards() -> None:
    # a range that admits one matrix line is that line; ranges are not "unpinned"
    r = check("channels: [nvidia]\ndependencies:\n  - python>=3.9,<3.11\n  - cuda-version>=12.4,<12.5\n"
              "  - cudnn=8.9.*\n  - tensorrt[version='>=8.6,<8.7']\n")
    assert r.stack["cuda"]["version"] == "12.4" and r.stack["tensorrt"]["version"] == "8.6"
    assert "unpinned-critical" not in codes(r)
    assert one(r, "trt-cuda-mismatch")[0] == "error"  # TensorRT 8.6 stops at CUDA 12.1
    # open-ended is unpinned
    r = check("channels: [nvidia]\ndependencies:\n  - cudatoolkit>=11\n")
    sev, line, msg = one(r, "unpinned-critical")
    assert (sev, line) == ("warning", 3) and "open-ended" in msg


def test_python_range_outside_trt_wheels() -> None:
    text = ("dependencies:\n  - python>=3.13\n  - cuda-version=12.4\n  - pip:\n"
            "    - --extra-index-url https://pypi.nvidia.com\n    - tensorrt-cu12==10.3.0\n")
    assert one(check(text), "python-unsupported")[:2] == ("error", 2)


def test_unknown_trt_is_a_warning_and_stops_trt_checks() -> None:
    r = check("dependencies:\n  - cudatoolkit=11.8\n  - pip:\n    - --extra-index-url https://pypi.nvidia.com\n"
              "    - tensorrt-cu11==10.99.0\n")
    assert one(r, "unknown-version")[:2] == ("warning", 5)
    assert "trt-cuda-mismatch" not in codes(r)


def test_host_rules_on_a_small_matrix() -> None:
    host = HostInfo(status="capture", source="x", format="q", driver_version="530.30.02", cuda_version="12.1",
                    gpus=[Gpu(0, "Tesla K80", "3.7"), Gpu(1, "Tesla K80", "3.7")])
    r = check("dependencies:\n  - python=3.10\n  - cuda-version=12.4\n  - pip:\n"
              "    - --extra-index-url https://pypi.nvidia.com\n    - tensorrt-cu12==10.3.0\n", host=host)
    assert one(r, "driver-minor-compat")[:2] == ("warning", 3)
    found = [f for f in r.findings if f.code == "gpu-too-old"]
    assert {(f.severity, f.line) for f in found} == {("error", 3), ("error", 6)}  # CUDA 12 floor, TensorRT floor
    assert all("2x Tesla K80" in f.message for f in found)
    nogpu = HostInfo(status="ok", source="x", format="q", driver_version="580.65.06", cuda_version="13.0")
    assert one(check("dependencies:\n  - cuda-version=12.4\n", host=nogpu), "no-gpu")[0] == "info"


def test_cu_digits() -> None:
    assert [cu_digits(d) for d in ("124", "118", "102", "92", "1")] == ["12.4", "11.8", "10.2", "9.2", None]


def test_never_crashes_on_odd_specs() -> None:
    r = check("dependencies:\n  - 'foo bar baz'\n  - cudatoolkit=11.8=*cuda\n  - jpeg=9b\n  - pip:\n"
              "    - .\n    - 'not a ==== requirement'\n    - -e ./local\n")
    assert [(f.code, f.line) for f in r.findings if f.code == "unparsed-spec"] == [("unparsed-spec", 2),
                                                                                  ("unparsed-spec", 7)]
    assert all(f.severity == "info" for f in r.findings)


# ---- the real matrix --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(ROOT / "matrix.yaml")


def run_file(matrix: Matrix, path: Path, host: str | None = None) -> ValidateReport:
    h = read_capture(HOSTS / host, cc_lookup=matrix.compute_capability_for) if host else None
    return validate_env(read_env_file(path, lenient=True), matrix, h, BEFORE_EOL)


def test_classic_passes_clean(matrix: Matrix) -> None:
    r = run_file(matrix, DATA / "classic-trt86.yml")
    # a consistent classic stack, but conda `tensorrt=8.6` is a route envkit expects to fail (NVIDIA ships no
    # conda TensorRT): a warning whose hint is a TensorRT that installs for the file's CUDA 11
    assert [(f.severity, f.line, f.code) for f in r.findings] == [("warning", 10, "route-expected-to-fail")]
    assert "CUDA 11: TensorRT" in (r.findings[0].hint or "")
    assert {k: v["version"] for k, v in r.stack.items()} == {
        "cuda": "11.8", "cudnn": "8.9", "tensorrt": "8.6", "python": "3.9"}


# ---- constructed problem files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("trt10-cu12-with-cudatoolkit118.yml", [("error", 12, "trt-cuda-mismatch")]),
        ("cudnn8-cuda12-trt10.yml", [("warning", 11, "cudnn-cuda-mismatch")]),
        ("cudnn8-cuda13-trt10.yml", [("error", 9, "cudnn-cuda-mismatch")]),
        ("cu118-torch-in-cuda12.yml", [("error", 13, "cuda-major-conflict")]),  # one error for the two majors
        ("trt103-python313.yml", [("error", 7, "python-unsupported")]),
        ("unpinned.yml", [("warning", 9, "unpinned-critical"), ("warning", 10, "unpinned-critical"),
                          ("warning", 13, "pip-stub-needs-nvidia-index"), ("warning", 13, "unpinned-critical")]),
        ("cuda128-trt108.yml", []),
        ("trt105-cuda126.yml", []),
        # -r and git+ are said (one pip-unseen naming both), and the pip: section without `pip`
        ("odd-specs.yml", [("info", 16, "pip-unseen"), ("info", 16, "pip-without-pip")]),
    ],
)
def test_constructed_files(matrix: Matrix, name: str, expected: list[tuple[str, int, str]]) -> None:
    r = run_file(matrix, DATA / name)
    assert [(f.severity, f.line, f.code) for f in r.findings if f.code != "route-expected-to-fail"] == expected, [f.to_json() for f in r.findings]
    assert all(f.message for f in r.findings)
    text = (DATA / name).read_text()
    assert text.startswith("# Constructed test input")


def test_trt_cuda_mismatch_message(matrix: Matrix) -> None:
    f = run_file(matrix, DATA / "trt10-cu12-with-cudatoolkit118.yml").findings[0]
    assert "tensorrt-cu12==10.3.0" in f.message and "cudatoolkit=11.8 at line 8" in f.message
    assert f.hint and "-cu11" in f.hint


# ---- with real host captures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "capture", "expected"),
    [
        # driver 515.65.01 is below CUDA 12's minor-compat floor
        ("cuda128-trt108.yml", "netdata-geforce-rtx-3060-laptop-515.65.01.xml", [("error", 9, "driver-too-old")]),
        # driver 550 runs CUDA 12.8 only by minor-version compatibility
        ("cuda128-trt108.yml", "thamada-l4-550.90.07.txt", [("warning", 9, "driver-minor-compat")]),
        ("cuda128-trt108.yml", "nvidia_gpu_exporter-h100-80gb-hbm3-590.48.01-query-gpu.csv", []),
        ("cuda128-trt108.yml", "nvidia_gpu_exporter-geforce-rtx-2080-super-610.57.04-version.txt",
         [("info", None, "no-gpu")]),
        # Pascal P100 (6.0) below TensorRT 10.5's floor (7.5); driver 510 below CUDA 12's floor
        ("trt105-cuda126.yml", "netdata-tesla-p100-pcie-16gb-510.47.03.xml",
         [("error", 9, "driver-too-old"), ("error", 13, "gpu-too-old")]),
        # Blackwell (12.0) is newer than TensorRT 8.6 and CUDA 11.8 know
        ("classic-trt86.yml", "telegraf-rtx-pro-6000-blackwell-maxq-590.44.01.xml",
         [("warning", 8, "gpu-too-new"), ("error", 10, "gpu-too-new")]),
        ("classic-trt86.yml", "nvidia-htop-grid-k520-346.46.txt",
         [("error", 8, "driver-too-old"), ("error", 8, "gpu-too-old"), ("error", 10, "gpu-too-old")]),
        ("classic-trt86.yml", "thamada-l4-550.90.07.txt", []),
    ],
)
def test_with_host(matrix: Matrix, env: str, capture: str, expected: list[tuple[str, int | None, str]]) -> None:
    r = run_file(matrix, DATA / env, capture)
    assert [(f.severity, f.line, f.code) for f in r.findings if f.code != "route-expected-to-fail"] == expected, [f.to_json() for f in r.findings]
    assert r.to_json()["host"]["driver_version"] == r.host.driver_version if r.host else True


def test_driver_messages_name_versions(matrix: Matrix) -> None:
    r = run_file(matrix, DATA / "cuda128-trt108.yml", "netdata-geforce-rtx-3060-laptop-515.65.01.xml")
    msg = r.findings[0].message
    assert "570.26" in msg and "525.60.13" in msg and "515.65.01" in msg
    r = run_file(matrix, DATA / "trt105-cuda126.yml", "netdata-tesla-p100-pcie-16gb-510.47.03.xml")
    gpu = next(f for f in r.findings if f.code == "gpu-too-old")
    assert "Tesla P100-PCIE-16GB" in gpu.message and "6.0" in gpu.message and "7.5" in gpu.message
    assert gpu.hint and "8.5, 8.6" in gpu.hint


def test_random_mixtures_never_crash(matrix: Matrix) -> None:
    """Specs from every test file plus odd ones, mixed at random, with and without hosts: no rule may fail."""
    import json
    import random

    specs = [ln.strip()[2:].strip('"') for p in DATA.rglob("*.y*ml") for ln in p.read_text().splitlines()
             if ln.strip().startswith("- ") and not ln.strip().startswith("- pip:")]
    specs += ["tensorrt-cu13-libs", "tensorrt==10.*", "tensorrt>=8.6.1", "nvidia-cuda-runtime==13.0.48", "cupy-cuda12x",
              "cupy-cuda102", "libnvinfer=10.16.1.11", "cuda-version>=12,<13", "cudatoolkit=11.8|12.0",
              "torch==2.5.1+cpu", "cuda-version=99.1", "cudnn=99", "tensorrt-cu99==10.3.0", "cudatoolkit=abc",
              "cudatoolkit>=", "python=3.x", "x[version='>=1']"]
    hosts = [None] + [read_capture(h, cc_lookup=matrix.compute_capability_for)
                      for h in sorted(HOSTS.iterdir()) if h.suffix != ".tsv"]
    rnd = random.Random(7)
    for _ in range(400):
        deps = rnd.sample(specs, rnd.randint(0, 10))
        conda = [d for d in deps if rnd.random() < 0.6]
        pip = [d for d in deps if d not in conda]
        text = f"channels: {json.dumps(rnd.sample(['conda-forge', 'nvidia', 'nvidia/label/cuda-12.1.0'], 2))}\n"
        text += "dependencies:\n" + "".join(f"  - {json.dumps(d)}\n" for d in conda)
        if pip:
            text += "  - pip:\n" + "".join(f"    - {json.dumps(d)}\n" for d in pip)
        r = validate_env(parse_env_text(text, "f.yml", lenient=True), matrix, rnd.choice(hosts))
        assert "internal" not in r.codes(), (text, [f.to_json() for f in r.findings])
        json.dumps(r.to_json())


# ---- reading rules without a real file in the corpus (no public file with them was found) -----------------------


def test_name_that_is_a_path_and_a_build_for_another_python() -> None:
    text = ("name: /opt/envs/trt\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n"
            "  - numpy=1.26.4=py311h64a7726_0\n")
    r = check(text)
    assert [(f.severity, f.line, f.code) for f in r.findings] == [
        ("warning", 1, "name-is-path"),  # micromamba refuses a name with a path separator
        ("error", 5, "build-python-mismatch"),  # a py311 build in a Python 3.10 file cannot be installed
    ]


def test_pytorch_cuda_beyond_the_pytorch_channel() -> None:
    # written as in a public project's docs: pytorch>=2.10.0 and pytorch-cuda=13.0 from the pytorch+nvidia channels
    text = ("channels: [pytorch, nvidia, conda-forge]\ndependencies:\n  - python=3.11\n  - pytorch>=2.10.0\n"
            "  - pytorch-cuda=13.0\n")
    r = check(text)
    found = [(f.severity, f.line, f.code) for f in r.findings if f.code == "pytorch-cuda-channel-ended"]
    assert found == [("error", 4, "pytorch-cuda-channel-ended"),  # the channel's last pytorch is 2.5.1
                     ("error", 5, "pytorch-cuda-channel-ended")]  # and it never had a pytorch-cuda 13.0
    ok = check("channels: [pytorch, nvidia]\ndependencies:\n  - python=3.10\n  - pytorch=2.3.*\n  - pytorch-cuda=12.1\n")
    assert "pytorch-cuda-channel-ended" not in ok.codes()


def test_cuda_extras_and_tensorrt_side_in_a_major_conflict() -> None:
    # jax[cuda12_pip] and tensorflow[and-cuda] 2.15 (a CUDA 12.2 build) against cudatoolkit 11.8 and TensorRT 8.5,
    # whose only build is CUDA 11: one error, and its hint keeps the side TensorRT can live on
    text = ("channels: [conda-forge]\ndependencies:\n  - python=3.10\n  - cudatoolkit=11.8\n  - pip\n  - pip:\n"
            "    - jax[cuda12_pip]==0.4.30\n    - tensorflow[and-cuda]==2.15.1\n    - tensorrt==8.5.3.1\n")
    r = check(text, load_matrix(ROOT / "matrix.yaml"))
    conflicts = [f for f in r.findings if f.code == "cuda-major-conflict"]
    assert [(f.severity, f.line) for f in conflicts] == [("error", 7)]
    assert "tensorrt==8.5.3.1" in conflicts[0].message and (conflicts[0].hint or "").startswith("keep CUDA 11")
