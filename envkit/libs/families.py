"""The GPU library families and which packages provide which sonames.

``providers(soname, cuda_major)`` is the one place that knows "libcudnn.so.9 comes from conda-forge
``cudnn`` or pip ``nvidia-cudnn-cu12``": ``envkit libs`` names it for a missing NEEDED, and validate /
explain / advice can ask it too. Sources (read 2026-12-02):
* conda-forge package names: the feedstocks cuda-cudart, libcublas, libcufft, libcurand, libcusolver,
  libcusparse, cuda-nvrtc, libnvjitlink, cudnn, nccl, libnvinfer (tensorrt-feedstock's outputs
  libnvinfer, libnvinfer-plugin, libnvonnxparser, libnvinfer-lean, libnvinfer-dispatch, libnvinfer-vc-plugin),
  onnxruntime-cpp; matrix.yaml ``cuda_majors[].conda_packages`` for the runtime.
* PyPI names: CUDA 12 wheels carry ``-cu12`` (nvidia-cuda-runtime-cu12 12.9.79, nvidia-cublas-cu12, ...);
  CUDA 13 wheels are unsuffixed (nvidia-cuda-runtime 13.5.37, nvidia-cublas 13.10.0.20, nvidia-cuda-nvrtc,
  nvidia-nvjitlink, nvidia-cufft 12.5.0.14, nvidia-curand 10.4.5.25, nvidia-cusolver 12.4.1.2,
  nvidia-cusparse 12.9.4.2: `pip index versions`, 2026-12-02) except cuDNN and NCCL (nvidia-cudnn-cu13
  9.28.1.4, nvidia-nccl-cu13 2.32.3); matrix.yaml ``cuda_majors[].pip_packages`` and ``cudnn[].pip``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from envkit.libs.elf import stem_of, version_from_name

FAMILIES: dict[str, tuple[str, ...]] = {
    "driver": ("libcuda", "libnvidia-ml"),
    "cudart": ("libcudart",),
    "cublas": ("libcublas", "libcublasLt"),
    "cufft": ("libcufft", "libcufftw"),
    "curand": ("libcurand",),
    "cusolver": ("libcusolver", "libcusolverMg"),
    "cusparse": ("libcusparse",),
    "nvrtc": ("libnvrtc", "libnvrtc-builtins"),
    "nvjitlink": ("libnvJitLink",),
    "cudnn": ("libcudnn", "libcudnn_ops", "libcudnn_cnn", "libcudnn_adv", "libcudnn_graph",
              "libcudnn_engines_precompiled", "libcudnn_engines_runtime_compiled", "libcudnn_heuristic",
              "libcudnn_ops_infer", "libcudnn_ops_train", "libcudnn_cnn_infer", "libcudnn_cnn_train",
              "libcudnn_adv_infer", "libcudnn_adv_train"),
    "nccl": ("libnccl",),
    "tensorrt": ("libnvinfer", "libnvinfer_plugin", "libnvonnxparser", "libnvinfer_lean", "libnvinfer_dispatch",
                 "libnvinfer_vc_plugin", "libnvparsers", "libnvinfer_builder_resource"),
    "onnxruntime": ("libonnxruntime", "libonnxruntime_providers_cuda", "libonnxruntime_providers_tensorrt",
                    "libonnxruntime_providers_shared"),
}
_FAMILY_OF = {stem: fam for fam, stems in FAMILIES.items() for stem in stems}

# soname stem -> conda-forge package (CUDA >= 12; CUDA 11's conda-forge runtime is the cudatoolkit bundle)
_CONDA = {
    "libcudart": "cuda-cudart", "libcublas": "libcublas", "libcublasLt": "libcublas", "libcufft": "libcufft",
    "libcufftw": "libcufft", "libcurand": "libcurand", "libcusolver": "libcusolver", "libcusolverMg": "libcusolver",
    "libcusparse": "libcusparse", "libnvrtc": "cuda-nvrtc", "libnvrtc-builtins": "cuda-nvrtc",
    "libnvJitLink": "libnvjitlink", "libnccl": "nccl", "libnvinfer": "libnvinfer",
    "libnvinfer_plugin": "libnvinfer-plugin", "libnvonnxparser": "libnvonnxparser",
    "libnvinfer_lean": "libnvinfer-lean", "libnvinfer_dispatch": "libnvinfer-dispatch",
    "libnvinfer_vc_plugin": "libnvinfer-vc-plugin", "libonnxruntime": "onnxruntime-cpp",
}
# soname stem -> PyPI base name; CUDA 12 appends -cu12, CUDA 13 none (cuDNN and NCCL: -cu13)
_PIP = {
    "libcudart": "nvidia-cuda-runtime", "libcublas": "nvidia-cublas", "libcublasLt": "nvidia-cublas",
    "libcufft": "nvidia-cufft", "libcufftw": "nvidia-cufft", "libcurand": "nvidia-curand",
    "libcusolver": "nvidia-cusolver", "libcusolverMg": "nvidia-cusolver", "libcusparse": "nvidia-cusparse",
    "libnvrtc": "nvidia-cuda-nvrtc", "libnvrtc-builtins": "nvidia-cuda-nvrtc", "libnvJitLink": "nvidia-nvjitlink",
    "libnccl": "nvidia-nccl",
}
_ALWAYS_SUFFIXED = {"nvidia-nccl", "nvidia-cudnn"}
# sonames whose major is the CUDA major (libcudart.so.12 is CUDA 12); CUDA 11's are 11.x
_CUDA_MAJOR_SONAMES = {"libcudart", "libcublas", "libcublasLt", "libnvrtc", "libnvJitLink"}


@dataclass(frozen=True)
class Provider:
    ecosystem: str  # "conda-forge", "pypi", "nvidia-pypi", "driver"
    package: str
    note: str = ""

    def text(self) -> str:
        return f"{self.ecosystem} {self.package}" + (f" ({self.note})" if self.note else "")


def family_of(name: str) -> str | None:
    """The family of a soname or file name ('libcudnn_ops.so.9' -> 'cudnn'), None for other libraries."""
    return _FAMILY_OF.get(stem_of(os.path.basename(name)))


def soname_major(name: str) -> int | None:
    v = version_from_name(name)
    return int(v.split(".")[0]) if v else None


def cuda_major_of(soname: str) -> int | None:
    """The CUDA major a runtime soname belongs to (libcudart.so.12 -> 12), None when the soname does not say."""
    if stem_of(soname) in _CUDA_MAJOR_SONAMES:
        return soname_major(soname)
    return None


def _pip_name(base: str, cuda: int | None) -> str | None:
    if cuda is None:
        return None
    if cuda >= 13 and base not in _ALWAYS_SUFFIXED:
        return base
    return f"{base}-cu{cuda}"


def providers(soname: str, cuda_major: int | None = None) -> list[Provider]:
    """Packages that install ``soname``: conda-forge first, then PyPI for the CUDA major (from the soname where it
    says, else ``cuda_major``, the environment's stack). Empty for libraries outside the GPU families."""
    stem = stem_of(soname)
    fam = family_of(soname)
    if fam is None:
        return []
    if fam == "driver":
        return [Provider("driver", "the NVIDIA driver", "installed on the host, not in the environment")]
    cuda = cuda_major_of(soname) or cuda_major
    out: list[Provider] = []
    if fam == "cudnn":
        major = soname_major(soname)
        out.append(Provider("conda-forge", f"cudnn={major}" if major else "cudnn"))
        pip = _pip_name("nvidia-cudnn", cuda)
        if pip:
            out.append(Provider("pypi", f"{pip}=={major}.*" if major else pip))
        return out
    if fam == "tensorrt":
        major = soname_major(soname)
        out.append(Provider("conda-forge", f"{_CONDA[stem]}={major}" if major and stem in _CONDA else _CONDA.get(stem, stem)))
        if cuda:
            out.append(Provider("nvidia-pypi", f"tensorrt-cu{cuda}-libs", "https://pypi.nvidia.com"))
        return out
    if fam == "onnxruntime":
        return [Provider("conda-forge", "onnxruntime"), Provider("pypi", "onnxruntime-gpu")]
    if stem in _CONDA:
        out.append(Provider("conda-forge", "cudatoolkit" if cuda == 11 else _CONDA[stem]))
    pip = _pip_name(_PIP[stem], cuda) if stem in _PIP else None
    if pip:
        out.append(Provider("pypi", pip))
    return out
