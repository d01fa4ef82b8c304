"""The shipped matrix.yaml: it passes --check, every record is sourced, and spot-checked facts hold."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from envkit.matrix.load import check_matrix, load_matrix
from envkit.matrix.model import Matrix
from envkit.versions import in_any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "nvidia-smi" / "EXPECTED.tsv"


@pytest.fixture(scope="module")
def m() -> Matrix:
    return load_matrix(ROOT / "matrix.yaml")


def test_shipped_matrix_passes_check(m: Matrix) -> None:
    errors = [str(f) for f in check_matrix(m) if f.severity == "error"]
    assert errors == []


def test_every_record_has_a_source_url(m: Matrix) -> None:
    data = m.to_json()
    for section in ("cuda", "cuda_majors", "tensorrt", "cudnn", "routes", "precisions", "gpus", "ngc", "jetpack"):
        assert data[section], section
        for rec in data[section]:
            assert rec["source"], (section, rec)
            assert all(u.startswith("https://") for u in rec["source"]), (section, rec)


def test_counts(m: Matrix) -> None:
    assert len(m.tensorrt) >= 24 and len(m.cuda) >= 13 and len(m.cudnn) >= 5 and len(m.gpus) >= 40
    assert {"24.05-py3"} <= {n.tag for n in m.ngc}
    assert m.cuda_release("12.7") is None  # no CUDA 12.7 exists


def test_cuda_facts(m: Matrix) -> None:
    assert m.min_driver("12.8") == "570.26"
    assert m.min_driver("11.8") == "520.61.05"
    assert m.min_driver("13.0") == "580.65.06"
    assert m.minor_compat_driver("12.4") == "525.60.13"
    assert m.minor_compat_driver("11.8") == "450.80.02"
    assert m.minor_compat_driver("13.1") == "580.65.06"
    assert m.cuda_min_cc(m.cuda_release("13.0")) == "7.5"  # type: ignore[arg-type]
    assert m.cuda_min_cc(m.cuda_release("12.0")) == "5.0"  # type: ignore[arg-type]
    assert m.cuda_majors[11].conda_packages == ("cudatoolkit={version}",)
    assert m.cuda_majors[13].pip_packages == ("nvidia-cuda-runtime=={version}.*",)


def test_tensorrt_facts(m: Matrix) -> None:
    t85, t86 = m.tensorrt_release("8.5"), m.tensorrt_release("8.6")
    assert t85 and t86 and t85.full_version == "8.5.3.1" and t86.full_version == "8.6.1.6"
    assert t85.cudnn_required and t86.cudnn_required
    for t in m.tensorrt:
        if t.major >= 10:
            assert not t.cudnn_required, t.version
    t105 = m.tensorrt_release("10.5")
    assert t105 and t105.min_compute_capability == "7.5"
    assert m.tensorrt_release("10.3").min_compute_capability == "7.0"  # type: ignore[union-attr]
    assert m.tensorrt_release("10.8").max_compute_capability == "12.0"  # type: ignore[union-attr]
    assert m.tensorrt_release("10.7").max_compute_capability == "9.0"  # type: ignore[union-attr]
    # 10.13.0 is the last CUDA 11 release; 10.13.2+ has CUDA 13 and no tensorrt-cu11
    assert m.tensorrt_release("10.13").full_version == "10.13.3.9"  # type: ignore[union-attr]
    assert m.tensorrt_release("10.13.0").full_version == "10.13.0.35"  # type: ignore[union-attr]
    for t in m.tensorrt:
        cu11 = in_any(t.cuda, "11.8")
        route_majors = {mj for r in t.routes for mj in r.cuda_majors}
        if t.major >= 11 or t.version in ("10.13.3", "10.14", "10.15", "10.16"):
            assert not cu11 and 11 not in route_majors, t.version
            assert in_any(t.cuda, "13.0"), t.version
        if t.version == "10.13.0":
            assert cu11 and not in_any(t.cuda, "13.0")
    assert "3.14" in m.tensorrt_release("11.4").python  # type: ignore[union-attr]
    assert "3.13" not in m.tensorrt_release("10.8").python  # type: ignore[union-attr]
    assert m.tensorrt_release("11.5") is None  # docs only, not on PyPI


def test_routes(m: Matrix) -> None:
    assert set(m.routes) == {"pypi-wheel", "pypi-nvidia", "conda-forge", "nvidia-conda"}
    assert m.routes["pypi-nvidia"].pip_indexes == ("pypi", "nvidia")
    assert m.routes["conda-forge"].pip_indexes == ("pypi",)
    cf = [t.version for t in m.tensorrt if any(r.route == "conda-forge" for r in t.routes)]
    assert cf == ["10.16", "11.3"]  # the feedstock's recipes
    t85 = m.tensorrt_release("8.5")
    assert t85 and [r.route for r in t85.routes] == ["pypi-wheel"]
    t100 = m.tensorrt_release("10.0")
    assert t100 and t100.routes[0].pip == ("tensorrt-cu{cuda_major}==10.0.1",)  # the PyPI version


def test_precisions(m: Matrix) -> None:
    assert m.precision_floor("fp8") == "8.9"
    assert m.precision_floor("bf16") == "8.0"
    assert m.precision_floor("fp4") == "10.0"
    assert m.supports_precision("fp16", "6.1") is False
    assert m.supports_precision("fp16", "7.5") is True
    assert m.supports_precision("int8", "6.1") is True
    assert m.supports_precision("fp8", "8.6") is False


def test_ngc(m: Matrix) -> None:
    s = m.ngc_stack("24.05")
    assert s and s.tensorrt == "10.0.1.6" and s.cuda == "12.4.1" and s.cudnn == "9.1.0.70" and s.python == "3.10"


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA H200", "9.0"),
        ("Tesla T4", "7.5"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA A10", "8.6"),
        ("NVIDIA A10G", "8.6"),
        ("NVIDIA L40S", "8.9"),
        ("NVIDIA L4", "8.9"),
        ("NVIDIA B200", "10.0"),
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("NVIDIA GeForce RTX 4080 SUPER", "8.9"),
        ("NVIDIA GeForce RTX 3060 Laptop GPU", "8.6"),
        ("NVIDIA RTX 6000 Ada Generation", "8.9"),
        ("Quadro RTX 6000", "7.5"),
        ("NVIDIA RTX 4000 SFF Ada Generation", "8.9"),
        ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "12.0"),
        ("NVIDIA RTX A5000", "8.6"),
        ("NVIDIA TITAN V", "7.0"),
        ("Tesla P100-PCIE-16GB", "6.0"),
        ("GRID P4-1Q", "6.1"),
        ("Jetson AGX Orin", "8.7"),
        ("Graphics Device", None),
    ],
)
def test_gpu_lookup(m: Matrix, name: str, cc: str | None) -> None:
    assert m.compute_capability_for(name) == cc


@pytest.mark.skipif(not CORPUS.is_file(), reason="shared nvidia-smi corpus not present")
def test_gpu_lookup_agrees_with_corpus(m: Matrix) -> None:
    rows = list(csv.DictReader(CORPUS.open(encoding="utf-8"), delimiter="\t"))
    checked = 0
    for row in rows:
        cc = row["compute_cap_if_present"]
        if cc and cc != "-":
            assert m.compute_capability_for(row["first_gpu_name"]) == cc, row
            checked += 1
    assert checked >= 3
    named = {r["first_gpu_name"] for r in rows if not r["first_gpu_name"].endswith("...")}
    known = [n for n in named if m.compute_capability_for(n)]
    assert len(known) >= len(named) - 3  # only "-", "Graphics Device" and similar stay unknown


# --- audit 2026-11-22 (docs/matrix-audit.md): one spot check per corrected or confirmed fact ---

@pytest.mark.parametrize(
    ("cuda", "driver"),
    [
        ("11.8", "520.61.05"), ("12.0", "525.60.13"), ("12.1", "530.30.02"), ("12.2", "535.54.03"),
        ("12.3", "545.23.06"), ("12.4", "550.54.14"), ("12.5", "555.42.02"), ("12.6", "560.28.03"),
        ("12.8", "570.26"), ("12.9", "575.51.03"), ("13.0", "580.65.06"), ("13.1", "590.44.01"),
        ("13.2", "595.45.04"),
    ],
)
def test_audit_cuda_ga_drivers_from_table3(m: Matrix, cuda: str, driver: str) -> None:
    rel = m.cuda_release(cuda)
    assert rel and rel.min_driver["linux"] == driver
    assert "CUDARN1322" in rel.meta.source
    assert not (rel.meta.unconfirmed or "").lower().count("driver 5")  # GA driver no longer marked unconfirmed


def test_audit_cuda_13_3_driver_stays_unconfirmed(m: Matrix) -> None:
    rel = m.cuda_release("13.3")
    assert rel and rel.min_driver["linux"] == "610.43.02" and rel.meta.unconfirmed
    assert "Table 3" in rel.meta.unconfirmed


def test_audit_minor_compat_floors(m: Matrix) -> None:
    assert m.cuda_majors[11].minor_compat_min_driver == {"linux": "450.80.02", "windows": "452.39"}
    assert m.cuda_majors[12].minor_compat_min_driver == {"linux": "525.60.13", "windows": "527.41"}
    assert m.cuda_majors[13].minor_compat_min_driver["linux"] == "580.65.06"


def test_audit_cuda_compute_capability_ranges(m: Matrix) -> None:
    def rel(v: str):
        r = m.cuda_release(v)
        assert r is not None, v
        return r
    assert rel("11.8").max_compute_capability == "9.0"
    assert rel("12.6").max_compute_capability == "9.0"
    assert rel("12.8").max_compute_capability == "12.0"  # Blackwell sm_100/sm_120 first in 12.8
    assert rel("12.9").max_compute_capability == "12.1" and rel("12.9").meta.unconfirmed is None  # sm_103, sm_121
    assert rel("13.0").max_compute_capability == "12.1" and rel("13.0").meta.unconfirmed is None
    assert m.cuda_min_cc(rel("13.0")) == "7.5"  # Maxwell/Pascal/Volta removed
    assert m.cuda_min_cc(rel("12.9")) == "5.0"


def test_audit_cudnn_records(m: Matrix) -> None:
    c917 = m.cudnn_release("9.17")
    assert c917 and c917.full_version == "9.17.0.29" and c917.meta.unconfirmed is None
    assert in_any(c917.cuda, "12.0") and in_any(c917.cuda, "12.9") and in_any(c917.cuda, "13.1")
    assert not in_any(c917.cuda, "13.2") and not in_any(c917.cuda, "11.8")
    assert c917.min_compute_capability == "7.5" and c917.max_compute_capability == "12.0"
    c90 = m.cudnn_release("9.0")
    assert c90 and c90.full_version == "9.0.0.312" and c90.meta.unconfirmed is None
    assert in_any(c90.cuda, "12.3") and not in_any(c90.cuda, "12.4")
    c910 = m.cudnn_release("9.10")
    assert c910 and c910.full_version == "9.10.2.21" and "cu11" in c910.pip and c910.max_compute_capability == "12.0"
    assert "cu11" not in m.cudnn_release("9.17").pip  # type: ignore[union-attr]  # nvidia-cudnn-cu11 ends at 9.10.2.21
    c95 = m.cudnn_release("9.5")
    assert c95 and in_any(c95.cuda, "12.6") and not in_any(c95.cuda, "12.8")
    c91 = m.cudnn_release("9.1")
    assert c91 and c91.full_version == "9.1.0.70" and c91.meta.unconfirmed  # CUDA 12 list cell not read
    c89 = m.cudnn_release("8.9")
    assert c89 and c89.full_version == "8.9.7.29" and in_any(c89.cuda, "12.2") and not in_any(c89.cuda, "12.3")


@pytest.mark.parametrize(
    ("line", "first", "last"),
    [
        ("8.5", "3.6", "3.10"), ("8.6", "3.6", "3.11"), ("10.0", "3.8", "3.12"), ("10.8", "3.8", "3.12"),
        ("10.9", "3.8", "3.13"), ("10.13.0", "3.8", "3.13"), ("10.16", "3.8", "3.13"), ("11.0", "3.8", "3.13"),
        ("11.1", "3.8", "3.14"), ("11.4", "3.8", "3.14"),
    ],
)
def test_audit_python_matches_wheel_tags(m: Matrix, line: str, first: str, last: str) -> None:
    t = m.tensorrt_release(line)
    assert t and t.python[0] == first and t.python[-1] == last, (line, t and t.python)


def test_audit_tensorrt_versions_and_gpu_floors(m: Matrix) -> None:
    def trt(v: str):
        t = m.tensorrt_release(v)
        assert t is not None, v
        return t
    assert trt("8.6").pip_version == "8.6.1.post1"
    assert trt("10.0").pip_version == "10.0.1" and trt("10.0").min_compute_capability == "7.0"
    assert trt("10.1").min_compute_capability == "7.0" and in_any(trt("10.1").cuda, "12.4")
    assert not in_any(trt("10.1").cuda, "12.5")
    assert trt("10.4").min_compute_capability == "7.0" and trt("10.5").min_compute_capability == "7.5"
    assert trt("10.7").max_compute_capability == "9.0" and trt("10.8").max_compute_capability == "12.0"
    assert trt("10.14").pip_version == "10.14.1.48.post1"
    assert trt("10.13.0").full_version == "10.13.0.35"
    cu11 = [t.version for t in m.tensorrt if any(11 in r.cuda_majors for r in t.routes)]
    assert cu11[-1] == "10.13.0"  # tensorrt-cu11 ends at 10.13.0.35
    cu13 = [t.version for t in m.tensorrt if any(13 in r.cuda_majors for r in t.routes)]
    assert cu13[0] == "10.13.2"  # tensorrt-cu13 starts at 10.13.2.6
    assert m.precision_floor("fp4") == "10.0"


def test_audit_conda_routes(m: Matrix) -> None:
    t86 = m.tensorrt_release("8.6")
    assert t86
    nv = [r for r in t86.routes if r.route == "nvidia-conda"]
    assert nv and nv[0].confidence == "expected-to-fail" and nv[0].notes and "NOT to solve" in nv[0].notes
    assert "no conda TensorRT" in nv[0].reason
    t113 = m.tensorrt_release("11.3")
    assert t113
    cf = [r for r in t113.routes if r.route == "conda-forge"]
    assert cf and cf[0].cuda_majors == (12, 13) and cf[0].conda[0] == "libnvinfer={full_version}"
    assert "CF-TRT-113" in cf[0].source
    assert cf[0].confidence == "unconfirmed" and cf[0].reason == cf[0].unconfirmed
    t85 = m.tensorrt_release("8.5")
    assert t85 and [(r.route, r.confidence) for r in t85.routes] == [("pypi-wheel", "confirmed")]


def test_route_confidence_is_checked() -> None:
    from envkit.errors import MatrixError
    from envkit.matrix.load import loads_matrix

    text = (ROOT / "matrix.yaml").read_text()
    bad = text.replace("        confidence: expected-to-fail\n", "        confidence: maybe\n", 1)
    assert bad != text
    with pytest.raises(MatrixError, match="unknown confidence 'maybe'"):
        loads_matrix(bad)
    no_reason = re.sub(r"        reason: \"NVIDIA ships no conda[^\n]*\n", "", text)
    no_reason = no_reason.replace("        notes: >-\n          expected NOT to solve.", "        notes: >-\n          x", 1)
    assert no_reason != text
    with pytest.raises(MatrixError, match="needs a `reason:`"):
        loads_matrix(no_reason)
