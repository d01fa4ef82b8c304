"""check's steps over the engine: machines that give the same solve input share one solve."""

from __future__ import annotations

import os
from pathlib import Path

from check_fixtures import MATRIX, Project

from envkit.check.steps import CheckRun
from envkit.check.units import assign_machines, select_units
from envkit.config import load_config
from envkit.context import Settings


def test_machines_with_one_solve_input_share_one_solve(project: Project, check_channel: Path,
                                                       serve_channel) -> None:  # type: ignore[no-untyped-def]
    project.profile("alpha", [serve_channel(check_channel)], targets=["linux-64", "linux-64:cuda=12.6"])
    project.generate("alpha")
    settings = Settings(project_dir=project.root, matrix_path=MATRIX, cache_dir=Path(os.environ["ENVKIT_CACHE_DIR"]))
    units = select_units(settings, ["alpha"], False, [])
    assign_machines(units, settings, [])
    plain, declared = units[0].machines
    assert plain.label == "linux-64" and declared.label == "linux-64:cuda=12.6"
    assert plain.signature("12.6") == declared.signature("12.6") != plain.signature("13.0")
    run = CheckRun(settings, config=load_config(settings))
    solves = [r for r in run.run(units) if r.step == "solve"]
    assert [(r.target, r.status) for r in solves] == [("linux-64", "pass"), ("linux-64:cuda=12.6", "pass")]
    assert solves[0].reason == solves[1].reason and "cuda-version 12.6" in solves[0].reason
    assert len([k for k in run.memo._values if k[0] == "solve"]) == 1
