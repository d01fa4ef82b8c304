"""envkit mirror-check against local upstream / complete / lagging / broken mirrors served on 127.0.0.1."""
# ruff: noqa: F811  (the fixtures imported from check_fixtures are test parameters by design)

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from channel_factory import PackageSpec
from check_fixtures import (
    Project,
    broken_copy,
    check_channel,  # noqa: F401  (fixture)
    lagging_copy,
    project,  # noqa: F401  (fixture)
)
from envelope import parsed, validate


def mirror_check(project: Project, *args: str) -> tuple[int, dict[str, Any]]:
    project.capsys.readouterr()
    code = project.cli("mirror-check", *args, "--json")
    return code, parsed(project.capsys.readouterr().out, "mirror-check")


def setup(project: Project, url: str) -> None:
    project.profile("alpha", [url], targets=["linux-64:cuda=12.6"])
    project.generate("alpha")
    project.lock("alpha")


def bad(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((p["status"], p["package"], p["subdir"]) for p in data["packages"] if p["status"] != "present")


def test_complete_lagging_broken_mirrors(project: Project, check_channel: Path, serve_channel, tmp_path: Path) -> None:
    upstream = serve_channel(check_channel)
    setup(project, upstream)
    complete = serve_channel(shutil.copytree(check_channel, tmp_path / "complete"))
    code, data = mirror_check(project, "alpha", "--mirror", complete, "--upstream", upstream)
    assert code == 0, bad(data)
    assert data["summary"]["present"] == data["summary"]["total"] == 6

    lag_dir = lagging_copy(check_channel, tmp_path / "lagging", ("linux-64", "cudnn-9.10.1.4-cuda12_0"))
    old = time.time() - 3 * 86400
    os.utime(lag_dir / "linux-64" / "repodata.json", (old, old))
    lagging = serve_channel(lag_dir)
    code, data = mirror_check(project, "alpha", "--mirror", lagging)
    assert code == 1
    assert bad(data) == [("missing-on-mirror", "cudnn-9.10.1.4-cuda12_0.conda", "linux-64")]
    (age,) = [c for c in data["channels"] if c["subdir"] == "linux-64"]
    assert age["mirror"] == lagging and age["upstream"] == upstream
    assert age["lag_seconds"] is not None and age["lag_seconds"] > 2 * 86400

    lib = PackageSpec("libnvinfer", "10.3.0.26", build="cuda12_0", depends=("cuda-version >=12,<13", "cudnn 9.*"))
    broken = serve_channel(broken_copy(check_channel, tmp_path / "broken", lib))
    project.mirrors({upstream: broken})  # from the config this time
    code, data = mirror_check(project)
    assert code == 1
    assert bad(data) == [("sha256-differs", "libnvinfer-10.3.0.26-cuda12_0.conda", "linux-64")]
    (item,) = [p for p in data["packages"] if p["status"] != "present"]
    assert item["upstream_sha256"] != item["mirror_sha256"] and "broken sync" in item["reason"]
    # the table names the package
    assert project.cli("mirror-check") == 1
    out = project.capsys.readouterr().out
    assert "sha256-differs" in out and "libnvinfer-10.3.0.26-cuda12_0.conda" in out


def test_env_file_pins_without_lock(project: Project, check_channel: Path, serve_channel, tmp_path: Path) -> None:
    upstream = serve_channel(check_channel)
    project.profile("alpha", [upstream], targets=["linux-64:cuda=12.6"], platforms=["linux-64"])
    project.generate("alpha")
    lagging = serve_channel(lagging_copy(check_channel, tmp_path / "lag", ("linux-64", "tensorrt-10.3.0.26")))
    code, data = mirror_check(project, "alpha", "--mirror", lagging)
    assert code == 1
    assert bad(data) == [("missing-on-mirror", "tensorrt-10.3.0.26-cuda12_0.conda", "linux-64")]


def test_no_mirror_is_a_usage_error(project: Project, check_channel: Path, serve_channel) -> None:
    setup(project, serve_channel(check_channel))
    assert project.cli("mirror-check", "alpha") == 2
    assert "no mirror" in project.capsys.readouterr().err
    assert project.cli("mirror-check", "alpha", "--upstream", "http://127.0.0.1:9") == 2


def test_unreachable_mirror(project: Project, check_channel: Path, serve_channel) -> None:
    setup(project, serve_channel(check_channel))
    code, data = mirror_check(project, "alpha", "--mirror", "http://127.0.0.1:9/mirror")
    assert code == 1
    assert {p["status"] for p in data["packages"]} == {"unreachable"}
    assert "channel unreachable: http://127.0.0.1:9/mirror" in data["packages"][0]["reason"]


def test_checking_nothing_is_a_failure_with_a_reason(project: Project, check_channel: Path, serve_channel,
                                                     tmp_path: Path) -> None:
    """Regression: an upstream holding none of the locked packages gave "0 of 0 pinned packages identical", exit 0."""
    upstream = serve_channel(check_channel)
    setup(project, upstream)
    other = serve_channel(shutil.copytree(check_channel, tmp_path / "other"))
    project.capsys.readouterr()
    code = project.cli("mirror-check", "alpha", "--mirror", other, "--upstream", other, "--json")
    out = project.capsys.readouterr().out
    doc = validate(json.loads(out), "mirror-check")
    assert code == 1 and doc["exit_code"] == 1 and doc["data"]["summary"]["total"] == 0
    (err,) = [m for m in doc["messages"] if m["level"] == "error"]
    assert "none of the 6 pinned packages comes from the upstream" in err["text"] and upstream in err["text"]
    assert err["hint"].startswith(f"pass --upstream {upstream}")
    assert project.cli("mirror-check", "alpha", "--mirror", other, "--upstream", other) == 1
    text = project.capsys.readouterr().out
    assert "0 of 0" not in text and "error: nothing was checked" in text


def test_mirror_serving_garbage_is_reported_broken(project: Project, check_channel: Path, serve_channel,
                                                    tmp_path: Path) -> None:
    """Regression (issue 9): non-JSON repodata, a JSON list or a bad timestamp on the mirror was a traceback."""
    setup(project, serve_channel(check_channel))
    for i, payload in enumerate([b"<html>proxy login</html>", b"[1, 2, 3]", None]):
        mirror = shutil.copytree(check_channel, tmp_path / f"m{i}")
        for repodata in mirror.glob("*/repodata.json"):
            if payload is None:  # valid repodata whose timestamps are not numbers
                data = json.loads(repodata.read_text())
                for rec in data.get("packages.conda", {}).values():
                    rec["timestamp"] = "yesterday"
                repodata.write_text(json.dumps(data))
            else:
                repodata.write_bytes(payload)
        code, data = mirror_check(project, "alpha", "--mirror", serve_channel(mirror))
        assert code == 1 and {p["status"] for p in data["packages"]} == {"unreachable"}, data
        assert "mirror: not" in data["packages"][0]["reason"]
