"""envkit check end to end, offline: local channels over HTTP on 127.0.0.1, no GPU, nothing installed."""
# ruff: noqa: F811  (the fixtures imported from check_fixtures are test parameters by design)

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from channel_factory import PackageSpec, env_yaml
from check_fixtures import (
    Project,
    broken_copy,
    build_pip_index,
    check_channel,  # noqa: F401  (fixture)
    lagging_copy,
    project,  # noqa: F401  (fixture)
    rows,
)

GOOD_TARGETS = ["linux-64:driver=580.65.06", "linux-64:cuda=12.6", "linux-aarch64"]


def setup_alpha(project: Project, url: str, targets: list[str] | None = None) -> None:
    project.profile("alpha", [url], targets=targets or GOOD_TARGETS)
    project.generate("alpha")
    project.lock("alpha")


def test_check_all_passes_from_profile_targets_with_junit(project: Project, check_channel: Path, serve_channel,
                                                         tmp_path: Path) -> None:
    setup_alpha(project, serve_channel(check_channel))
    report = tmp_path / "report.xml"
    code, data = project.check("--all", "--junit", str(report))
    assert code == 0, rows(data, status="fail")
    assert {r["target"] for r in data["results"]} == set(GOOD_TARGETS)
    assert len(data["results"]) == 3 * 5
    assert not rows(data, status="fail")
    assert {r["step"] for r in rows(data, status="pass")} == {"matrix", "generated", "solve", "lock"}
    # aarch64: the lock is linux-64 only; pip: none
    assert rows(data, step="lock", target="linux-aarch64")[0]["status"] == "skip"
    assert data["summary"]["passed"] == 11 and data["summary"]["failed"] == 0
    tree = ET.parse(report).getroot()
    assert tree.tag == "testsuites" and tree.get("tests") == "15" and tree.get("failures") == "0"
    assert len(tree.findall(".//testcase")) == 15
    # the table output
    project.capsys.readouterr()
    assert project.cli("check", "alpha") == 0
    out = project.capsys.readouterr().out
    assert "alpha" in out and "11 passed, 0 failed" in out


def test_targets_without_gpu_old_driver_and_aarch64(project: Project, check_channel: Path, serve_channel,
                                                    tmp_path: Path) -> None:
    setup_alpha(project, serve_channel(check_channel))
    report = tmp_path / "r.xml"
    code, data = project.check("alpha", "--target", "linux-64:driver=470.57.02", "--target", "linux-aarch64",
                               "--target", "linux-64:driver=560.35.03", "--junit", str(report))
    assert code == 1
    failed = rows(data, status="fail")
    assert {(r["target"], r["step"]) for r in failed} == {
        ("linux-64:driver=470.57.02", "matrix"),
        ("linux-64:driver=470.57.02", "solve"),
    }
    matrix_reason = rows(data, step="matrix", target="linux-64:driver=470.57.02")[0]["reason"]
    assert "CUDA 12.6 needs driver >= 560.28.03; this host has 470.57.02" in matrix_reason
    solve_reason = rows(data, step="solve", target="linux-64:driver=470.57.02")[0]["reason"]
    assert "no __cuda" in solve_reason and "470.57.02" in solve_reason
    arm = rows(data, step="solve", target="linux-aarch64")[0]
    assert arm["status"] == "pass" and "tensorrt 10.3.0.26" in arm["reason"]
    tree = ET.parse(report).getroot()
    fails = tree.findall(".//testcase/failure")
    assert len(fails) == 2 and any("470.57.02" in (f.get("message") or "") for f in fails)
    # the table names environment, target and step of each failure
    project.capsys.readouterr()
    assert project.cli("check", "alpha", "--target", "linux-64:driver=470.57.02") == 1
    out = project.capsys.readouterr().out
    assert "FAIL alpha [linux-64:driver=470.57.02] matrix: " in out
    assert "FAIL alpha [linux-64:driver=470.57.02] solve: " in out


def test_driver_caps_cuda_through_the_matrix(project: Project, check_channel: Path, serve_channel) -> None:
    setup_alpha(project, serve_channel(check_channel))
    code, data = project.check("alpha", "--target", "linux-64:driver=535.104.05")
    assert code == 1
    (bad,) = rows(data, status="fail")
    assert bad["step"] == "matrix" and "CUDA 12.6 needs driver >= 560.28.03" in bad["reason"]
    # conda itself would still solve (cuda-version 12.6 only constrains __cuda >=12): the matrix is stricter
    assert rows(data, step="solve")[0]["status"] == "pass"


@pytest.fixture
def mirrors(check_channel: Path, tmp_path: Path) -> dict[str, Path]:
    lib = PackageSpec("libnvinfer", "10.3.0.26", build="cuda12_0", depends=("cuda-version >=12,<13", "cudnn 9.*"))
    return {
        "complete": _copy(check_channel, tmp_path / "complete"),
        "lagging": lagging_copy(check_channel, tmp_path / "lagging", ("linux-64", "cudnn-9.10.1.4-cuda12_0")),
        "broken": broken_copy(check_channel, tmp_path / "broken", lib),
    }


def _copy(src: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(src, dest)
    return dest


def test_mirrors_complete_lagging_broken(project: Project, check_channel: Path, serve_channel,
                                        mirrors: dict[str, Path]) -> None:
    upstream = serve_channel(check_channel)
    setup_alpha(project, upstream)
    code, data = project.check("--all")
    assert code == 0

    complete = serve_channel(mirrors["complete"])
    project.mirrors({upstream: complete})
    code, data = project.check("--all")
    assert code == 0, rows(data, status="fail")

    lagging = serve_channel(mirrors["lagging"])
    project.mirrors({upstream: lagging})
    code, data = project.check("--all")
    assert code == 1
    failed = rows(data, status="fail")
    assert {(r["target"], r["step"]) for r in failed} == {
        ("linux-64:driver=580.65.06", "solve"), ("linux-64:driver=580.65.06", "lock"),
        ("linux-64:cuda=12.6", "solve"), ("linux-64:cuda=12.6", "lock"),
    }
    for r in failed:
        assert lagging in r["reason"] and "mirror" in r["reason"]
    lock = rows(data, step="lock", target="linux-64:cuda=12.6")[0]["reason"]
    assert "missing on mirror" in lock and "cudnn-9.10.1.4-cuda12_0.conda (linux-64)" in lock
    assert "libnvinfer" not in lock and "cuda-cudart" not in lock
    solve = rows(data, step="solve", target="linux-64:cuda=12.6")[0]["reason"]
    assert solve.startswith("cudnn") and "linux-64" in solve
    assert rows(data, step="solve", target="linux-aarch64")[0]["status"] == "pass"  # aarch64 cudnn is still there

    broken = serve_channel(mirrors["broken"])
    project.mirrors({upstream: broken})
    code, data = project.check("--all")
    assert code == 1
    failed = rows(data, status="fail")
    assert {(r["target"], r["step"]) for r in failed} == {
        ("linux-64:driver=580.65.06", "lock"), ("linux-64:cuda=12.6", "lock"),
    }
    reason = failed[0]["reason"]
    assert "sha256 differs" in reason and broken in reason and "libnvinfer-10.3.0.26-cuda12_0.conda (linux-64)" in reason
    assert "cudnn" not in reason and "tensorrt-" not in reason


def test_channel_disappears_then_cache(project: Project, check_channel: Path, channel_server, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(check_channel, tmp_path / "ch")
    server = channel_server(tmp_path / "ch")
    setup_alpha(project, server.url, targets=["linux-64:cuda=12.6"])
    code, data = project.check("--all")
    assert code == 0
    assert not any(r["from_cache"] for r in data["results"])
    code, data = project.check("--all")  # nothing changed: revalidated (304), answered from the cache
    assert code == 0
    assert rows(data, step="solve")[0]["from_cache"] and rows(data, step="lock")[0]["from_cache"]

    server.stop()
    code, data = project.check("--all")
    assert code == 5  # a channel that cannot be read: the check is incomplete, not drift
    for step in ("solve", "lock"):
        (r,) = rows(data, step=step)
        assert r["status"] == "fail" and r["from_cache"] is True
        assert f"channel unreachable: {server.url}" in r["reason"]
    assert rows(data, step="matrix")[0]["status"] == "pass" and not rows(data, step="matrix")[0]["from_cache"]
    # the cached run: --offline answers from the cache and says so
    code, data = project.check("--all", "--offline")
    assert code == 0
    assert all(r["from_cache"] for r in data["results"] if r["step"] in ("solve", "lock"))


def test_unreachable_channel_without_cache(project: Project, tmp_path: Path) -> None:
    env = env_yaml(tmp_path / "environment.yml", ["http://127.0.0.1:9"], ["tensorrt"], name="nowhere")
    code, data = project.check("--file", str(env), "--target", "linux-64:cuda=12.6")
    assert code == 5
    (r,) = rows(data, step="solve")
    assert r["status"] == "fail" and "channel unreachable: http://127.0.0.1:9" in r["reason"] and not r["from_cache"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("linux-65", "unknown platform 'linux-65'"),
        ("linux-64:cuda=abc", "not a version"),
        ("linux-64:gpu=1", "unknown option 'gpu'"),
        ("linux-64:cuda", "expected KEY=VALUE"),
        ("linux-64:cuda=12.4,driver=535.104.05", "not both"),
        ("host:/nonexistent/prod.xml", "no such file"),
        ("host:", "needs a file"),
    ],
)
def test_bad_target_specs_exit_2(project: Project, tmp_path: Path, spec: str, words: str) -> None:
    env = env_yaml(tmp_path / "environment.yml", ["conda-forge"], ["python"], name="x")
    code = project.cli("check", "--file", str(env), "--target", spec)
    err = project.capsys.readouterr().err
    assert code == 2
    assert "bad target" in err and words in err


def test_bad_target_in_profile_names_the_file(project: Project, tmp_path: Path) -> None:
    project.profile("alpha", ["conda-forge"], targets=["linux-64:driver=five"])
    code = project.cli("check", "--all")
    err = project.capsys.readouterr().err
    assert code == 2 and "alpha.yaml" in err and "driver=" in err


def test_host_capture_target(project: Project, check_channel: Path, serve_channel) -> None:
    setup_alpha(project, serve_channel(check_channel))
    h200 = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"
    code, data = project.check("alpha", "--target", f"host:{h200}")
    assert code == 0, rows(data, status="fail")
    assert rows(data, step="solve")[0]["status"] == "pass"


def test_file_pip_pins_and_hand_edits(project: Project, check_channel: Path, serve_channel, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    index_root = tmp_path / "pypi"
    build_pip_index(index_root, {
        "tinypkg": [("1.0.0", "py3-none-any")],
        "x86only": [("2.0", "cp312-cp312-manylinux_2_17_x86_64")],
    })
    index = serve_channel(index_root) + "/simple"
    monkeypatch.setenv("ENVKIT_PIP_INDEX_URL", index)
    url = serve_channel(check_channel)
    env = env_yaml(tmp_path / "environment.yml", [url], ["python=3.12", "cuda-version=12.6", "tensorrt=10.3", "pip"],
                   name="pipenv", pip=["tinypkg==1.0.0", "x86only==2.0", "unpinned-thing"])
    code, data = project.check("--file", str(env), "--target", "linux-64:cuda=12.6", "--target", "linux-aarch64")
    assert code == 1
    assert rows(data, step="pip", target="linux-64:cuda=12.6")[0]["status"] == "pass"
    arm = rows(data, step="pip", target="linux-aarch64")[0]
    assert arm["status"] == "fail" and "x86only==2.0 has no file for linux-aarch64" in arm["reason"]
    assert rows(data, step="generated")[0]["status"] == "skip"

    env_yaml(env, [url], ["python=3.12", "cuda-version=12.6", "tensorrt=10.3", "pip"], name="pipenv",
             pip=["tinypkg==9.9.9"])
    code, data = project.check("--file", str(env), "--target", "linux-64:cuda=12.6")
    r = rows(data, step="pip")[0]
    assert code == 1 and r["status"] == "fail" and f"tinypkg==9.9.9 not found on {index}" in r["reason"]


def test_generated_file_edited_and_stale_lock(project: Project, check_channel: Path, serve_channel) -> None:
    setup_alpha(project, serve_channel(check_channel), targets=["linux-64:cuda=12.6"])
    env = project.envs / "alpha" / "environment.yml"
    env.write_text(env.read_text() + "  - trt-tools\n")
    code, data = project.check("alpha")
    assert code == 1
    assert "edited by hand" in rows(data, step="generated")[0]["reason"]
    lock = rows(data, step="lock")[0]
    assert lock["status"] == "fail" and "stale lock" in lock["reason"] and "trt-tools" in lock["reason"]
    assert rows(data, step="solve")[0]["status"] == "pass"


def test_repodata_fetched_once_per_channel_and_platform(project: Project, check_channel: Path, serve_channel) -> None:
    url = serve_channel(check_channel)
    for name in ("a1", "a2", "a3"):
        project.profile(name, [url], targets=GOOD_TARGETS)
        project.generate(name)
    code, data = project.check("--all")
    assert code == 0
    assert data["summary"]["repodata_requests"] == 3  # linux-64, linux-aarch64, noarch: once each for 9 checks
    assert len(data["results"]) == 3 * 3 * 5


def test_ci_command_as_a_subprocess(project: Project, check_channel: Path, serve_channel, tmp_path: Path) -> None:
    """What CI runs: `envkit check --all --junit report.xml` in the project directory, no flags."""
    import os
    import subprocess

    from check_fixtures import MATRIX

    setup_alpha(project, serve_channel(check_channel))
    env = dict(os.environ, ENVKIT_MATRIX=str(MATRIX))
    res = subprocess.run([sys.executable, "-m", "envkit", "check", "--all", "--junit", "report.xml"],
                         cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "11 passed, 0 failed, 4 skipped" in res.stdout
    assert ET.parse(project.root / "report.xml").getroot().get("tests") == "15"


def test_no_network_is_exit_5_reported_once_per_channel(project: Project, check_channel: Path, channel_server,
                                                         tmp_path: Path) -> None:
    """Regression: `check --all` without network exited 1 ("incompatible") and repeated "channel unreachable"
    for every environment and target."""
    server = channel_server(check_channel)
    for name in ("alpha", "beta"):
        project.profile(name, [server.url], targets=GOOD_TARGETS)
        project.generate(name)
    server.stop()
    code, data = project.check("--all")
    assert code == 5
    (u,) = data["summary"]["unreachable"]
    assert u["channel"] == server.url and u["error"].startswith(f"channel unreachable: {server.url}")
    assert len(u["checks"]) == 2 * len(GOOD_TARGETS)  # every solve it left undecided, named once
    assert project.cli("check", "--all") == 5
    out = project.capsys.readouterr().out
    assert [ln.split(":")[0] for ln in out.splitlines() if "channel unreachable: " in ln] == ["UNREACHABLE channel unreachable"]
    assert "FAIL" not in out and "0 failed" in out and "6 undecided (channel unreachable)" in out
