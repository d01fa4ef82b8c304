"""nvidia-smi's own error texts (no driver, NVML mismatch, no devices): the status they mean and what to check.

Used by ``envkit.host.probe`` (a live nvidia-smi that failed) and ``envkit.host.parse`` (a capture that
holds the error text instead of output).
"""

from __future__ import annotations

import re

from envkit.host import model

# nvidia-smi's error messages, as printed instead of output
_ERRORS: tuple[tuple[str, str], ...] = (
    ("Driver/library version mismatch", model.MISMATCH),
    ("couldn't communicate with the NVIDIA driver", model.NO_DRIVER),
    ("couldn't find libnvidia-ml.so", model.NO_DRIVER),
    ("Failed to initialize NVML", model.FAILED),
    ("No devices were found", model.FAILED),
    ("Unable to determine the device handle", model.FAILED),
)


def status_from_error_text(text: str) -> tuple[str, str] | None:
    """(status, message line) when ``text`` is one of nvidia-smi's error messages."""
    for needle, status in _ERRORS:
        if needle.lower() in text.lower():
            line = next((ln.strip() for ln in text.splitlines() if needle.lower() in ln.lower()), needle)
            return status, line
    return None


_NVML_LIB = re.compile(r"NVML library version:\s*([0-9][0-9.]*)")


def error_explanation(text: str) -> list[str]:
    """What nvidia-smi's error text usually means and what to check, one message per line (doctor shows them
    under the status, live or from a capture)."""
    low = text.lower()
    out: list[str] = []
    if "couldn't communicate with the nvidia driver" in low:
        out.append("nvidia-smi is there but the NVIDIA kernel module is not loaded: usually after a kernel or "
                   "driver update the module was not rebuilt (DKMS), or Secure Boot refuses the unsigned module")
        out.append("check: `lsmod | grep nvidia` (loaded?), `dkms status` (built for this kernel, `uname -r`?), "
                   "`mokutil --sb-state` (Secure Boot on: enroll the module's key or sign it), then "
                   "`sudo modprobe nvidia` and read its error")
    if "driver/library version mismatch" in low:
        m = _NVML_LIB.search(text)
        lib = f"NVML library version: {m.group(1)} (the user-space driver now installed)" if m else None
        if lib:
            out.append(lib)
        out.append("the loaded kernel module is older or newer than the user-space driver (an update without a "
                   "reboot): reboot, or unload and reload the nvidia modules; `cat /proc/driver/nvidia/version` "
                   "shows the kernel module's version")
    return out
