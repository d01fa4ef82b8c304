"""`envkit matrix --check`: one test per rule of envkit.matrix.check_rules, each on a one-edit copy of the real
matrix (the edit introduces exactly the contradiction the rule exists for)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.matrix.check import Finding
from envkit.matrix.check_rules import RULES
from envkit.matrix.load import check_matrix, load_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "matrix.yaml"

T82 = '  - version: "8.2"\n    full_version: "8.2.5.1"\n    other_versions: ["8.2.1.8"]\n    legacy: true\n'
T108 = '    full_version: "10.8.0.43"\n    cuda: ["11.8", ">=12.0,<12.9"]\n    cudnn: {required: false, versions: ["8.9"]}\n' \
       '    architectures: ["7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0"]\n'

# rule -> (old text, new text, a phrase of the expected finding)
CASES: dict[str, tuple[str, str, str]] = {
    "sources": ("    source: [PYPI-JSON-BINDINGS, PYPI-JSON-BINDINGS11, TRTRN1080,", "    source: [PYPI-JSON-BINDINGS, PYPI-JSON-BINDINGS11, TRTRN1800,",
                "unknown source key 'TRTRN1800'"),
    "duplicates": ('    full_version: "10.9.0.34"\n', '    full_version: "10.9.0.34"\n    other_versions: ["10.8.0.43"]\n',
                   "claimed by two lines"),
    "gpu-names": ('{name: "NVIDIA A30", compute_capability', '{name: "NVIDIA A30", aliases: ["A10"], compute_capability',
                  "is already defined"),
    "cuda": ('  - {version: "12.0", min_driver: {linux: "525.60.13", windows: "527.41"}, architectures: ["5.0",',
             '  - {version: "12.0", min_driver: {linux: "525.60.13", windows: "527.41"}, architectures: ["3.7", "5.0",',
             "below its major's floor 5.0"),
    "cudnn": ("pip: {cu11: nvidia-cudnn-cu11, cu12: nvidia-cudnn-cu12}\n    source: [CUDNN896",
              "pip: {cu11: nvidia-cudnn-cu11, cu12: nvidia-cudnn-cu12, cu13: nvidia-cudnn-cu13}\n    source: [CUDNN896",
              "supports no CUDA 13.x"),
    "tensorrt": ('    full_version: "10.9.0.34"\n', '    full_version: "10.9.0.34"\n    other_versions: ["11.0.0.1"]\n',
                 "is not a release of the 10.9 line"),
    "routes": ("    pip_indexes: [pypi, nvidia]\n", "    pip_indexes: [pypi, nvidai]\n", "unknown pip index 'nvidai'"),
    "ngc": ('    tensorrt: "8.5.2.2"', '    tensorrt: "6.2.0.5"', "no TensorRT line matches '6.2.0.5'"),
    "jetpack": ('{version: "6.2", l4t: "36.4.3", cuda: "12.6"', '{version: "6.2", l4t: "36.4.3", cuda: "12.7"',
                "no CUDA release matches '12.7'"),
    "ngc-architecture": ('    min_compute_capability: "7.0"     # the sibling', '    min_compute_capability: "6.0"     # the sibling',
                         "below its TensorRT 10.0's minimum 7.0"),
    "cudnn-coverage": (T82 + '    cuda: ["10.2", ">=11.0,<11.6"]', T82 + '    cuda: ["10.2", ">=11.0,<11.8"]',
                       "TensorRT 8.2 allows CUDA 11.6, 11.7 but its cuDNN 8.2 has no build for them"),
    "architecture-coverage": (T108, T108.replace('"12.0"]', '"12.0", "12.1"]'),
                              "TensorRT 10.8 lists compute capability 12.1 but none of its CUDA releases"),
    "precision-scope": ("    precisions: {fp4: unsupported}   # FP4 arrived in TensorRT 10.8 (TRTRN1080)\n",
                        '    precisions: {fp4: "10.0"}\n',
                        "fp4 from compute capability 10.0, above TensorRT 10.0's newest 9.0"),
    "legacy-consistency": (T82, T82.replace("    legacy: true\n", ""), "TensorRT 8.2 is current but every CUDA"),
}


def findings_after(tmp_path: Path, old: str, new: str) -> list[Finding]:
    text = REAL.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path = tmp_path / "matrix.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return check_matrix(load_matrix(path, check=False))


def test_every_rule_has_a_case() -> None:
    assert {name for name, _ in RULES} == set(CASES)


def test_the_shipped_matrix_has_no_errors() -> None:
    found = check_matrix(load_matrix(REAL, check=False))
    assert [str(f) for f in found if f.severity == "error"] == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_finds_its_contradiction(tmp_path: Path, rule: str) -> None:
    old, new, phrase = CASES[rule]
    hits = [f for f in findings_after(tmp_path, old, new) if f.rule == rule and phrase in f.message]
    assert hits, [str(f) for f in findings_after(tmp_path, old, new) if f.severity != "info"]
    assert hits[0].severity == "error" and hits[0].line is not None and hits[0].file == str(tmp_path / "matrix.yaml")
