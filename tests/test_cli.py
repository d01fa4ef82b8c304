"""The CLI edge: help, lazy imports, list, error rendering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from envelope import data_of, error_of

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
H200 = ROOT / "tests" / "data" / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"

PROBE = """
import sys
from envkit.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ("rattler", "rattler_build", "onnx", "onnxruntime", "numpy", "tensorrt") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["resolve", "trt-yolo", "--host", str(H200)],
        ["validate", str(ROOT / "tests" / "data" / "envfiles" / "classic-trt86.yml")],
        ["matrix", "--json"],
    ],
)
def test_no_heavy_imports(argv: list[str]) -> None:
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    line = [x for x in r.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line == ["HEAVY="], r.stderr[-2000:]


def test_console_script_help() -> None:
    exe = Path(sys.executable).parent / "envkit"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert r.returncode == 0
    assert "exit codes" in r.stdout and "resolve" in r.stdout


def test_no_verb_is_usage() -> None:
    assert main([]) == 2


def test_list_shows_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(ROOT), "list", "--json"]) == 0
    data = data_of(capsys.readouterr().out, "list")
    names = {p["name"] for p in data["profiles"]}
    assert {"trt-yolo", "trt-bert", "trt-legacy", "ngc-like"} <= names


def test_error_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "resolve", "nope", "--json"])
    err = error_of(capsys.readouterr().out, "resolve", exit_code=2)
    assert code == 2
    assert err["code"] == "ProfileError" and "nope" in err["text"]


def test_usable_outside_the_repo(tmp_path: Path) -> None:
    """From an unrelated directory the packaged matrix and built-in profiles are found."""
    r = subprocess.run(
        [sys.executable, "-m", "envkit", "resolve", "trt-legacy", "--host", str(H200), "--json"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert r.returncode in (0, 1), r.stderr
    assert data_of(r.stdout, "resolve")["profile"] == "trt-legacy"


def _subparsers() -> dict[str, object]:
    import argparse

    from envkit.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_is_described_and_every_verb_has_an_example() -> None:
    """Regression: check --all/--junit/--offline/--channel, mirror-check --mirror/--upstream, bundle --out,
    smoke --timeout (no unit), run/remove --prefix had no description."""
    import argparse

    missing = []
    for verb, p in _subparsers().items():
        assert isinstance(p, argparse.ArgumentParser)
        assert (p.epilog or "").startswith("example:\n  ") and "envkit " in (p.epilog or ""), verb
        for a in p._actions:
            if a.help is None or (a.help == argparse.SUPPRESS and a.dest != "list"):
                missing.append(f"{verb} {'/'.join(a.option_strings) or a.dest}")
    assert missing == []
    smoke = subprocess.run([sys.executable, "-m", "envkit", "smoke", "--help"], capture_output=True, text=True)
    assert "--timeout SECONDS" in smoke.stdout and "example:" in smoke.stdout


def test_project_that_does_not_exist_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Regression: --project /nonexistent silently fell back to the shipped profiles."""
    assert main(["--project", str(tmp_path / "nonexistent"), "list"]) == 2
    err = capsys.readouterr().err
    assert "no such project directory" in err and "nonexistent" in err


def test_matrix_shows_its_own_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `envkit matrix` showed whichever installation's path first filled the (content-keyed) cache."""
    import shutil

    other = tmp_path / "other-install" / "matrix.yaml"
    other.parent.mkdir()
    shutil.copy(ROOT / "matrix.yaml", other)
    mine = tmp_path / "mine" / "matrix.yaml"
    mine.parent.mkdir()
    shutil.copy(ROOT / "matrix.yaml", mine)
    for m in (other, mine):  # separate processes: the in-memory cache does not hide the disk cache
        r = subprocess.run([sys.executable, "-m", "envkit", "--matrix", str(m), "matrix"], capture_output=True,
                           text=True, check=False)
        assert r.returncode == 0, r.stderr
        assert f"({m})" in r.stdout.splitlines()[0]
