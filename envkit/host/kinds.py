"""What kind of machine this is beyond its GPUs: a Jetson (JetPack/L4T) or a Windows driver (WSL2, native).

Read from a capture's text (``Orin (nvgpu)`` and the other Tegra GPU names, ``Driver Model ... WDDM``,
the table's ``Driver-Model`` column, an ``NVIDIA-SMI x`` version that differs from the driver under
WSL2) or, on this machine, from ``/etc/nv_tegra_release``, ``/proc/device-tree/model``,
``/usr/lib/wsl/lib`` and ``/proc/version``. Pure functions over text and paths; bounded reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

JETSON = "jetson"
WSL2 = "wsl2"
WINDOWS = "windows"

_TEGRA_GPU = "(nvgpu)"  # nvidia-smi's name suffix for a Tegra integrated GPU (Orin (nvgpu), Thor (nvgpu), ...)
_L4T = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([0-9.]+)")
_WDDM = re.compile(r"\bWDDM\b")
_TABLE_SMI = re.compile(r"NVIDIA-SMI\s+([0-9.]+)\s+Driver Version:\s*([0-9.]+)")
_MAX_READ = 4096


@dataclass(frozen=True)
class Kind:
    kind: str | None  # JETSON, WSL2, WINDOWS or None (an ordinary Linux machine)
    l4t: str | None = None  # the L4T release of a Jetson, e.g. "36.4.3"
    board: str | None = None  # /proc/device-tree/model, e.g. "NVIDIA Jetson AGX Orin Developer Kit"
    evidence: str = ""

    @property
    def windows_driver(self) -> bool:
        """The driver is a Windows (WDDM) driver: judge it by the Windows column of the CUDA tables."""
        return self.kind in (WSL2, WINDOWS)


_GRACE = re.compile(r"\b(GB10|GH200|GB200|GB300)\b", re.I)


def grace_superchip(gpu_names: list[str]) -> bool:
    """Every GPU is half of a Grace superchip (DGX Spark's GB10, GH200, GB200, GB300): the CPU is Arm (aarch64,
    SBSA), whatever platform a capture without CPU facts would otherwise be assumed to be."""
    return bool(gpu_names) and all(_GRACE.search(n) for n in gpu_names)


def l4t_from_release_file(text: str) -> str | None:
    """``# R36 (release), REVISION: 4.3, GCID: ...`` -> "36.4.3"."""
    m = _L4T.search(text)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def from_capture_text(text: str) -> Kind:
    """The machine kind a capture shows; Kind(None) when it shows nothing special."""
    head = text[:200_000]
    if _TEGRA_GPU in head.lower():
        return Kind(JETSON, evidence="the GPU is a Tegra integrated GPU (nvgpu)")
    if _WDDM.search(head):
        m = _TABLE_SMI.search(head)
        if m and m.group(1) != m.group(2):
            return Kind(WSL2, evidence=f"WDDM driver {m.group(2)} seen through a Linux nvidia-smi {m.group(1)}")
        return Kind(WINDOWS, evidence="the driver model is WDDM (a Windows driver: native Windows or WSL2)")
    m = _TABLE_SMI.search(head)
    if m and m.group(1) != m.group(2) and _windows_driver_number(m.group(2)):
        return Kind(WSL2, evidence=f"nvidia-smi {m.group(1)} reports the Windows driver {m.group(2)}")
    return Kind(None)


def _windows_driver_number(version: str) -> bool:
    """Windows drivers have two parts (591.86, 610.62); Linux ones usually three (580.65.06)."""
    return version.count(".") == 1


def _read(path: Path) -> str | None:
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            return fh.read(_MAX_READ).decode("utf-8", "replace").replace("\x00", "").strip()
    except OSError:
        return None


def from_this_machine(root: Path = Path("/")) -> Kind:
    """Jetson (L4T release file or device-tree model) or WSL2 (/usr/lib/wsl/lib, a Microsoft kernel)."""
    release = _read(root / "etc" / "nv_tegra_release")
    model = _read(root / "proc" / "device-tree" / "model")
    if release or (model and "jetson" in model.lower()):
        l4t = l4t_from_release_file(release) if release else None
        return Kind(JETSON, l4t=l4t, board=model, evidence="/etc/nv_tegra_release" if release else
                    "/proc/device-tree/model")
    version = _read(root / "proc" / "version") or ""
    if (root / "usr" / "lib" / "wsl" / "lib").is_dir() or "microsoft" in version.lower():
        return Kind(WSL2, evidence="/usr/lib/wsl/lib" if (root / "usr/lib/wsl/lib").is_dir() else "/proc/version")
    return Kind(None)
