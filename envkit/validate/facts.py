"""Sourced facts validate needs beyond the TensorRT matrix: which CUDA a framework's default PyPI build
carries, when a Python release reached end of life, which names are PyPI-only.

Each table names where it was read. The framework tables only say which CUDA a release's *default* build
on PyPI was made with (``pip install torch==X`` without an index or local version), which is naming
history of those projects, not a compatibility claim of envkit's own.
"""

from __future__ import annotations

from datetime import date

from envkit.versions import V

# torch: `cuda` in torch/version.py of the manylinux x86_64 wheel on pypi.org, first release of each line,
# read 2026-12-02 (HTTP range reads of https://pypi.org/simple/torch/ files); 1.13-2.10 also Requires-Dist
# nvidia-cuda-runtime-cuNN==X. Before 1.13 the CUDA libraries are inside the wheel.
TORCH_SOURCE = "https://pypi.org/simple/torch/ (torch/version.py of each line's manylinux x86_64 wheel)"
TORCH_PYPI_CUDA = {
    "1.0": "9.0", "1.1": "9.0", "1.2": "10.0", "1.3": "10.1", "1.4": "10.1", "1.5": "10.2", "1.6": "10.2",
    "1.7": "10.2", "1.8": "10.2", "1.9": "10.2", "1.10": "10.2", "1.11": "10.2", "1.12": "10.2", "1.13": "11.7",
    "2.0": "11.7", "2.1": "12.1", "2.2": "12.1", "2.3": "12.1", "2.4": "12.1", "2.5": "12.4", "2.6": "12.4",
    "2.7": "12.6", "2.8": "12.8", "2.9": "12.8", "2.10": "12.8", "2.11": "13.0", "2.12": "13.0", "2.13": "13.0",
    "2.14": "13.0", "2.15": "13.2",
}

# onnxruntime-gpu on PyPI: the CUDA each line was built with. 1.0-1.18 from ONNX Runtime's CUDA EP requirements
# table (ORT_SOURCE); 1.19-1.20 CUDA 12 (the docs: "starting with 1.19, CUDA 12.x becomes the default version
# ... in PyPI"; DT_NEEDED libcudart.so.12 read in the wheels); 1.21+ `cuda_version` of
# onnxruntime/capi/build_and_package_info.py in the wheels on pypi.org (read 2026-12-02).
ORT_SOURCE = "https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html#requirements"
ORT_PYPI_CUDA = {
    "1.0": "10.0", "1.1": "10.0", "1.2": "10.1", "1.3": "10.1", "1.4": "10.1", "1.5": "10.2", "1.6": "10.2",
    "1.7": "11.0", "1.8": "11.0", "1.9": "11.4", "1.10": "11.4", "1.11": "11.4", "1.12": "11.4", "1.13": "11.6",
    "1.14": "11.6", "1.15": "11.8", "1.16": "11.8", "1.17": "11.8", "1.18": "11.8", "1.19": "12", "1.20": "12",
    "1.21": "12.2", "1.22": "12.2", "1.23": "12.2", "1.24": "12.8", "1.25": "12.8", "1.26": "12.8",
    "1.27": "13.0", "1.28": "13.0", "1.29": "13.0", "1.30": "13.0", "1.31": "13.0",
}

# TensorFlow's tested GPU build configurations (CUDA the Linux wheels were built with and need on the system)
TF_SOURCE = "https://www.tensorflow.org/install/source#gpu (tested build configurations, Linux GPU)"
TF_CUDA = {
    "2.0": "10.0", "2.1": "10.1", "2.2": "10.1", "2.3": "10.1", "2.4": "11.0", "2.5": "11.2", "2.6": "11.2",
    "2.7": "11.2", "2.8": "11.2", "2.9": "11.2", "2.10": "11.2", "2.11": "11.2", "2.12": "11.8", "2.13": "11.8",
    "2.14": "11.8", "2.15": "12.2", "2.16": "12.3", "2.17": "12.3",
}

# end of life of each Python release (the CPython developer guide's status table, PEPs 373/478/494/537/569/
# 596/619/664/693/719)
PYTHON_EOL_SOURCE = "https://devguide.python.org/versions/"
PYTHON_EOL = {
    "2.7": date(2020, 1, 1), "3.4": date(2019, 3, 18), "3.5": date(2020, 9, 30), "3.6": date(2021, 12, 23),
    "3.7": date(2023, 6, 27), "3.8": date(2024, 10, 7), "3.9": date(2025, 10, 31), "3.10": date(2026, 10, 31),
    "3.11": date(2027, 10, 31), "3.12": date(2028, 10, 31), "3.13": date(2029, 10, 31), "3.14": date(2030, 10, 31),
}

# names that exist on PyPI but not as conda packages on conda-forge/defaults, with the conda name
PYPI_ONLY = {
    "onnxruntime-gpu": "onnxruntime (conda-forge builds `onnxruntime=*=*cuda*` carry CUDA)",
    "opencv-python": "opencv", "opencv-python-headless": "opencv", "opencv-contrib-python": "opencv",
}

# the pytorch conda channel's last release: PyTorch stopped publishing conda packages after 2.5
# (pytorch-cuda=X pairs only with the pytorch channel's builds)
PYTORCH_CHANNEL_LAST = "2.5.1"
PYTORCH_CHANNEL_SOURCE = "https://github.com/pytorch/pytorch/issues/138506"
# every pytorch-cuda release the pytorch channel published (1.13: 11.6/11.7; 2.0: 11.7/11.8; 2.1-2.3: 11.8/12.1;
# 2.4-2.5: 11.8/12.1/12.4)
PYTORCH_CUDA_VERSIONS = ("11.6", "11.7", "11.8", "12.1", "12.4")
PYTORCH_CUDA_SOURCE = "https://anaconda.org/pytorch/pytorch-cuda/files"

# defaults' `free` channel was dropped from `defaults` in conda 4.7 (2019)
FREE_CHANNEL_SOURCE = "https://docs.conda.io/projects/conda/en/latest/user-guide/configuration/free-channel.html"
PYPI_ONLY_SOURCE = "https://github.com/conda-forge/onnxruntime-feedstock, https://github.com/conda-forge/opencv-feedstock"


def _line(version: str) -> str | None:
    try:
        rel = V(version).release
    except ValueError:
        return None
    return f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}"


def torch_pypi_cuda(version: str) -> str | None:
    line = _line(version)
    return TORCH_PYPI_CUDA.get(line) if line else None


def ort_pypi_cuda(version: str) -> str | None:
    line = _line(version)
    return ORT_PYPI_CUDA.get(line) if line else None


def tf_cuda(version: str) -> str | None:
    line = _line(version)
    return TF_CUDA.get(line) if line else None


def python_eol(version: str) -> date | None:
    line = _line(version)
    return PYTHON_EOL.get(line) if line else None


def oldest_supported_python(today: date) -> str | None:
    alive = [v for v, d in PYTHON_EOL.items() if d > today]
    return min(alive, key=V) if alive else None
