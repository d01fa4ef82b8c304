"""Jetson and WSL2/Windows machines, from real captures and from this machine's files (a root built in tmp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.host.kinds import JETSON, WINDOWS, WSL2, from_capture_text, from_this_machine, l4t_from_release_file
from envkit.host.parse import read_capture

SMI = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi"

# the first line of /etc/nv_tegra_release on L4T 36.4.3 (JetPack 6.2): real output, as printed by `head -n 1
# /etc/nv_tegra_release` on Jetson Orin boards in public READMEs (GitHub code index documents 62496235572, 8877759392)
TEGRA_RELEASE = "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n"


@pytest.mark.parametrize(("name", "kind"), [
    ("jetson/orin-nvgpu-540.4.0.txt", JETSON),
    ("corpus/telegraf-geforce-rtx-3080-536.40.xml", WINDOWS),
    ("corpus/netdata-geforce-rtx-2080-windows-516.59.xml", WINDOWS),
    ("corpus/nvidia_gpu_exporter-windows-geforce-rtx-2080-super-610.62-q.txt", WINDOWS),
    ("corpus/gpud-8x-h100-80gb-hbm3-535.161.08-q.txt", None),
    ("h200-driver-580.159.04/q.xml", None),
])
def test_kind_from_real_captures(name: str, kind: str | None) -> None:
    path = SMI / name
    assert from_capture_text(path.read_text(encoding="utf-8", errors="replace")).kind == kind
    info = read_capture(path)
    assert info.machine_type == kind
    assert info.windows_driver == (kind in (WINDOWS, WSL2))


def test_orin_capture_summary_names_the_jetson() -> None:
    info = read_capture(SMI / "jetson" / "orin-nvgpu-540.4.0.txt")
    assert info.summary().startswith("Jetson") and info.driver_version == "540.4.0"
    assert info.to_json()["machine_type"] == "jetson"


def test_l4t_release_line() -> None:
    assert l4t_from_release_file(TEGRA_RELEASE) == "36.4.3"
    assert l4t_from_release_file("nothing here") is None


def test_this_machine_jetson(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "nv_tegra_release").write_text(TEGRA_RELEASE, encoding="utf-8")
    (tmp_path / "proc" / "device-tree").mkdir(parents=True)
    (tmp_path / "proc" / "device-tree" / "model").write_bytes(b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    k = from_this_machine(tmp_path)
    assert (k.kind, k.l4t, k.board) == (JETSON, "36.4.3", "NVIDIA Jetson AGX Orin Developer Kit")


def test_this_machine_wsl2(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib" / "wsl" / "lib").mkdir(parents=True)
    assert from_this_machine(tmp_path).kind == WSL2


def test_this_machine_plain_linux(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "version").write_text("Linux version 6.8.0-45-generic (buildd@lcy02-amd64-115)\n")
    assert from_this_machine(tmp_path).kind is None


def test_release_file_that_is_not_a_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "etc" / "nv_tegra_release").mkdir(parents=True)
    assert from_this_machine(tmp_path).kind is None
