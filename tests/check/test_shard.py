"""check --list / --shard I/N: every shard run locally, their union is the unsharded run exactly."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from check_fixtures import Project

from envkit.check.shard import Shard, assign, parse_shard
from envkit.check.steps import EnvUnit
from envkit.errors import UsageError
from envkit.host.machines import Machine

CORPUS = Path(__file__).resolve().parents[1] / "data" / "nvidia-smi" / "corpus"
TARGETS = ["linux-64:driver=470.57.02", "linux-64:driver=580.65.06", "linux-aarch64"]


def _fleet(tmp_path: Path) -> Path:
    """Six real captures (three drivers, two of them twice: same solve input, other files)."""
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    names = ["gpud-8x-h100-80gb-hbm3-535.161.08-q.txt", "gpud-8x-h100-80gb-hbm3-535.183.01-q.txt",
             "gpud-8x-h100-80gb-hbm3-550.90.07.txt"]
    for i, name in enumerate(names * 2):
        shutil.copy(CORPUS / name, fleet / f"node{i:02d}-{name}")
    return fleet


def _key(row: dict) -> tuple:  # type: ignore[type-arg]
    return tuple(sorted(row.items()))


def test_union_of_all_shards_is_the_unsharded_run(project: Project, check_channel: Path, serve_channel,
                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = serve_channel(check_channel)
    for name, trt in (("alpha", ">=10.0,<11"), ("beta", "8.6"), ("gamma", ">=11")):
        project.profile(name, [url], tensorrt=trt, targets=TARGETS[1:])
        project.generate(name)
    project.lock("alpha")
    fleet = f"host:{_fleet(tmp_path)}"
    project.check("--all", "--target", fleet, "--target", *TARGETS[:1])  # every run after this reads a warm cache
    code, whole = project.check("--all", "--target", fleet, "--target", *TARGETS[:1])
    assert whole["summary"]["failed"] >= 1  # a real mix: the 535 drivers cannot run TensorRT 11's CUDA
    code, listed = project.check("--all", "--target", fleet, "--target", *TARGETS[:1], "--list")
    assert code == 0 and listed["total"] == 3 * 7 and listed["shard"] is None
    assert {(j["environment"], j["target"]) for j in listed["jobs"]} == \
        {(r["environment"], r["target"]) for r in whole["results"]}
    n = 4
    rows: list[dict] = []  # type: ignore[type-arg]
    jobs: list[tuple[str, str]] = []
    cases = 0
    for i in range(1, n + 1):
        report = tmp_path / f"junit-{i}.xml"
        _, part = project.check("--all", "--target", fleet, "--target", *TARGETS[:1], "--shard", f"{i}/{n}",
                                "--junit", str(report))
        _, share = project.check("--all", "--target", fleet, "--target", *TARGETS[:1], "--shard", f"{i}/{n}",
                                 "--list")
        assert share["shard"] == f"{i}/{n}"
        jobs += [(j["environment"], j["target"]) for j in share["jobs"]]
        assert {(r["environment"], r["target"]) for r in part["results"]} == {tuple(j) for j in jobs[-share["total"]:]}
        rows += part["results"]
        cases += len(ET.parse(report).getroot().findall(".//testcase"))
    assert sorted(jobs) == sorted((j["environment"], j["target"]) for j in listed["jobs"])  # each job once
    assert sorted(map(_key, rows)) == sorted(map(_key, whole["results"]))
    assert cases == len(whole["results"])


def test_shares_are_deterministic_and_balanced(tmp_path: Path) -> None:
    machines = [Machine.from_spec(t) for t in ("linux-64:cuda=12.6", "linux-64:cuda=12.4", "linux-aarch64",
                                               "linux-64:cuda=11.8", "linux-64")]
    units = [EnvUnit(f"env{i}", tmp_path / f"env{i}.yml", machines=list(machines)) for i in range(7)]
    first = assign(units, 3)
    assert first == assign(units, 3)
    sizes = [first.count(k) for k in range(3)]
    assert sorted(sizes) == [11, 12, 12]  # 35 jobs: no share more than one job above another
    # machines with one solve input (two nodes of one kind) stay in one shard: one solve there
    same = [machines[0], replace(machines[0], label="node-2")]
    assert same[0].signature() == same[1].signature() and same[0] != same[1]
    grouped = assign([EnvUnit("e", tmp_path / "e.yml", machines=same + machines[1:3])], 2)
    assert grouped[0] == grouped[1]


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "3", "1/4/2", "", "1/100000"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)
    assert parse_shard(" 2/4 ") == Shard(2, 4)


def test_bad_shard_on_the_command_line_exits_2(project: Project, tmp_path: Path) -> None:
    project.profile("alpha", ["conda-forge"])
    assert project.cli("check", "--all", "--shard", "5/4") == 2
    assert "--shard" in project.capsys.readouterr().err
