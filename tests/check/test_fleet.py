"""check over a fleet (host:DIR of real captures): kinds of machine, one solve per solve input, the summary table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from check_fixtures import Project

CORPUS = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi" / "corpus"
KINDS = ["gpud-8x-h100-80gb-hbm3-535.161.08-q.txt", "gpud-8x-h100-80gb-hbm3-535.183.01-q.txt",
         "gpud-8x-h100-80gb-hbm3-550.90.07.txt"]


def test_fleet_summary_counts_kinds_nodes_and_solves(project: Project, check_channel: Path, serve_channel,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    url = serve_channel(check_channel)
    project.profile("ten", [url], tensorrt=">=10.0,<11", targets=["linux-64:driver=535.104.05"])
    project.profile("eleven", [url], tensorrt=">=11", targets=["linux-64:driver=580.65.06"])
    project.generate("ten")
    project.generate("eleven")
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    for i in range(9):  # 3 nodes of each kind, each its own file
        shutil.copy(CORPUS / KINDS[i % 3], fleet / f"node{i}.txt")
    code, data = project.check("--all", "--target", f"host:{fleet}")
    sm = data["summary"]
    assert code == 1 and len(data["results"]) == 2 * 9 * 5
    kinds = {m["kind"]: m for m in sm["machines"]}
    assert len(kinds) == 3 and all(m["nodes"] == 3 for m in kinds.values())
    assert all("driver" in k and "H100" in k for k in kinds)
    # TensorRT 11 needs CUDA 13 (driver >= 580): every node of every kind fails it, TensorRT 10 runs on all
    for m in kinds.values():
        assert set(m["failing"]) == {"eleven"} and m["nodes_affected"] == 3, m
    # two solve inputs (the 535 drivers both give __cuda=12.2; 550 gives 12.4) per environment, not nine
    assert sm["solves"] <= 2 * 2
    # the human output: a table of kinds (not of nodes) once there are many, failures once per kind
    monkeypatch.setattr("envkit.commands.check.MAX_TABLE_TARGETS", 4)
    project.capsys.readouterr()
    assert project.cli("check", "--all", "--target", f"host:{fleet}") == 1
    out = project.capsys.readouterr().out
    assert "9 machines of 3 kinds" in out and "kind of machine" in out
    assert out.count("FAIL") == len([ln for ln in out.splitlines() if ln.startswith("FAIL")])
    assert "(and 2 more nodes of this kind)" in out
