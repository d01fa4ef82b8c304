"""Every real error text in shared/corpus/errors is explained: the class of SOURCES.tsv leads, the facts
named in the message are extracted, and a fix is given. Expected facts are listed per file below; a file
not listed (a later addition) is still checked for its class and a fix."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from shared_data import require_shared, shared_dir

from envkit.explain import explain_stream

# SOURCES.tsv's class numbers -> the catalogue's classes
CLASSES = {"1": "nvidia-driver", "2": "cuda", "3": "cudnn", "4": "tensorrt-install", "5": "trt-engine",
           "6": "trt-build", "7": "solve"}

FACTS: dict[str, dict[str, str]] = {
    "1-nvml-driver-library-mismatch-ci-log": {"nvml_library": "550.144"},
    "1-smi-failed-dmesg-nouveau-probe": {"devices": "3"},
    "1-unable-detect-device-handle-gpu-pv-vm": {"pci_bus": "0000:B1:00.0"},
    "1-unable-determine-device-handle-unknown-error": {"pci_bus": "0000:0B:00.0"},
    "2-cuda-driver-insufficient-bladebit": {"driver_version": "515.48.07", "driver_supports_cuda": "11.7"},
    "2-cudart64-110-dll-not-found-windows-tf": {"lib": "cudart64_110.dll", "lib_major": "11"},
    "2-driver-too-old-11040-gtx1050ti": {"driver_cuda": "11.4"},
    "2-forward-compat-non-supported-hw-2080ti": {"driver_version": "470.57.02"},
    "2-is-available-false-driver-too-old-colab": {"driver_cuda": "10.1"},
    "2-libcudart-so-11-0-missing-paddle": {"lib": "libcudart.so.11.0", "lib_major": "11"},
    "2-sm86-not-compatible-rtx3090": {"gpu_cc": "8.6", "gpu_sm": "sm_86"},
    "2-sm89-not-compatible-rtx4090-torch181": {"gpu_cc": "8.9", "arch_list": "sm_37 sm_50 sm_60 sm_70"},
    "3-cudnn-version-incompatibility-850-vs-841": {"compiled_cudnn": "8.5.0", "runtime_cudnn": "8.4.1"},
    "3-cudnn-version-incompatibility-ld-library-path": {"compiled_cudnn": "8.3.2", "runtime_cudnn": "8.0.3"},
    "3-libcudnn-cnn-infer-so8-libcuda-missing": {"lib": "libcudnn_cnn_infer.so.8", "missing": "libcuda.so"},
    "3-libcudnn-cnn-infer-so8-libnvrtc-missing": {"lib": "libcudnn_cnn_infer.so.8", "missing": "libnvrtc.so"},
    "3-libcudnn-ops-infer-so8-faster-whisper": {"lib": "libcudnn_ops_infer.so.8", "lib_major": "8"},
    "3-ort-cuda-provider-libcudnn-so8-missing": {"lib": "libcudnn.so.8", "lib_major": "8"},
    "3-unable-to-load-libcudnn-ops-so9": {"lib_major": "9"},
    "4-libnvinfer-so8-error-loading-shared-libraries": {"lib": "libnvinfer.so.8", "lib_major": "8"},
    "4-modulenotfound-tensorrt-though-pip-satisfied": {"module": "tensorrt"},
    "4-ort-trt-ep-libnvinfer-so10-devcontainer": {"lib": "libnvinfer.so.10", "lib_major": "10"},
    "4-ort-trt-ep-libnvinfer-so8-wsl2-pip-trt": {"lib": "libnvinfer.so.8"},
    "4-pip-no-matching-distribution-tensorrt-libs-861": {"package": "tensorrt-libs", "trt_version": "8.6.1"},
    "4-pip-tensorrt-cu12-failed-building-wheel-py313": {"trt_version": "10.4.0", "python_unsupported": "3.13"},
    "4-pip-tensorrt-libs-9-build-fails-py312": {"trt_version": "9.0.1.post11.dev4", "python": "3.12"},
    "4-trt-cuda-initialization-failure-error-35-docker": {"trt_version": "8.6.0"},
    "5-myelin-version-mismatch-cublas-linked-vs-loaded": {"built": "11.4.1.0", "running": "11.2.1.0"},
    "5-plan-incompatible-device-compute-61-vs-75": {"device_cc": "6.1", "plan_cc": "7.5"},
    "5-plan-incompatible-device-compute-72-vs-87-jetson": {"device_cc": "7.2", "plan_cc": "8.7"},
    "5-plan-not-compatible-library-515-vs-516-torch2trt": {"runtime_trt": "5.1.5", "plan_trt": "5.1.6"},
    "5-version-tag-does-not-match-0-vs-97-orin-nx": {"current_tag": "0", "engine_tag": "97"},
    "5-version-tag-does-not-match-cudnn-linked-warning": {"engine_tag": "97"},
    "6-could-not-find-implementation-scatternd-myelin": {"node": "{ForeignNode[data...scatternd_1]}"},
    "6-int64-weights-attribute-not-found-axes-opset13": {"attribute": "axes", "opset": "13"},
    "6-no-importer-registered-for-op-gather-trt5": {"op": "Gather", "opset": "9"},
    "6-no-importer-registered-for-op-mish-opset9": {"op": "Mish"},
    "6-out-of-memory-could-not-find-implementation-workspace-trt7": {"node": "conv0_fwd"},
    "7-conda-env-create-packagesnotfound-cudatoolkit-121": {"needs_cuda": "12.1"},
    "7-conda-env-create-pip-failed-torch-cu116": {"package": "torch", "tag": "cu116"},
    "7-libmamba-unsatisfiable-pytorch-cuda-121-vs-torchaudio-cu117": {"needs_cuda": "11.7", "requested_cuda": "12.1"},
    "7-mamba-cudatoolkit-constraint-cuda-conflicts-driver-102": {"needs_cuda": "11.6", "have_cuda": "10.2"},
    "7-mamba-nothing-provides-cuda-cpu-builder": {"needs_cuda": "11.2"},
    "7-packagesnotfound-cudatoolkit-on-osx64": {"no_cuda_platform": "osx-64"},
    "7-unsatisfiable-incompatible-with-cuda-driver-102": {"have_cuda": "10.2"},
}


def _rows() -> list[dict[str, str]]:
    shared = shared_dir()
    if shared is None:
        return [{"file": "<shared missing>", "class": ""}]
    with (shared / "corpus" / "errors" / "SOURCES.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"].split("__")[0])
def test_corpus_file_is_explained(row: dict[str, str]) -> None:
    path = require_shared() / "corpus" / "errors" / row["file"]
    with path.open("rb") as fh:
        result = explain_stream(fh)
    assert result.diagnoses, f"{row['file']}: no diagnosis"
    lead = result.diagnoses[0]
    assert lead.cls == CLASSES[row["class"]], (row["file"], [(d.id, d.cls) for d in result.diagnoses])
    assert lead.severity == "error"
    assert lead.fixes, f"{row['file']}: no fix"
    assert lead.lines and lead.quotes
    assert all(s.startswith("https://") for s in lead.sources)
    for key, value in FACTS.get(row["file"].split("__")[0], {}).items():
        assert lead.facts.get(key) == value, (row["file"], key, lead.facts)


def test_every_listed_expectation_names_a_corpus_file() -> None:
    shared = require_shared()
    stems = {p.name.split("__")[0] for p in (shared / "corpus" / "errors").glob("*.txt")}
    assert set(FACTS) <= stems


def test_corpus_files_are_all_in_sources() -> None:
    shared = require_shared()
    listed = {r["file"] for r in _rows()}
    on_disk = {p.name for p in Path(shared / "corpus" / "errors").glob("*.txt")}
    assert on_disk == listed
