"""envkit.host.parse on real nvidia-smi captures (tests/data/nvidia-smi, see SOURCES.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from envkit.errors import InputError
from envkit.host import HostInfo, parse_capture, read_capture
from envkit.host.parse import detect_format, parse_compute_caps

DATA = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi"
CORPUS = DATA / "corpus"
H200 = DATA / "h200-driver-580.159.04"
RUN = DATA / "gpu-run-2026-11-22"


def _expected() -> list[dict[str, str]]:
    with open(CORPUS / "EXPECTED.tsv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _dash(value: str) -> str | None:
    return None if value == "-" else value


def test_expected_lists_every_capture(smi_data: Path) -> None:
    assert smi_data == DATA
    listed = {row["file"] for row in _expected()}
    on_disk = {p.name for p in (smi_data / "corpus").iterdir() if p.name not in ("EXPECTED.tsv", "NOTES.md")}
    assert listed == on_disk
    assert len(listed) == 86


@pytest.mark.parametrize("row", _expected(), ids=lambda r: r["file"])
def test_corpus_capture_matches_expected(row: dict[str, str]) -> None:
    info = read_capture(CORPUS / row["file"])
    assert info.status == "capture"
    assert info.format == row["format"]
    assert info.driver_version == _dash(row["driver_version"])
    assert info.cuda_version == _dash(row["cuda_version"])
    if row["gpu_count"] == "-":
        assert info.gpus == []
    else:
        assert info.gpu_count == int(row["gpu_count"])
        assert info.gpus[0].name == row["first_gpu_name"]
    cc = _dash(row["compute_cap_if_present"])
    if cc is not None:
        assert info.gpus[0].compute_capability == cc
        assert info.gpus[0].compute_capability_source == "nvidia-smi"
    # every record survives the JSON contract
    again = HostInfo.from_json(json.loads(json.dumps(info.to_json())), "x.json")
    assert [g.to_json() for g in again.gpus] == [g.to_json() for g in info.gpus]
    assert again.gpu_count == info.gpu_count


@pytest.mark.parametrize("name", ["table.txt", "q.txt", "q.xml", "query-gpu.csv"])
def test_h200_fixture_all_forms_agree(name: str) -> None:
    info = read_capture(H200 / name)
    assert info.driver_version == "580.159.04"
    assert len(info.gpus) == 1
    gpu = info.gpus[0]
    assert gpu.name == "NVIDIA H200"
    assert gpu.memory_total_mib == 143771
    if name != "query-gpu.csv":
        assert info.cuda_version == "13.0"
        assert gpu.mig_mode == "Disabled"
    else:
        assert info.cuda_version is None and info.partial
        assert gpu.compute_capability == "9.0"
    if name in ("q.txt", "q.xml"):
        assert gpu.architecture == "Hopper"
        assert gpu.uuid and gpu.uuid.startswith("GPU-")


def test_summary_line() -> None:
    info = read_capture(H200 / "query-gpu.csv")
    info.cuda_version = "13.0"
    assert info.summary() == "1x NVIDIA H200 (sm 9.0), driver 580.159.04, CUDA 13.0"


def test_nvidia_smi_L_is_partial() -> None:
    info = read_capture(RUN / "L.txt")
    assert info.format == "L" and info.partial
    assert info.driver_version is None and info.cuda_version is None
    assert [(g.index, g.name, g.uuid) for g in info.gpus] == [
        (0, "NVIDIA H200", "GPU-a7f64ac6-5bbd-7bfa-1353-f73a583799d6")
    ]
    assert any("-L" in m for m in info.messages)


@pytest.mark.parametrize(
    ("path", "driver", "cuda"),
    [
        (RUN / "version.txt", "580.159.04", "13.0"),
        (CORPUS / "nvidia_gpu_exporter-geforce-rtx-2080-super-610.57.04-version.txt", "610.57.04", "13.3"),
        (CORPUS / "nvidia_gpu_exporter-windows-geforce-rtx-2080-super-610.62-version.txt", "610.62", "13.3"),
    ],
)
def test_nvidia_smi_version_is_partial(path: Path, driver: str, cuda: str) -> None:
    info = read_capture(path)
    assert info.format == "version" and info.partial
    assert (info.driver_version, info.cuda_version) == (driver, cuda)
    assert info.gpus == []


def test_gpu_run_captures_agree() -> None:
    facts = set()
    for name in ("table.txt", "q.xml", "query-gpu.csv"):
        info = read_capture(RUN / name)
        g = info.gpus[0]
        facts.add((info.driver_version, g.name, g.memory_total_mib, g.mig_mode, g.pci_bus_id))
    assert facts == {("580.159.04", "NVIDIA H200", 143771, "Disabled", "00000000:00:06.0")}


# ---- MIG, multi-GPU, mixed models ------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "nvidia_gpu_exporter-h200-mig-590.48.01.txt",
        "nvidia_gpu_exporter-h100-80gb-hbm3-mig-590.48.01.txt",
        "nvidia_gpu_exporter-h100-80gb-hbm3-mig-590.48.01-q.txt",
        "netdata-a100-sxm4-40gb-mig-510.47.03.xml",
    ],
)
def test_mig_devices_are_not_gpus(name: str) -> None:
    info = read_capture(CORPUS / name)
    assert len(info.gpus) == 1
    assert info.gpus[0].mig_mode == "Enabled"


def test_mig_query_csv_reports_mode() -> None:
    info = read_capture(CORPUS / "nvidia_gpu_exporter-h200-mig-590.48.01-query-gpu.csv")
    assert len(info.gpus) == 1 and info.gpus[0].mig_mode == "Enabled"


def test_trimmed_capture_keeps_stated_count() -> None:
    info = read_capture(CORPUS / "telegraf-a100-sxm4-80gb-mig-535.54.03.xml")
    assert len(info.gpus) == 1 and info.gpu_count == 4
    assert any("states 4 attached GPUs" in m for m in info.messages)
    assert "3x not in the capture" in info.summary()


@pytest.mark.parametrize(
    ("name", "count"),
    [("thamada-8x-h100-80gb-hbm3-565.57.01-q.txt", 8), ("thamada-8x-h100-80gb-hbm3-565.57.01.txt", 8),
     ("thamada-10x-a40-550.127.05.txt", 10), ("gpud-8x-geforce-rtx-4090-535.154.05-q.txt", 8)],
)
def test_multi_gpu(name: str, count: int) -> None:
    info = read_capture(CORPUS / name)
    assert [g.index for g in info.gpus] == list(range(count))
    assert len({g.pci_bus_id for g in info.gpus}) == count
    if name.endswith("-q.txt"):
        assert len({g.uuid for g in info.gpus}) == count


def test_mixed_models() -> None:
    info = read_capture(CORPUS / "nvidia-htop-rtx2070-gtx750ti-450.57.txt")
    assert [(g.name, g.memory_total_mib) for g in info.gpus] == [
        ("GeForce RTX 2070", 7981),
        ("GeForce GTX 750 Ti", 2002),
    ]
    assert info.summary() == "1x GeForce RTX 2070 + 1x GeForce GTX 750 Ti, driver 450.57, CUDA 11.0"


def test_mixed_compute_capabilities_min_max() -> None:
    info = read_capture(CORPUS / "nvidia-htop-rtx2070-gtx750ti-450.57.txt")
    table = {"GeForce RTX 2070": "7.5", "GeForce GTX 750 Ti": "5.0"}
    info.fill_compute_capability(table.get)
    assert (info.min_compute_capability(), info.max_compute_capability()) == ("5.0", "7.5")
    assert all(g.compute_capability_source == "name" for g in info.gpus)
    assert any("inferred from the name" in m for m in info.messages)


def test_cc_lookup_passed_to_parse() -> None:
    info = read_capture(H200 / "q.xml", cc_lookup={"NVIDIA H200": "9.0"}.get)
    assert info.gpus[0].compute_capability == "9.0"
    assert info.gpus[0].compute_capability_source == "name"
    # nvidia-smi's own value is never replaced
    info = read_capture(H200 / "query-gpu.csv", cc_lookup=lambda name: "1.0")
    assert info.gpus[0].compute_capability == "9.0"


def test_truncated_table_name_kept_as_is() -> None:
    info = read_capture(CORPUS / "gpud-geforce-err-fan-525.125.06.txt")
    assert info.gpus[0].name == "NVIDIA GeForce ..."


# ---- driver generations ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "nvidia_gpu_exporter-geforce-rtx-2080-super-610.57.04-q.txt",
        "nvidia_gpu_exporter-geforce-rtx-2080-super-610.57.04.txt",
    ],
)
def test_driver_610_kmd_version(name: str) -> None:
    info = read_capture(CORPUS / name)
    assert (info.driver_version, info.cuda_version) == ("610.57.04", "13.3")
    assert "Deprecated" not in json.dumps(info.to_json())


def test_old_driver_without_cuda_version() -> None:
    info = read_capture(CORPUS / "nvidia-htop-grid-k520-346.46.txt")
    assert (info.driver_version, info.cuda_version) == ("346.46", None)
    assert info.gpus[0].name == "GRID K520" and info.gpus[0].pci_bus_id == "0000:00:03.0"
    assert info.gpus[0].mig_mode is None
    assert any("no CUDA version" in m for m in info.messages)


def test_windows_wddm_table() -> None:
    info = read_capture(CORPUS / "nvidia_gpu_exporter-windows-geforce-rtx-2080-super-610.62.txt")
    assert info.gpus[0].name == "NVIDIA GeForce RTX 2080 ..."
    assert info.gpus[0].memory_total_mib == 8192
    assert info.gpus[0].mig_mode == "N/A"


def test_vgpu_and_xml_without_doctype() -> None:
    assert read_capture(CORPUS / "telegraf-grid-p4-1q-vgpu-513.46.xml").gpus[0].name == "GRID P4-1Q"
    text = (CORPUS / "telegraf-quadro-p400-418.43.xml").read_text()
    assert "DOCTYPE" not in text
    assert parse_capture(text, "p400.xml").gpus[0].name == "Quadro P400"


def test_utf16_capture_as_windows_powershell_writes_it(tmp_path: Path) -> None:
    src = (CORPUS / "nvidia_gpu_exporter-windows-geforce-rtx-2080-super-610.62.txt").read_text(encoding="utf-8")
    f = tmp_path / "smi.txt"
    f.write_bytes(src.encode("utf-16"))  # the same text, re-encoded (BOM + UTF-16LE)
    assert read_capture(f).driver_version == "610.62"


# ---- nvidia-smi's error messages saved in a file ---------------------------------------------
@pytest.mark.parametrize(
    ("name", "status"), [("no-driver.txt", "no-driver"), ("driver-mismatch.txt", "driver-mismatch")]
)
def test_error_text_gives_status(name: str, status: str) -> None:
    info = read_capture(DATA / "errors" / name)
    assert info.status == status
    assert not info.ok and info.gpus == []
    assert info.messages and "error message" in info.messages[0]


# ---- bad files -------------------------------------------------------------------------------
def _fails(path: Path) -> str:
    with pytest.raises(InputError) as exc:
        read_capture(path)
    assert str(path) in str(exc.value)
    return str(exc.value) + " " + (exc.value.hint or "")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    assert "empty" in _fails(tmp_path / "empty.txt")
    (tmp_path / "blank.txt").write_text("\n  \n")
    assert "empty" in _fails(tmp_path / "blank.txt")


def test_garbage_names_accepted_formats(tmp_path: Path) -> None:
    message = _fails(DATA / "SOURCES.md")
    assert "not a recognised nvidia-smi capture" in message
    assert "nvidia-smi -q -x" in message and "--format=csv" in message and "doctor --json" in message
    (tmp_path / "bin.dat").write_bytes(bytes(range(256)))
    assert "not text" in _fails(tmp_path / "bin.dat")


def test_truncated_xml(tmp_path: Path) -> None:
    text = (H200 / "q.xml").read_text()
    f = tmp_path / "cut.xml"
    f.write_text(text[: len(text) // 2])
    assert "truncated or invalid nvidia-smi XML" in _fails(f)


def test_other_xml(tmp_path: Path) -> None:
    f = tmp_path / "other.xml"
    f.write_text('<?xml version="1.0"?><project><name>x</name></project>\n')
    assert "expected <nvidia_smi_log>" in _fails(f)


def test_csv_without_header() -> None:
    message = _fails(RUN / "query-noheader.csv")
    assert "without a header" in message and "--format=csv" in message


def test_csv_with_rejected_field() -> None:
    message = _fails(RUN / "query-invalid.txt")
    assert 'Field "bogus_field" is not a valid field to query' in message


def test_truncated_csv(tmp_path: Path) -> None:
    lines = (H200 / "query-gpu.csv").read_text().splitlines()
    f = tmp_path / "cut.csv"
    f.write_text(lines[0] + "\n" + lines[1][:30] + "\n")
    assert "values for 7 header fields" in _fails(f)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "file not found" in _fails(tmp_path / "nope.txt")
    assert "is a directory" in _fails(tmp_path)


def test_bad_json_records(tmp_path: Path) -> None:
    good = read_capture(H200 / "q.xml").to_json()
    cases = {
        "notjson.json": ("{not json", "not valid JSON"),
        "list.json": (json.dumps({"schema": "envkit.host/9"}), "unsupported record schema"),
        "nogpus.json": (json.dumps({k: v for k, v in good.items() if k != "gpus"}), "gpus: missing required key"),
        "badcc.json": (json.dumps({**good, "gpus": [{**good["gpus"][0], "compute_capability": "sm90"}]}),
                       'gpus[0].compute_capability: expected a version like "8.6"'),
        "badidx.json": (json.dumps({**good, "gpus": [{**good["gpus"][0], "index": "0"}]}), "gpus[0].index"),
        "badstatus.json": (json.dumps({**good, "status": "fine"}), "unknown status 'fine'"),
    }
    for name, (text, expect) in cases.items():
        f = tmp_path / name
        f.write_text(text)
        assert expect in _fails(f), name


def test_detect_format_needs_no_file_name() -> None:
    for path, fmt in [(H200 / "table.txt", "table"), (H200 / "q.txt", "q"), (H200 / "q.xml", "xml"),
                      (H200 / "query-gpu.csv", "csv"), (RUN / "L.txt", "L"), (RUN / "version.txt", "version")]:
        assert detect_format(path.read_text()) == fmt


def test_parse_compute_caps() -> None:
    assert parse_compute_caps((RUN / "query-gpu.csv").read_text()) == {0: "9.0"}
    assert parse_compute_caps((RUN / "query-invalid.txt").read_text()) == {}
    assert parse_compute_caps((RUN / "query-noheader.csv").read_text()) == {}


def test_real_doctor_json_from_the_gpu_run() -> None:
    info = read_capture(RUN / "doctor.json")
    assert info.format == "envkit-json" and info.status == "ok"
    assert info.summary() == "1x NVIDIA H200 (sm 9.0), driver 580.159.04, CUDA 13.0"
    assert (info.glibc, info.arch, info.nvidia_smi) == ("2.39", "x86_64", "/usr/local/nvidia/bin/nvidia-smi")
    assert info.gpus[0].compute_capability_source == "nvidia-smi"
