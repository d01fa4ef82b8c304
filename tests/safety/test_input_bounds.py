"""Regression tests (issue 9): bounded input, no hangs, no tracebacks, the documented exit codes.

Each case failed on the code before the fix: a hang, a traceback or exit 0. Verbs that could hang run as real
subprocesses with a time limit; the rest run in-process through ``envkit.cli.main``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMI = ROOT / "tests" / "data" / "nvidia-smi"
CSV = SMI / "corpus" / "nvidia_gpu_exporter-h200-590.48.01-query-gpu.csv"
PROFILE = ROOT / "environments" / "trt-bert.yaml"
ENVFILE = ROOT / "tests" / "data" / "envfiles" / "cuda128-trt108.yml"


def envkit(*args: str, timeout: float = 30, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command; a hang fails the test through TimeoutExpired."""
    return subprocess.run([sys.executable, "-m", "envkit", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def assert_clean(r: subprocess.CompletedProcess[str], code: int) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == code, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ['a0: &a0 ["x"' + ', "x"' * (width - 1) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines)


# ---- YAML: alias bombs, recursion, depth, tags ---------------------------------------------
def test_alias_bomb_in_every_yaml_reader(tmp_path: Path) -> None:
    bomb = alias_bomb()
    env = tmp_path / "environment.yml"
    env.write_text(bomb + "\nname: x\ndependencies: *a9\n")
    r = envkit("validate", str(env))
    assert_clean(r, 2)
    assert "alias bomb" in r.stderr
    assert_clean(envkit("check", "--file", str(env), "--offline"), 2)

    prof = tmp_path / "bomb.yaml"
    prof.write_text(PROFILE.read_text() + "\n" + bomb + "\n")
    assert_clean(envkit("resolve", str(prof), "--host", str(CSV)), 2)
    assert_clean(envkit("generate", str(prof), "--host", str(CSV), "-o", str(tmp_path / "out.yml")), 2)

    matrix = tmp_path / "matrix.yaml"
    matrix.write_text((ROOT / "matrix.yaml").read_text() + "\n" + bomb.replace("a0:", "zz_a0:", 1) + "\n")
    assert_clean(envkit("--matrix", str(matrix), "matrix", "--check"), 2)

    project = tmp_path / "project"
    (project / "environments").mkdir(parents=True)
    shutil.copy(prof, project / "environments" / "bomb.yaml")
    r = envkit("--project", str(project), "list")
    assert "Traceback" not in r.stderr and r.returncode in (0, 2)


@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [*a]\n", "recursive"),
    ("a: &a {b: *a}\n", "recursive"),
    ("dependencies: " + "[" * 20000 + "]" * 20000 + "\n", "not valid YAML"),
    ("dependencies:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), "YAML"),
    ("name: x\ndependencies: !foo [python]\n", "unsupported YAML tag"),
    ("name: !!python/object/apply:os.system [true]\n", "YAML"),
])
def test_bad_yaml_is_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(text)
    assert main(["validate", str(env)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(env) in err


# ---- non-regular files ---------------------------------------------------------------------
def test_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "env.fifo"
    os.mkfifo(fifo)
    r = envkit("validate", str(fifo), timeout=20)
    assert_clean(r, 2)
    assert "not a regular file" in r.stderr
    assert_clean(envkit("doctor", "--host", str(fifo), timeout=20), 2)
    assert_clean(envkit("resolve", str(PROFILE), "--host", str(fifo), timeout=20), 2)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_input_size_is_bounded(tmp_path: Path) -> None:
    """A 1,000,000-row --query-gpu CSV (real header and row, repeated) is refused at once, not parsed for a minute."""
    header, row = CSV.read_text().splitlines()[:2]
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write(header + "\n")
        for _ in range(100):
            fh.write((row + "\n") * 10_000)
    r = envkit("doctor", "--host", str(big), "--json", timeout=30)
    assert_clean(r, 2)
    envelope = json.loads(r.stdout)
    assert envelope["exit_code"] == 2 and "too large" in envelope["messages"][0]["text"]


def test_gpu_records_are_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header, row = CSV.read_text().splitlines()[:2]
    many = tmp_path / "many.csv"
    many.write_text(header + "\n" + (row + "\n") * 2000)
    assert main(["doctor", "--host", str(many)]) == 2
    assert "more than 1024 GPU rows" in capsys.readouterr().err


# ---- captures: drivers, digits, JSON depth ----------------------------------------------------
@pytest.mark.parametrize("driver", ["abc.def", "5x0.a.b", "zzz", "590.48.01; rm -rf /"])
def test_garbage_driver_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], driver: str) -> None:
    cap = tmp_path / "cap.csv"
    cap.write_text(CSV.read_text().replace("590.48.01", driver))
    assert main(["resolve", str(PROFILE), "--host", str(cap)]) == 2
    assert "driver version" in capsys.readouterr().err
    assert main(["doctor", "--host", str(cap)]) == 2


def test_capture_without_driver_is_unverified(capsys: pytest.CaptureFixture[str]) -> None:
    capture = SMI / "gpu-run-2026-11-22" / "L.txt"
    code = main(["resolve", str(PROFILE), "--host", str(capture), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert out.get("verified", out.get("data", {}).get("verified")) is False


@pytest.mark.parametrize("digit", ["²", "³", "¹"])
def test_superscript_digits_in_index_and_count(tmp_path: Path, capsys: pytest.CaptureFixture[str], digit: str) -> None:
    lines = CSV.read_text().splitlines()
    header = lines[0].split(", ")
    cells = lines[1].split(", ")
    cells[header.index("index")] = digit
    cap = tmp_path / "cap.csv"
    cap.write_text(lines[0] + "\n" + ", ".join(cells) + "\n")
    assert main(["doctor", "--host", str(cap)]) == 0
    capsys.readouterr()
    xml = tmp_path / "cap.xml"
    xml.write_text((SMI / "h200-driver-580.159.04" / "q.xml").read_text().replace(
        "<attached_gpus>1</attached_gpus>", f"<attached_gpus>{digit}</attached_gpus>"))
    assert main(["doctor", "--host", str(xml)]) == 0


def test_json_capture_nested_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cap = tmp_path / "doctor.json"
    cap.write_text('{"gpus": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["doctor", "--host", str(cap)]) == 2
    assert "nests deeper" in capsys.readouterr().err


# ---- numbers a person gives -------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "-5", "0", "abc", ""])
def test_doctor_timeout_option(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["doctor", "--timeout", value])
    except SystemExit as exc:  # argparse: not a number at all
        code = int(exc.code or 0)
    assert code == 2
    assert "--timeout" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["abc", "nan", "-5", "inf"])
def test_timeout_variables(value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENVKIT_NVIDIA_SMI_TIMEOUT", value)
    assert main(["doctor"]) == 2
    assert "ENVKIT_NVIDIA_SMI_TIMEOUT" in capsys.readouterr().err


def test_lock_timeout_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit.create.staging import env_lock
    from envkit.errors import InputError

    monkeypatch.setenv("ENVKIT_LOCK_TIMEOUT", "abc")
    with pytest.raises(InputError, match="ENVKIT_LOCK_TIMEOUT"), env_lock(tmp_path / "p"):
        pass
    monkeypatch.setenv("ENVKIT_LOCK_TIMEOUT", "0")
    with env_lock(tmp_path / "p"):
        pass


@pytest.mark.parametrize("value", ["0", "nan", "inf"])
def test_smoke_timeout_is_checked(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["smoke", "--timeout", value, "--prefix", "/nonexistent"]) == 2
    assert "--timeout" in capsys.readouterr().err


# ---- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "x$(touch${IFS}PWNED)", "x`touch PWNED`", 'x"$(touch PWNED)"', "a\x1b[2Jb", "a;b", "a b", "a/../b", ".hidden",
    "x" * 300, "ü",
])
def test_names_only_as_conda_accepts(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    env = tmp_path / "environment.yml"
    env.write_text(ENVFILE.read_text())
    assert main(["create", "--file", str(env), "--name", name, "--dry-run", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "environment name" in err
    assert "\x1b" not in err
    assert main(["run", name, "--", "true"]) == 2
    assert main(["remove", name]) == 2
    assert not (tmp_path / "PWNED").exists()


# ---- files envkit writes follow the umask -----------------------------------------------------
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_umask(tmp_path: Path, umask: int, mode: int) -> None:
    out = tmp_path / "environment.yml"
    code = (f"import os, sys; os.umask({umask}); from envkit.cli import main; "
            f"sys.exit(main(['generate', {str(PROFILE)!r}, '--host', {str(CSV)!r}, '-o', {str(out)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == mode


# ---- outputs that cannot be written: an error naming the file, never a traceback -----------------------
def test_output_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    assert main(["generate", str(PROFILE), "--host", str(CSV), "-o", str(folder)]) == 2
    assert main(["check", "--file", str(ENVFILE), "--offline", "--junit", str(folder)]) == 2
    assert main(["check", "--file", str(ENVFILE), "--offline", "--junit", "/"]) == 2
    # a place nobody can write (proc is not writable, even for root): exit 3, the file named
    assert main(["generate", str(PROFILE), "--host", str(CSV), "-o", "/proc/envkit-test/environment.yml"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "/proc/envkit-test/environment.yml" in err


def test_shape_with_5000_digits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--prefix", "/tmp", "--model", "/dev/null", "--shape", "in:" + "9" * 5000]) == 2
    assert "--shape" in capsys.readouterr().err


# ---- environment and option values that are not what they claim --------------------------------
def test_garbage_cuda_override_and_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(ENVFILE.read_text())
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "garbage!")
    assert main(["doctor"]) == 2
    assert main(["create", "--file", str(env), "--name", "x", "--dry-run"]) == 2
    assert "CONDA_OVERRIDE_CUDA" in capsys.readouterr().err
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA")
    for channel in ("ht!tp://::::", "http://host:99999999/x", "https:///nohost"):
        assert main(["create", "--file", str(env), "--name", "x", "--dry-run", "--host", str(CSV),
                     "--channel", channel]) == 2
        assert "not a channel URL" in capsys.readouterr().err


def test_prefix_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("x\n")
    env = tmp_path / "environment.yml"
    env.write_text(ENVFILE.read_text())
    assert main(["create", "--file", str(env), "--prefix", str(tmp_path / "afile" / "env"), "--host", str(CSV),
                 "--channel", (tmp_path / "nochannel").as_uri()]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "afile" in err
    assert (tmp_path / "afile").read_text() == "x\n"


@pytest.mark.parametrize("spec", ["'::'", "'=1.0'", "foo===", "'foo>='"])
def test_specs_create_rejects_validate_names_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       spec: str) -> None:
    """create exits 2 (foo=== was a traceback from rattler); validate exits 2 too, with the very same message."""
    env = tmp_path / "environment.yml"
    env.write_text(f"name: x\nchannels: [{(tmp_path / 'ch').as_uri()}]\ndependencies:\n  - {spec}\n")
    assert main(["create", "--file", str(env), "--name", "x", "--dry-run", "--host", str(CSV)]) == 2
    err = capsys.readouterr().err
    message = err.split("dependencies[0]: ", 1)[1].strip().splitlines()[0]
    assert main(["validate", str(env), "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["messages"][0]
    assert error["level"] == "error" and error["text"].endswith("dependencies[0]: " + message), (message, error)


def test_unwritable_prefix_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/proc refuses new files even to root: the lock beside the prefix cannot be made (was a traceback)."""
    env = tmp_path / "environment.yml"
    env.write_text(ENVFILE.read_text())
    assert main(["create", "--file", str(env), "--prefix", "/proc/envkit-test-prefix", "--host", str(CSV),
                 "--channel", (tmp_path / "ch").as_uri()]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot lock /proc/envkit-test-prefix" in err


def test_lone_surrogates_are_not_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz suite: "\\ud800" in a quoted YAML or JSON string crashed the output (UnicodeEncodeError)."""
    env = tmp_path / "environment.yml"
    env.write_text('name: "\\ud800"\ndependencies: [python]\n')
    assert main(["validate", str(env)]) == 2
    cap = tmp_path / "doctor.json"
    cap.write_text('{"driver_version": "570.1", "cuda_version": null, "gpus": [{"index": 0, "name": "\\udfff"}]}')
    assert main(["doctor", "--host", str(cap)]) == 2
    assert capsys.readouterr().err.count("lone UTF-16 surrogate") == 2
