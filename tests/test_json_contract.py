"""The `--json` contract (README.md, "JSON output"): every verb, on success and on error, prints one
envelope ``{schema, verb, exit_code, data, messages}`` (validated by tests/envelope.py)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from check_fixtures import MATRIX, Project, check_channel, project  # noqa: F401  (fixtures)
from envelope import data_of, error_of, validate

from envkit.cli import VERBS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"
ENVFILE = ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml"

# one cheap failure per verb: (argv, exit code, error class)
ERRORS: dict[str, tuple[list[str], int, str]] = {
    "doctor": (["doctor", "--host", "/nonexistent/capture.txt"], 2, "InputError"),
    "matrix": (["--matrix", "/nonexistent/matrix.yaml", "matrix"], 2, "MatrixError"),
    "list": (["list", "--no-such-option"], 2, "UsageError"),
    "resolve": (["resolve", "no-such-profile"], 2, "ProfileError"),
    "generate": (["generate", "no-such-profile"], 2, "ProfileError"),
    "validate": (["validate", "/nonexistent/environment.yml"], 2, "InputError"),
    "create": (["create"], 2, "InputError"),
    "remove": (["remove", "no-such-env"], 2, "InputError"),
    "smoke": (["smoke", "no-such-env"], 2, "InputError"),
    "libs": (["libs", "--prefix", "/nonexistent/env"], 2, "InputError"),
    "check": (["check", "no-such-profile"], 2, "ProfileError"),
    "mirror-check": (["mirror-check"], 2, "InputError"),
    "bundle": (["bundle", "--out", "/nonexistent/out"], 2, "InputError"),
    "explain": (["explain", "/nonexistent/build.log"], 2, "InputError"),
    "shell-hook": (["shell-hook", "no-such-env"], 2, "InputError"),
    "packages": (["packages", "no-such-env"], 2, "InputError"),
    "export": (["export", "no-such-env"], 2, "InputError"),
    "init": (["init", "demo", "--from", "/nonexistent/environment.yml"], 2, "InputError"),
    "clean": (["clean", "--no-such-option"], 2, "UsageError"),
    "update": (["update", "no-such-env"], 2, "InputError"),
}
# verbs whose output is the program's or the shell's own, never JSON
NO_JSON = {"run", "shell", "completion"}


def test_every_json_verb_is_covered() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    with_json = {v for v, p in sub.choices.items() if any(a.dest == "json" for a in p._actions)}
    assert with_json == set(ERRORS) and with_json | NO_JSON == set(VERBS)


@pytest.mark.parametrize("verb", sorted(ERRORS))
def test_error_envelope(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv, code, cls = ERRORS[verb]
    assert main(["--project", str(ROOT), *argv, "--json"]) == code
    out = capsys.readouterr()
    err = error_of(out.out, verb, exit_code=code)
    assert err["code"] == cls and err["level"] == "error" and err["hint"], err
    assert out.err == ""  # with --json the error is in the envelope only


def test_cheap_success_envelopes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def ok(verb: str, *argv: str, code: int = 0) -> dict:
        assert main(["--project", str(ROOT), verb, *argv, "--json"]) == code
        return data_of(capsys.readouterr().out, verb, exit_code=code)

    assert ok("doctor", "--host", str(H200))["driver_version"] == "580.159.04"
    assert ok("matrix")["cuda"]
    assert "profiles" in ok("list")
    assert ok("resolve", "trt-yolo", "--host", str(H200))["chosen"]
    assert ok("generate", "trt-yolo", "--host", str(H200), "-o", str(tmp_path / "e.yml"))["action"] == "written"
    assert ok("validate", str(ENVFILE))["file"] == str(ENVFILE)
    assert ok("smoke", "--prefix", str(tmp_path), "--python", sys.executable)["prefix"] == str(tmp_path.resolve())
    assert ok("clean", "--dry-run") is not None
    venv_prefix = Path(sys.prefix)  # the test venv is an environment
    libs = ok("libs", "--prefix", str(venv_prefix), "--live")
    assert libs["prefix"] == str(venv_prefix.resolve()) and libs["live"]["differences"] == []
    assert {"libraries", "copies", "findings", "probes"} <= set(libs)


def test_init_envelope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "environments").mkdir()
    assert main(["--project", str(tmp_path), "init", "demo", "--json"]) == 0
    data_of(capsys.readouterr().out, "init", exit_code=0)
    assert (tmp_path / "environments" / "demo.yaml").is_file()


def test_doctor_envelope_reads_back_as_a_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--host", str(H200), "--json"]) == 0
    saved = tmp_path / "doctor.json"
    saved.write_text(capsys.readouterr().out)
    assert main(["doctor", "--host", str(saved), "--json"]) == 0
    assert data_of(capsys.readouterr().out, "doctor")["gpus"][0]["name"] == "NVIDIA H200"
    # an error envelope is not host facts
    assert main(["doctor", "--host", "/nonexistent", "--json"]) == 2
    saved.write_text(capsys.readouterr().out)
    assert main(["doctor", "--host", str(saved), "--json"]) == 2
    assert "not of `envkit doctor --json`" in error_of(capsys.readouterr().out, "doctor")["text"]


def test_usage_error_before_the_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-flag", "--json"]) == 2
    doc = validate(json.loads(capsys.readouterr().out), "envkit")
    assert doc["messages"][0]["code"] == "UsageError"


@pytest.mark.slow
def test_pipeline_success_envelopes(project: Project, check_channel: Path, serve_channel,  # noqa: F811
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """create, list, check, mirror-check, bundle, remove on one real local channel."""
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.6")
    upstream = serve_channel(check_channel)
    project.profile("alpha", [upstream], targets=["linux-64:cuda=12.6"], platforms=["linux-64"])

    def ok(*argv: str) -> dict:
        project.capsys.readouterr()
        code = project.cli(*argv, "--json")
        out = project.capsys.readouterr().out
        assert code == 0, out
        return data_of(out, argv[0], exit_code=0)

    assert ok("create", "alpha", "--no-smoke")["status"] == "created"
    assert "alpha" in {e["name"] for e in ok("list")["environments"]}
    assert ok("check", "alpha")["summary"]["ok"] is True
    mirror = serve_channel(shutil.copytree(check_channel, tmp_path / "mirror"))
    assert ok("mirror-check", "alpha", "--mirror", mirror, "--upstream", upstream)["summary"]["ok"] is True
    assert ok("bundle", "alpha", "--out", str(tmp_path / "bundle"))["environment"] == "alpha"
    assert ok("packages", "alpha")
    assert ok("export", "alpha", "--format", "explicit", "-o", str(tmp_path / "explicit.txt"))
    assert ok("shell-hook", "alpha", "--shell", "bash")
    assert ok("remove", "alpha", "-y")["name"] == "alpha"
