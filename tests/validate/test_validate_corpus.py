"""validate on real environment files from public projects (tests/data/envfiles/corpus, SOURCES.tsv says where
each comes from and what it pins): every finding asserted one by one, with why it is expected.

Judged as of 2026-12-02 (end-of-life dates move; the report takes the day as an argument). cuDNN 7.x-8.x
lines are legacy matrix records (judged without an unknown-version finding).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from envkit.envfile import read_env_file
from envkit.errors import InputError
from envkit.matrix.load import load_matrix
from envkit.matrix.model import Matrix
from envkit.validate.report import ValidateReport, validate_env

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "envfiles" / "corpus"
TODAY = date(2026, 12, 2)

Expected = list[tuple[str, int | None, str]]

EXPECTED: dict[str, Expected] = {
    "AidenDam__yolov8_inference__environment_amd.yml": [
        ("warning", 6, "eol-python"),  # python=3.8: end of life 2024-10
        ("info", 12, "onnxruntime-gpu-cuda"),  # onnxruntime-gpu 1.14.1 (a CUDA 11.6 build) and no CUDA/cuDNN here
    ],
    "Charlie-X-Ray__Charlie-Vision__environment.yml": [
        ("warning", 23, "cpu-build"),  # pytorch-mutex=cpu + pytorch ...py3.11_cpu_0 next to the nvidia CUDA 12.1 set
        ("warning", 127, "pre-release"),  # pytorch 2.1.0.dev20230526: a nightly that cannot be installed again
        ("info", 141, "prefix-set"),  # prefix: C:\Users\...
        ("info", None, "platform-specific"),  # win-64:: subdirs: a Windows export
    ],
    "DIG-Kaust__conda_envs__environment_pylops_gpu.yml": [
        ("warning", 11, "eol-cuda"),  # cudatoolkit=10.2: older than any TensorRT 10+ supports
        ("warning", 18, "unpinned-critical"),  # pytorch unpinned next to CUDA 10.2: the solver backtracks to old/CPU
    ],
    "DeepLabCut__DeepLabCut__conda-environments_DEEPLABCUT_M1.yaml": [
        ("warning", 33, "eol-python"),  # python=3.9: end of life 2025-10
        ("info", 44, "pip-unseen"),  # -e ../[gui]: an editable local package
        ("info", None, "platform-specific"),  # python.app: macOS (no CUDA)
    ],
    "DeepLabCut__DeepLabCut__conda-environments_dlc-windowsGPU.yaml": [
        ("warning", 12, "eol-python"),  # python=3.6: end of life 2021-12
        ("info", 19, "pip-without-pip"),  # a pip: section, no `pip` dependency
        ("info", None, "channel-none"),  # no channels key
        ("info", None, "platform-specific"),  # the file name says Windows
    ],
    "ForzaETH__TinyCenterSpeed__environments_tensorrt_env.yml": [
        ("error", 45, "cuda-major-conflict"),  # cuda-python=11.8.0 (CUDA 11 bindings) in a CUDA 12.4 toolkit: ONE error
        ("warning", 134, "eol-python"),  # python 3.9.19: end of life 2025-10
        ("warning", 136, "cpu-build"),  # pytorch=2.2.0=cpu_py39...: CPU torch beside the CUDA toolkit
        ("info", 158, "pip-without-pip"),  # a pip: section, no `pip` dependency
        ("warning", 160, "pip-stub-needs-nvidia-index"),  # tensorrt / -cu12 / -cu12-libs stubs, no NVIDIA index (one)
        ("warning", 160, "pre-release"),  # 10.0.0b6 on four lines: one finding naming them
        ("warning", 160, "unknown-version"),  # TensorRT 10.0.0b6 is no release the matrix knows
        ("info", 164, "prefix-set"),  # prefix: line of an export
    ],
    "LHgoforit__EFANet__environment.yml": [
        ("warning", 15, "eol-python"),  # python=3.10: end of life 2026-10
        ("warning", 18, "unpinned-critical"),  # cudnn unpinned
        ("warning", 40, "pypi-name-in-conda"),  # onnxruntime-gpu is a PyPI name; conda-forge has onnxruntime *cuda*
        ("warning", 41, "route-expected-to-fail"),  # conda `tensorrt`: only the nvidia-conda route, expected to fail
    ],
    "LNSOTOM__fvc_composition__environment_jetson.yml": [
        ("warning", 8, "eol-python"),  # python=3.8
        ("info", None, "platform-specific"),  # a Jetson file: conda's aarch64 CUDA is SBSA, JetPack brings CUDA
    ],
    "Luke-G-Cordova__stable-diffusion-cli__environment_cu118.yml": [
        ("info", None, "platform-specific"),  # m2w64-*: a Windows export; the cu118 pip set itself is consistent
    ],
    "NVlabs__stylegan3__environment.yml": [
        ("warning", 13, "eol-cuda"),  # cudatoolkit=11.1: same code and severity as 10.x (consistent)
    ],
    "PatrickAllenCooper__mono-s2s__environment_cu128.yml": [
        ("warning", 14, "eol-python"),  # python=3.10
        ("warning", 18, "unpinned-critical"),  # torch unpinned from the cu128 index: floats with each release
    ],
    "RemieJanssen__pycuda-tree-child__envs_pycuda-tc.yaml": [],  # CUDA 12.9 + Python 3.13: checked and fine
    "SMalaekeh__ImageTRT__environment.yml": [
        ("warning", 8, "unpinned-critical"),  # conda pytorch unpinned next to pytorch-cuda=12.1
        ("warning", 13, "pip-stub-needs-nvidia-index"),  # tensorrt>=8.6.0 from PyPI without NVIDIA's index
        ("warning", 13, "unpinned-critical"),  # tensorrt>=8.6.0: open-ended (today a TensorRT 10/11 wheel)
        ("warning", 15, "unpinned-critical"),  # onnxruntime-gpu unpinned: its CUDA/cuDNN change by release
        ("info", 15, "onnxruntime-gpu-cuda"),  # and nothing here provides cuDNN
    ],
    "SilvesterHsu__Jetpack_Lab__conda_env_tensorrt7.yaml": [
        ("warning", 17, "eol-cuda"),  # cudatoolkit=10.2.89
        ("warning", 59, "eol-python"),  # python=3.7.0
        ("info", 199, "prefix-set"),  # prefix: line
    ],
    "ZaberKo__conda-envs__horovod_horovod_pytorch.yaml": [
        ("warning", 9, "eol-python"),  # python=3.9
        ("warning", 19, "eol-cuda"),  # cudatoolkit=11.3
        ("warning", 20, "unpinned-critical"),  # cudnn unpinned
        ("info", 23, "duplicate-spec"),  # jupyterlab listed twice
        ("warning", 26, "cuda-component-unpinned"),  # nvcc_linux-64 unpinned: will not match cudatoolkit 11.3
        ("warning", 27, "unpinned-critical"),  # pytorch unpinned next to CUDA 11.3
        ("info", 32, "pip-unseen"),  # -r horovod_pytorch_requirements.txt
    ],
    "ZaneHe0528__boat4090__environment_jetson.yml": [
        ("warning", 26, "eol-python"),  # python 3.10.20
        ("info", 84, "prefix-set"),  # prefix: line
        ("info", None, "platform-specific"),  # ld_impl_linux-aarch64: a linux-aarch64 export (SBSA/CPU torch)
    ],
    "a1302z__RePrAAIMI__environment.yml": [
        ("warning", 7, "conda-exact-match"),  # python==3.10 is exactly 3.10.0 for conda
        ("warning", 7, "eol-python"),  # and 3.10 reached end of life
        ("warning", 9, "cuda-minor-mismatch"),  # pytorch-cuda=11.7 beside cudatoolkit==11.4 (two CUDA 11 runtimes)
        ("warning", 11, "eol-cuda"),  # CUDA 11.4
        ("info", 11, "conda-exact-match"),  # cudatoolkit==11.4 is exactly 11.4.0
        ("warning", 22, "cuda-component-unpinned"),  # nvidia::cuda-nvcc unpinned: the newest CUDA, not 11.x
        ("info", 41, "pip-unseen"),  # git+https://...
    ],
    "aip-servers__conda-environment-templates__environment_jax.yml": [
        ("warning", 7, "invalid-spec"),  # jaxlib=0.4.23[cuda118]: pip extras syntax in a conda MatchSpec
        ("warning", 19, "cuda-component-unpinned"),  # cuda-nvcc unpinned next to the cuda118 jaxlib
    ],
    "ansontwk__DeepVIC__DeepVIC.yml": [
        ("error", 52, "cuda-major-conflict"),  # CUDA 12.4 toolkit + cu12 wheels vs cudatoolkit 11.8 + cu11: ONE error
        ("warning", 119, "eol-python"),  # python 3.10.13
        ("warning", 181, "trt-cudnn-mismatch"),  # TensorRT 8.5 with nvidia-cudnn-cu11 8.7 (older than tested 8.9)
        ("info", 250, "prefix-set"),  # prefix: line
    ],
    "cobi-inc__pita__environment_files_tensorrt_cuda.yml": [
        ("warning", 7, "eol-python"),  # python=3.10
        ("warning", 16, "unpinned-critical"),  # tensorrt_llm unpinned: each release pins its own TensorRT/torch/CUDA
        ("warning", 17, "unpinned-critical"),  # torch unpinned
    ],
    "codinglearner121__HGSFusion__environment_cu128.yml": [
        ("info", 68, "unknown-version"),  # cuDNN 9.8 has no matrix record
        ("warning", 234, "cuda-minor-mismatch"),  # cuda126 builds in cuda-version=12.8: runs by minor compat
        ("error", 311, "python-version-conflict"),  # python=3.12.2 and cpython=3.12.10
        ("warning", 391, "pre-release"),  # protobuf==6.31.0rc1
        ("warning", 396, "pip-index-option"),  # -i https://pypi.tuna.tsinghua.edu.cn/simple replaces PyPI
        ("info", 397, "prefix-set"),  # prefix: line
    ],
    "cxzandy__A-visual-control-program__environment_jetson.yml": [
        ("warning", 7, "eol-python"),  # python=3.8
        ("warning", 47, "eol-cuda"),  # cudatoolkit=11.4
        ("info", None, "platform-specific"),  # a Jetson file (conda CUDA does not drive Tegra)
    ],
    "deepwavedigital__airstack-examples__conda_environments_airstack-py36.yml": [
        ("warning", 6, "channel-url"),  # file://opt/... names the host `opt`
        ("warning", 9, "eol-python"),  # python=3.6
        ("info", 20, "pip-unseen"),  # three direct wheel URLs: one finding
        ("info", 23, "cupy-source-build"),  # cupy>=7.2.0 compiles against the device's nvcc
        ("info", None, "platform-specific"),  # cp36 linux_aarch64 wheels
    ],
    "deepwavedigital__airstack-examples__conda_environments_cusignal_airt.yml": [
        ("warning", 7, "channel-url"),  # file://opt/...
        ("warning", 10, "eol-python"),  # python=3.6
        ("info", 25, "cupy-source-build"),  # cupy>=7.2.0 (sdist)
    ],
    "facebookresearch__dinov2__conda.yaml": [
        ("warning", 9, "eol-python"),  # python=3.9
        ("warning", 11, "eol-cuda"),  # pytorch::pytorch-cuda=11.7.0 (channel-qualified, read as CUDA 11.7)
        ("info", 20, "pip-unseen"),  # git+https://github.com/facebookincubator/submitit
    ],
    "invoke-ai__InvokeAI__environments-and-requirements_environment-mac.yml": [
        ("warning", 7, "eol-python"),  # python=3.10
        ("info", 59, "pip-unseen"),  # git+ installs and -e .: one finding naming them
        ("info", None, "platform-specific"),  # a macOS file: judged no-GPU
    ],
    "invoke-ai__InvokeAI__environments-and-requirements_environment-win-cuda.yml": [
        ("warning", 7, "eol-python"),  # python=3.10.*
        ("warning", 13, "eol-cuda"),  # cudatoolkit=11.6
        ("info", 42, "pip-unseen"),  # archive .zip URLs and -e .
        ("info", None, "platform-specific"),  # the file name says Windows
    ],
    "nv-morpheus__Morpheus__conda_environments_all_cuda-128_arch-x86_64.yaml": [
        ("warning", 136, "pip-index-option"),  # --find-links https://data.dgl.ai/...
        ("warning", 137, "pip-index-option"),  # --find-links https://data.dgl.ai/... (cu124)
        ("warning", 155, "cuda-minor-mismatch"),  # torch 2.4.0+cu124 in a cuda-version=12.8 environment
    ],
    "polimi-ispl__GAN-image-detection__environment.yml": [
        ("warning", 10, "eol-cuda"),  # cudatoolkit=10.2.89
        ("warning", 32, "eol-python"),  # python=3.6.10
        ("info", 129, "conda-pip-duplicate"),  # pip torch==1.5.1 over conda pytorch=1.5.1
    ],
    "reachsumit__yolov3-spacenet__py27.yml": [
        ("warning", 133, "eol-python"),  # Python 2.7.15; no GPU stack at all, so nothing else
        ("info", 171, "prefix-set"),  # prefix: line
    ],
    "roitberg-group__legolas__legolas_env.yaml": [
        ("warning", 10, "eol-python"),  # python=3.10; the label-channel CUDA 11.8 stack is coherent
    ],
    "secondlaw-ai__skyrim__environment_cuda12.yml": [
        ("error", 44, "cuda-major-conflict"),  # stray cudatoolkit 11.8 (+ onnxruntime-gpu 1.17, CUDA 11.8) in CUDA 12.1
        ("warning", 169, "eol-python"),  # python 3.10.14
        ("info", 272, "prefix-set"),  # prefix: line
    ],
    "stevenygd__jax-diffusion__environment-jax.yml": [
        ("warning", 15, "cuda-minor-mismatch"),  # CUDA 12.1/12.3 builds (pytorch, tensorflow 2.16) in cuda-version 12.5
        ("warning", 82, "cudnn-cuda-mismatch"),  # cuDNN 8.9 (built for CUDA 12.0-12.2) in CUDA 12.5: untested pair
        ("info", 209, "prefix-set"),  # prefix: line
    ],
    "talmo__gpuhackathon-sleap__tensorrt_environment.yml": [
        ("warning", 4, "eol-python"),  # python=3.6
        ("warning", 7, "pip-index-option"),  # --extra-index-url https://pypi.ngc.nvidia.com (NGC's old index)
        ("warning", 8, "deprecated-package"),  # nvidia-pyindex
        ("warning", 10, "deprecated-package"),  # nvidia-tensorrt (the old NGC name)
        ("warning", 10, "eol-tensorrt"),  # TensorRT 7.2.3.4: a legacy matrix record, never proposed
    ],
    "talmolab__sleap__environment.yml": [
        ("warning", 46, "eol-cuda"),  # conda-forge::cudatoolkit ==11.3.1 (space-separated operator)
        ("info", 52, "pip-unseen"),  # "--editable=.[conda_dev]"
    ],
    "theAIGuysCode__yolov4-deepsort__conda-gpu.yml": [
        ("warning", 4, "conda-exact-match"),  # python==3.7: exactly 3.7.0 for conda
        ("warning", 4, "eol-python"),  # and 3.7 reached end of life in 2023
        ("warning", 8, "unpinned-critical"),  # cudnn unpinned
        ("warning", 9, "eol-cuda"),  # cudatoolkit==10.1.243
        ("warning", 11, "pre-release"),  # tensorflow-gpu==2.3.0rc0
        ("info", None, "channel-none"),  # no channels key
    ],
    "trane293__mm-gan__environment.yml": [
        ("warning", 27, "eol-cuda"),  # cudatoolkit=9.0
        ("info", 28, "unknown-version"),  # cudnn=7.1.2
        ("warning", 66, "eol-python"),  # python=3.5.5
        ("info", 117, "conda-pip-duplicate"),  # pip torch==0.4.1 over conda pytorch=0.4.1
        ("info", 127, "prefix-set"),  # prefix: line
    ],
    "x-huang19__workflow_model__environment-cu118.yml": [
        ("error", 8, "pytorch-cuda-channel-ended"),  # pytorch=2.7.1 + pytorch-cuda=11.8: the channel ended at 2.5.1
        ("info", 22, "pip-unseen"),  # -e .
    ],
    "xuekt98__BBDM__environment.yml": [
        ("info", 4, "duplicate-channel"),  # pkgs/main twice (with and without a trailing slash)
        ("warning", 5, "channel-retired"),  # pkgs/free
        ("warning", 21, "eol-python"),  # python 3.9.16
        ("error", 88, "pip-local-version"),  # torch/torchvision/torchaudio +cu113 with no index: one error for three
        ("warning", 88, "eol-cuda"),  # +cu113 is CUDA 11.3
        ("info", 100, "prefix-set"),  # prefix: line
    ],
}

# files that conda itself cannot read: validate says where, with exit code 2 (no crash, no guess)
INVALID_YAML = {
    "DIG-Kaust__conda_envs__environment_diffusers_3090.yml": ":24: not valid YAML: found character '\\t'",
    "UlrikFriisJensen__CHILI__environment.yml": ":33: not valid YAML: expected <block end>, but found '?'",
}


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(ROOT / "matrix.yaml")


def run(matrix: Matrix, name: str) -> ValidateReport:
    return validate_env(read_env_file(CORPUS / name, lenient=True), matrix, None, TODAY)


def test_every_corpus_file_has_expectations() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".yml", ".yaml")}
    listed = {line.split("\t")[0] for line in (CORPUS / "SOURCES.tsv").read_text().splitlines()[1:] if line}
    assert files == listed
    assert files == set(EXPECTED) | set(INVALID_YAML)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(matrix: Matrix, name: str) -> None:
    r = run(matrix, name)
    assert [(f.severity, f.line, f.code) for f in r.findings] == EXPECTED[name], [f.to_json() for f in r.findings]
    assert all(f.message for f in r.findings)


@pytest.mark.parametrize("name", sorted(INVALID_YAML))
def test_invalid_yaml_says_where(name: str) -> None:
    with pytest.raises(InputError) as info:
        read_env_file(CORPUS / name, lenient=True)
    assert INVALID_YAML[name] in str(info.value) and info.value.exit_code == 2


# ---- one real file per class of the issue: the message says what an engineer needs ------------------------


def message(matrix: Matrix, name: str, code: str) -> str:
    r = run(matrix, name)
    found = [f for f in r.findings if f.code == code]
    assert found, (code, [f.code for f in r.findings])
    return found[0].message + " || " + (found[0].hint or "")


def test_two_cuda_majors_are_one_error_naming_both_sides(matrix: Matrix) -> None:
    text = message(matrix, "ansontwk__DeepVIC__DeepVIC.yml", "cuda-major-conflict")
    assert "CUDA 12:" in text and "CUDA 11:" in text and "cudatoolkit=11.8.0" in text and "cuda=12.4.1" in text
    r = run(matrix, "ansontwk__DeepVIC__DeepVIC.yml")
    assert sum(f.code in ("cuda-major-conflict", "cudnn-cuda-mismatch") for f in r.findings) == 1


def test_framework_default_builds_are_cuda_evidence(matrix: Matrix) -> None:
    # onnxruntime-gpu==1.17.1 from PyPI is a CUDA 11.8 build: on the CUDA 11 side of skyrim's conflict
    assert "onnxruntime-gpu==1.17.1, a CUDA 11.8 build on PyPI" in message(
        matrix, "secondlaw-ai__skyrim__environment_cuda12.yml", "cuda-major-conflict")
    # tensorflow 2.16.1 was built with CUDA 12.3, torch==1.5.1 from PyPI is a CUDA 10.2 build
    from envkit.validate.evidence import collect

    for name, package, cuda in (("stevenygd__jax-diffusion__environment-jax.yml", "tensorflow", "12.3"),
                                ("polimi-ispl__GAN-image-detection__environment.yml", "torch", "10.2")):
        evidence, _ = collect(read_env_file(CORPUS / name, lenient=True))
        assert [e.version for e in evidence if e.origin == "pypi-default" and e.package == package] == [cuda]


def test_channel_qualified_and_label_specs_are_read(matrix: Matrix) -> None:
    r = run(matrix, "facebookresearch__dinov2__conda.yaml")  # pytorch::pytorch-cuda=11.7.0
    assert r.stack["cuda"]["version"] == "11.7" and r.stack["cuda"]["line"] == 11
    r = run(matrix, "roitberg-group__legolas__legolas_env.yaml")  # nvidia/label/cuda-11.8.0::cuda-toolkit
    assert r.stack["cuda"]["version"] == "11.8"


def test_eol_cuda_severity_is_the_same_for_11_x_and_10_x(matrix: Matrix) -> None:
    sev = {name: [f.severity for f in run(matrix, name).findings if f.code == "eol-cuda"]
           for name in ("NVlabs__stylegan3__environment.yml", "facebookresearch__dinov2__conda.yaml",
                        "polimi-ispl__GAN-image-detection__environment.yml")}  # 11.1, 11.7, 10.2
    assert sev == {k: ["warning"] for k in sev}
    assert "move to CUDA 11.8" in message(matrix, "NVlabs__stylegan3__environment.yml", "eol-cuda")


def test_hints_fit_the_file(matrix: Matrix) -> None:
    # a CUDA 10.1 file gets no CUDA 12 advice; a pip local version gets the index that serves it
    for f in run(matrix, "theAIGuysCode__yolov4-deepsort__conda-gpu.yml").findings:
        assert "cu12" not in (f.hint or "") and "CUDA 12" not in (f.hint or "")
    assert "https://download.pytorch.org/whl/cu113" in message(matrix, "xuekt98__BBDM__environment.yml",
                                                               "pip-local-version")
    # the conda TensorRT that will not solve gets a TensorRT that installs for the file's CUDA 11
    assert "CUDA 11: TensorRT" in message(matrix, "LHgoforit__EFANet__environment.yml", "route-expected-to-fail")


def test_python_eol_depends_on_the_day(matrix: Matrix) -> None:
    env = read_env_file(CORPUS / "roitberg-group__legolas__legolas_env.yaml", lenient=True)
    assert "eol-python" in validate_env(env, matrix, None, TODAY).codes()
    assert "eol-python" not in validate_env(env, matrix, None, date(2026, 1, 1)).codes()  # 3.10: October 2026


def test_readme_lists_every_finding_code() -> None:
    """Every code a validate rule can emit is in README's table (read from the rules' source, not run)."""
    import ast

    codes: set[str] = set()
    for path in (ROOT / "envkit" / "validate").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and len(node.args) >= 3:
                f = node.func
                if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in ("add", "Finding"):
                    arg = node.args[2]
                    options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                    codes |= {o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)}
    readme = (ROOT / "README.md").read_text()
    assert len(codes) > 40
    assert [c for c in sorted(codes) if c not in readme] == []


# ---- reading the way conda tools do, on real files (tests/data/envfiles/reading/SOURCES.tsv) -------------------
READING = ROOT / "tests" / "data" / "envfiles" / "reading"


def test_micromamba_selector_is_read_and_said(matrix: Matrix) -> None:
    r = validate_env(read_env_file(READING / "community-science__leibniz__environment.yml", lenient=True), matrix,
                     None, TODAY)
    assert [(f.severity, f.line, f.code) for f in r.findings] == [
        ("info", 12, "selector"),  # `sel(linux): pytorch-cuda=12.4`: micromamba applies it, conda has no selectors
        ("info", 14, "pip-unseen"),  # "-e .[dev]"
    ]
    assert r.stack["cuda"]["version"] == "12.4"  # the Linux entry counts for the linux-64 checks


def test_python_3_means_any_3_x(matrix: Matrix) -> None:
    r = validate_env(read_env_file(READING / "tbretl__ae353-sp21__examples_ae353-bullet.yml", lenient=True), matrix,
                     None, TODAY)
    assert r.findings == []  # not "Python 3.0" (end of life in 2009), and no GPU stack to judge
    assert r.stack["python"]["version"] is None and r.stack["python"]["major"] == 3


def test_platform_specific_file_against_another_machine(matrix: Matrix) -> None:
    """An aarch64 export checked against the real x86-64 H200 machine (doctor --json of the GPU run) is a
    warning; the same file against a Jetson (real nvgpu capture) is not a mismatch."""
    from envkit.host.parse import read_capture

    env = read_env_file(CORPUS / "ZaneHe0528__boat4090__environment_jetson.yml", lenient=True)
    smi = ROOT / "tests" / "data" / "nvidia-smi"
    x86 = read_capture(smi / "gpu-run-2026-11-22" / "doctor.json", cc_lookup=matrix.compute_capability_for)
    found = [f for f in validate_env(env, matrix, x86, TODAY).findings if f.code == "platform-mismatch"]
    assert [(f.severity, f.line) for f in found] == [("warning", None)]
    assert "linux-aarch64" in found[0].message and "the machine is linux-64" in found[0].message
    jetson = read_capture(smi / "jetson" / "orin-nvgpu-540.4.0.txt", cc_lookup=matrix.compute_capability_for)
    assert "platform-mismatch" not in validate_env(env, matrix, jetson, TODAY).codes()
