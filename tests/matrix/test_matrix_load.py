"""Bad matrices: each error names the file, the line and the key path (and a did-you-mean where one fits)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envkit.errors import MatrixError
from envkit.matrix.load import check_matrix, load_matrix, loads_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "matrix.yaml"
DATA = Path(__file__).resolve().parents[1] / "data" / "matrix"


def edited(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[Path, int]:
    """Copy the real matrix with one textual edit; returns the path and the 1-based line of the edit."""
    text = REAL.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path = tmp_path / "matrix.yaml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path, line


def raises(path: Path, check: bool = True) -> MatrixError:
    with pytest.raises(MatrixError) as info:
        load_matrix(path, check=check)
    return info.value


def test_typo_key_did_you_mean(tmp_path: Path) -> None:
    path, line = edited(tmp_path, '    full_version: "10.8.0.43"', '    ful_version: "10.8.0.43"')
    err = raises(path)
    assert err.file == str(path) and err.line == line
    assert re.match(rf"{re.escape(str(path))}:{line}: tensorrt\[\d+\]\.ful_version: unknown key", str(err))
    assert err.hint == "did you mean 'full_version'?"


def test_unknown_key(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "  - major: 13\n", "  - major: 13\n    colour: blue\n")
    err = raises(path)
    assert f"{path}:{line + 1}: cuda_majors[4].colour: unknown key 'colour'" in str(err)
    assert err.hint and "allowed keys" in err.hint


def test_wrong_type(tmp_path: Path) -> None:
    path, line = edited(tmp_path, 'python: ["3.8", "3.9", "3.10", "3.11", "3.12"]', "python: yes")
    err = raises(path)
    assert err.line == line and err.key and err.key.endswith(".python")
    assert "expected a list, got the boolean true" in str(err)
    assert str(path) in str(err)


def test_number_instead_of_quoted_version(tmp_path: Path) -> None:
    path, line = edited(tmp_path, '  - version: "12.9"\n', "  - version: 12.9\n")
    err = raises(path)
    assert re.search(rf"{re.escape(str(path))}:{line}: cuda\[\d+\]\.version: expected a string, got the number 12.9",
                     str(err))
    assert err.hint and 'quote it: version: "12.9"' in err.hint


def test_bad_version_syntax(tmp_path: Path) -> None:
    path, line = edited(tmp_path, 'full_version: "10.9.0.34"', 'full_version: "10.9.0.34-ga"')
    err = raises(path)
    assert err.line == line and "expected a version" in str(err)


def test_trt_cuda_spec_matching_no_release(tmp_path: Path) -> None:
    path, line = edited(tmp_path, 'cuda: ["11.8", ">=12.0,<12.9"]', 'cuda: ["11.8", ">=12.10,<13"]')
    err = raises(path)
    assert re.search(rf"{re.escape(str(path))}:{line}: tensorrt\[\d+\]\.cuda\[1\]: no CUDA release matches '>=12.10,<13'",
                     str(err))
    assert "11.8, 12.0" in str(err)
    # --check reports it as a finding instead of raising
    m = load_matrix(path, check=False)
    errors = [f for f in check_matrix(m) if f.severity == "error"]
    assert errors[0].line == line and errors[0].key.endswith(".cuda[1]")
    assert any("CUDA 12 is not a CUDA major TensorRT 10.8 supports" in f.message for f in errors)


def test_missing_source_key(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "    source: [PYPI-JSON-BINDINGS, PYPI-JSON-BINDINGS11, TRTRN1080, PYPI-TRT-CU12, PYPI-TRT-CU11]",
                        "    source: [PYPI-JSON-BINDINGS, PYPI-JSON-BINDINGS11, TRTRN1800, PYPI-TRT-CU12, PYPI-TRT-CU11]")
    err = raises(path)
    assert re.search(rf":{line}: tensorrt\[\d+\]\.source\[2\]: unknown source key 'TRTRN1800'", str(err))
    assert err.hint and "did you mean" in err.hint


def test_source_not_url(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "  CUDAGPUS: https://developer.nvidia.com/cuda-gpus", "  CUDAGPUS: developer.nvidia.com")
    err = raises(path)
    assert f":{line}: sources.CUDAGPUS: source 'CUDAGPUS' is not a URL" in str(err)


def test_unknown_route(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "      - route: pypi-wheel\n", "      - route: pypi-wheels\n")
    err = raises(path)
    assert re.search(rf":{line}: tensorrt\[\d+\]\.routes\[0\]\.route: unknown route 'pypi-wheels'", str(err))
    assert err.hint == "did you mean 'pypi-wheel'?"


def test_route_major_not_supported(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "        cuda_majors: [11]\n", "        cuda_majors: [12]\n")
    err = raises(path)
    assert re.search(rf":{line}: tensorrt\[\d+\]\.routes\[0\]\.cuda_majors\[0\]: CUDA 12 is not a CUDA major "
                     "TensorRT 8.5", str(err))


def test_duplicate_version_and_decreasing_driver(tmp_path: Path) -> None:
    path, line = edited(tmp_path, '{version: "12.3", min_driver: {linux: "545.23.06", windows: "545.84"}',
                        '{version: "12.3", min_driver: {linux: "500.1", windows: "545.84"}')
    m = load_matrix(path, check=False)
    msgs = [str(f) for f in check_matrix(m) if f.severity == "error"]
    assert any(re.search(rf":{line}: cuda\[\d+\]\.min_driver\.linux: CUDA 12.3 needs driver 500.1, lower than "
                         "CUDA 12.2", s) for s in msgs), msgs
    path, line = edited(tmp_path, '  - version: "10.9"\n', '  - version: "10.8"\n')
    msgs = [str(f) for f in check_matrix(load_matrix(path, check=False)) if f.severity == "error"]
    assert any("duplicate TensorRT release '10.8'" in s and f":{line}:" in s for s in msgs), msgs


def test_min_cc_above_max(tmp_path: Path) -> None:
    path, _line = edited(tmp_path, '    min_compute_capability: "5.0"\n    max_compute_capability: "9.0"',
                        '    min_compute_capability: "9.5"\n    max_compute_capability: "9.0"')
    msgs = [str(f) for f in check_matrix(load_matrix(path, check=False))]
    assert any(re.search(r"cudnn\[\d+\]\.max_compute_capability: max compute capability 9.0 is below the minimum 9.5", s)
               for s in msgs), msgs


def test_full_version_prefix(tmp_path: Path) -> None:
    path, line = edited(tmp_path, 'full_version: "10.9.0.34"', 'full_version: "10.8.0.34"')
    err = raises(path)
    assert f":{line}:" in str(err) and "full_version 10.8.0.34 does not start with 10.9" in str(err)


def test_ngc_unknown_trt_line(tmp_path: Path) -> None:
    path, line = edited(tmp_path, '    tensorrt: "8.5.2.2"', '    tensorrt: "6.2.0.5"')
    err = raises(path)
    assert f":{line}: ngc[0].tensorrt: no TensorRT line matches '6.2.0.5'" in str(err)


def test_cuda_minor_without_major_record(tmp_path: Path) -> None:
    text = REAL.read_text(encoding="utf-8")
    start = text.index("  - major: 13\n")
    end = text.index("\n# one record per CUDA minor")
    path = tmp_path / "matrix.yaml"
    path.write_text(text[:start] + text[end + 1:], encoding="utf-8")
    m = load_matrix(path, check=False)
    msgs = [str(f) for f in check_matrix(m) if f.severity == "error"]
    assert any("CUDA 13.0 has no `cuda_majors:` record for major 13" in s for s in msgs), msgs


def test_schema_version_2() -> None:
    path = DATA / "schema-version-2.yaml"
    err = raises(path)
    assert f"{path}:1: schema_version: unsupported schema_version 2" in str(err)


def test_invalid_yaml() -> None:
    path = DATA / "invalid-yaml.yaml"
    err = raises(path)
    assert str(path) in str(err) and "not valid YAML" in str(err)
    assert err.line is not None and err.line >= 14


def test_missing_file(tmp_path: Path) -> None:
    err = raises(tmp_path / "nope.yaml")
    assert "file not found" in str(err) or "nope.yaml" in str(err)


def test_missing_source_field() -> None:
    text = 'schema_version: 1\nmatrix_version: "x"\nsources: {A: "https://a"}\ngpus:\n  - {name: X1, compute_capability: "8.0"}\n'
    with pytest.raises(MatrixError) as info:
        loads_matrix(text, "m.yaml")
    assert "m.yaml:5: gpus[0]: missing required key 'source'" in str(info.value)


def test_cc_must_be_major_minor() -> None:
    text = 'schema_version: 1\nmatrix_version: "x"\nsources: {A: "https://a"}\ngpus:\n  - {name: X1, compute_capability: "8", source: A}\n'
    with pytest.raises(MatrixError) as info:
        loads_matrix(text, "m.yaml")
    assert "m.yaml:5: gpus[0].compute_capability" in str(info.value)


def test_bad_template_field(tmp_path: Path) -> None:
    path, line = edited(tmp_path, 'pip: ["tensorrt=={full_version}"]', 'pip: ["tensorrt=={ful_version}"]')
    err = raises(path)
    assert re.search(rf":{line}: tensorrt\[\d+\]\.routes\[0\]\.pip\[0\]: unknown template field \{{ful_version\}}",
                     str(err))
    assert err.hint == "did you mean 'full_version'?"


def test_cache_by_mtime(tmp_path: Path) -> None:
    path, _ = edited(tmp_path, 'matrix_version: "', 'matrix_version: "t')
    a = load_matrix(path)
    assert load_matrix(path) is a
    import os

    path.write_text(path.read_text(encoding="utf-8").replace('matrix_version: "t', 'matrix_version: "u'),
                    encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    b = load_matrix(path)
    assert b is not a and b.matrix_version.startswith("u")
