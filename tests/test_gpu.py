"""On a machine with an NVIDIA GPU and driver: the host check and the CUDA layers of the smoke test, for real.

Skipped where no nvidia-smi is found (this project's CI has no GPU). Run on a GPU machine with
`python -m pytest -m gpu tests/test_gpu.py`; what was seen is recorded in docs/gpu-validation.md.
"""

from __future__ import annotations

import ctypes.util
import sys
from pathlib import Path

import pytest
from envelope import data_of

from envkit.cli import main
from envkit.context import Settings
from envkit.host.probe import find_nvidia_smi
from envkit.versions import V

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def _needs_gpu() -> None:
    smi, _how = find_nvidia_smi(Settings.from_env(project=str(ROOT)))
    if smi is None:
        pytest.skip("no nvidia-smi on this machine")


def doctor() -> dict:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["doctor", "--json"])
    assert code == 0, buf.getvalue()
    return data_of(buf.getvalue(), "doctor")


def test_doctor_reads_the_real_gpu() -> None:
    data = doctor()
    assert data["status"] == "ok"
    assert data["driver_version"] and data["cuda_version"]
    assert data["gpus"]
    for gpu in data["gpus"]:
        assert gpu["name"] and gpu["uuid"] and gpu["memory_total_mib"] > 0
        assert gpu["compute_capability"], gpu


def test_resolve_on_the_real_host(capsys: pytest.CaptureFixture[str]) -> None:
    host = doctor()
    assert main(["--project", str(ROOT), "resolve", "trt-yolo", "--json"]) in (0, 1)
    data = data_of(capsys.readouterr().out, "resolve")
    assert data["verified"] is True
    assert data["host"]["driver_version"] == host["driver_version"]
    if data["chosen"]:
        assert V(data["chosen"]["cuda"]) <= V(host["cuda_version"])


def test_smoke_cuda_layers_pass(tmp_path: Path) -> None:
    from envkit.smoke import smoke_prefix

    cuda = doctor()["cuda_version"]
    pins: dict[str, str | None] = {"cuda": cuda}
    report = smoke_prefix(tmp_path, python=Path(sys.executable), pins=pins, save=False)
    layers = {lay["name"]: lay for lay in report.layers}
    assert layers["driver"]["status"] == "pass", layers["driver"]
    if ctypes.util.find_library("cudart") or layers["cuda"]["status"] == "pass":
        assert layers["cuda"]["status"] == "pass", layers["cuda"]
    if layers.get("cudnn", {}).get("status") not in (None, "skip"):
        assert layers["cudnn"]["status"] == "pass", layers["cudnn"]
