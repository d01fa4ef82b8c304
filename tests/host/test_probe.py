"""envkit.host.probe with real subprocesses: small scripts that replay real nvidia-smi output."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from envkit.context import Settings
from envkit.host.probe import find_nvidia_smi, probe

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell scripts stand in for nvidia-smi")

DATA = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi"
RUN = DATA / "gpu-run-2026-11-22"
CORPUS = DATA / "corpus"


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nPATH=/usr/bin:/bin; export PATH\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def replay(path: Path, xml: Path, query: Path | None = None, query_rc: int = 0) -> Path:
    """An nvidia-smi that prints a real capture: `query` for --query-gpu, `xml` otherwise."""
    q = f'cat "{query}"; exit {query_rc}' if query else "exit 2"
    return script(path, f'case "$*" in\n  *query-gpu*) {q} ;;\n  *) cat "{xml}" ;;\nesac')


def settings(tmp_path: Path, smi: Path | str | None, **env: str) -> Settings:
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return Settings(project_dir=tmp_path, matrix_path=tmp_path / "matrix.yaml", cache_dir=tmp_path / "cache",
                    nvidia_smi=None if smi is None else str(smi), env=environ)


def test_probe_reads_xml_and_queries_compute_cap(tmp_path: Path) -> None:
    smi = replay(tmp_path / "nvidia-smi", RUN / "q.xml", RUN / "query-gpu.csv")
    info = probe(settings(tmp_path, smi), timeout=10)
    assert info.status == "ok" and info.ok
    assert info.source == "nvidia-smi" and info.nvidia_smi == str(smi)
    assert (info.driver_version, info.cuda_version) == ("580.159.04", "13.0")
    g = info.gpus[0]
    assert (g.name, g.compute_capability, g.compute_capability_source) == ("NVIDIA H200", "9.0", "nvidia-smi")
    assert (g.memory_total_mib, g.mig_mode, g.architecture) == (143771, "Disabled", "Hopper")
    assert info.summary() == "1x NVIDIA H200 (sm 9.0), driver 580.159.04, CUDA 13.0"


def test_probe_system_facts(tmp_path: Path) -> None:
    smi = replay(tmp_path / "nvidia-smi", RUN / "q.xml", RUN / "query-gpu.csv")
    info = probe(settings(tmp_path, smi), timeout=10)
    assert info.arch
    assert info.os
    if sys.platform.startswith("linux"):
        assert info.memory and info.memory["total_mib"] > 0
        assert info.disk and info.disk["free_mib"] >= 0 and info.disk["path"] == str(tmp_path / "cache")
    assert isinstance(info.tools, dict)


def test_probe_old_driver_without_compute_cap_field(tmp_path: Path) -> None:
    # a 470-series nvidia-smi rejects compute_cap; the real rejection message is replayed
    smi = replay(tmp_path / "nvidia-smi", CORPUS / "telegraf-geforce-gt-1030-470.74.xml", RUN / "query-invalid.txt", 2)
    info = probe(settings(tmp_path, smi), timeout=10, cc_lookup={"NVIDIA GeForce GT 1030": "6.1"}.get)
    assert info.status == "ok" and info.driver_version == "470.74"
    assert info.gpus[0].compute_capability == "6.1"
    assert info.gpus[0].compute_capability_source == "name"
    assert any("no compute_cap query field" in m for m in info.messages)
    assert any("inferred from the name" in m for m in info.messages)


def test_no_driver(tmp_path: Path) -> None:
    smi = script(tmp_path / "nvidia-smi", f'cat "{DATA / "errors" / "no-driver.txt"}"; exit 9')
    info = probe(settings(tmp_path, smi), timeout=10)
    assert info.status == "no-driver" and not info.ok
    assert info.gpus == [] and info.driver_version is None
    assert "exit code 9" in info.messages[0] and "couldn't communicate" in info.messages[0]
    assert info.os  # system facts are still gathered


def test_driver_mismatch(tmp_path: Path) -> None:
    smi = script(tmp_path / "nvidia-smi", f'cat "{DATA / "errors" / "driver-mismatch.txt"}"; exit 18')
    info = probe(settings(tmp_path, smi), timeout=10)
    assert info.status == "driver-mismatch"


def test_other_failure_keeps_stderr(tmp_path: Path) -> None:
    smi = script(tmp_path / "nvidia-smi", f'head -n 1 "{RUN / "query-invalid.txt"}" >&2; exit 2')
    info = probe(settings(tmp_path, smi), timeout=10)
    assert info.status == "nvidia-smi-failed"
    assert "exit code 2" in info.messages[0] and "bogus_field" in info.messages[0]


def test_hanging_nvidia_smi_times_out(tmp_path: Path) -> None:
    smi = script(tmp_path / "nvidia-smi", "sleep 30")
    start = time.monotonic()
    info = probe(settings(tmp_path, smi), timeout=1, system_facts=False)
    assert time.monotonic() - start < 10
    assert info.status == "nvidia-smi-timeout"
    assert "did not answer within 1 s" in info.messages[0]


def test_missing_explicit_nvidia_smi_is_not_replaced(tmp_path: Path) -> None:
    info = probe(settings(tmp_path, tmp_path / "no-such-nvidia-smi"), timeout=5, system_facts=False)
    assert info.status == "nvidia-smi-missing"
    assert str(tmp_path / "no-such-nvidia-smi") in info.messages[0]


def test_missing_everywhere(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    s = settings(tmp_path, None, PATH=str(tmp_path / "empty"))
    info = probe(s, timeout=5, known_places=[], system_facts=False)
    assert info.status == "nvidia-smi-missing"
    assert "ENVKIT_NVIDIA_SMI" in info.messages[0]


def test_not_executable(tmp_path: Path) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\nexit 0\n")
    smi.chmod(0o644)
    info = probe(settings(tmp_path, smi), timeout=5, system_facts=False)
    assert info.status == "nvidia-smi-failed"
    assert "cannot run" in info.messages[0]


def test_found_on_path_then_known_places(tmp_path: Path) -> None:
    smi = replay(tmp_path / "bin" / "nvidia-smi", RUN / "q.xml")
    s = settings(tmp_path, None, PATH=str(tmp_path / "bin"))
    assert find_nvidia_smi(s, known_places=[]) == (str(smi), "PATH")
    (tmp_path / "empty").mkdir()
    s = settings(tmp_path, None, PATH=str(tmp_path / "empty"))
    assert find_nvidia_smi(s, known_places=["/nonexistent/nvidia-smi", str(smi)]) == (str(smi), "known place")
    info = probe(s, timeout=10, known_places=[str(smi)], system_facts=False)
    assert info.status == "ok" and info.gpus[0].name == "NVIDIA H200"


def test_conda_override_cuda(tmp_path: Path) -> None:
    smi = replay(tmp_path / "nvidia-smi", RUN / "q.xml", RUN / "query-gpu.csv")
    info = probe(settings(tmp_path, smi, CONDA_OVERRIDE_CUDA="12.4"), timeout=10, system_facts=False)
    assert info.conda_override_cuda == "12.4" and info.cuda_version == "13.0"
    assert info.effective_cuda() == "12.4"
    assert info.to_json()["effective_cuda"] == "12.4"


def test_conda_tools_on_path(tmp_path: Path) -> None:
    smi = replay(tmp_path / "nvidia-smi", RUN / "q.xml", RUN / "query-gpu.csv")
    bindir = tmp_path / "bin"
    script(bindir / "micromamba", 'echo "2.0.5"')
    script(bindir / "conda", "sleep 30")  # a conda that hangs must not hang doctor
    s = settings(tmp_path, smi, PATH=str(bindir))
    start = time.monotonic()
    info = probe(s, timeout=1)
    assert time.monotonic() - start < 20
    assert info.tools is not None
    assert info.tools["micromamba"] == {"path": str(bindir / "micromamba"), "version": "2.0.5"}
    assert info.tools["conda"]["version"] is None and "no answer" in info.tools["conda"]["error"]
    assert "mamba" not in info.tools
