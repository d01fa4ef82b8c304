"""Fuzz suite (issue 9): every input-reading verb over generated bad inputs (Hypothesis).

Inputs are real files (environment files, profiles, captures, matrix.yaml, envkit.toml, a bundle manifest)
mutated the way an attacker or a careless user would (cut, spliced, junk and hostile YAML inserted), plus
structured junk and raw bytes. Each case runs the real CLI in-process and asserts:

* no traceback: only ``SystemExit`` from argparse and the CLI's own return codes get out;
* a documented exit code with the right meaning (2 for bad input; 0/1 when the mutation is still valid);
* no hang: a per-case time limit (SIGALRM raises in the case; ``faulthandler`` ends the run if even that fails);
* nothing written outside the places the verb owns (the case's folder is compared before and after).
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CASE_SECONDS = 10
ENVFILES = sorted((DATA / "envfiles").glob("*.yml")) + sorted((DATA / "envfiles" / "corpus").glob("*.y*ml"))[:12]
CAPTURES = sorted((DATA / "nvidia-smi" / "corpus").glob("*-[0-9]*.*"))[::6] + sorted(
    (DATA / "nvidia-smi" / "h200-driver-580.159.04").glob("*.*"))
PROFILES = sorted((ROOT / "environments").glob("*.yaml"))
HOST = DATA / "nvidia-smi" / "h200-driver-580.159.04" / "q.xml"
HOSTILE = [
    "a: &a [*a]", "x: !!python/object/apply:os.system ['touch PWNED']", "<<: *nothing", "k: !custom 1",
    "\x00", "\t- \t", "{{{{", "'unclosed", '"unclosed', "9" * 5000, "²³¹", "- " * 300, "&x " * 50,
    "dependencies: " + "[" * 300, "  - pip:\n    - --index-url http://127.0.0.1:9/x\n    - -e ./pkg",
    "channels: ['ht!tp://::::']", "name: 'x$(touch PWNED)'", "- python=3.1O", "- '::'", "- foo===",
    "\ufeff", "\u202e", "\r\n\r", 'x: "\\ud800"', '"\\udfff": 1', "...", "---\n---", "%YAML 9.9", "? [a, b]\n: c",
    "b0: &b0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(  # an alias bomb: 10^9 values once expanded
        f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]\n" for i in range(1, 10)),
]


class CaseTimeout(Exception):
    pass


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    def alarm(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"the case ran over {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    faulthandler.dump_traceback_later(seconds * 3, exit=True, file=sys.__stderr__)  # a hang in C code ends the run
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


@st.composite
def mutated(draw: st.DrawFn, sources: list[Path]) -> bytes:
    """A real file, cut, spliced and salted with hostile fragments."""
    text = draw(st.sampled_from(sources)).read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [""]
        op = draw(st.sampled_from(["insert", "delete", "replace", "cut", "duplicate", "junk"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "insert":
            lines.insert(i, draw(st.sampled_from(HOSTILE)) + "\n")
        elif op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "replace":
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i] = indent + draw(st.sampled_from(HOSTILE)) + "\n"
        elif op == "cut":
            lines = lines[:i]
        elif op == "duplicate":
            lines[i:i] = lines[i:i + draw(st.integers(1, 5))] * draw(st.integers(1, 3))
        else:
            lines.insert(i, draw(st.text(max_size=40)) + "\n")
    data = "".join(lines).encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data)))]  # cut anywhere, even inside a UTF-8 sequence
    return data


yaml_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())
raw = st.binary(max_size=3000)


def bad(sources: list[Path]) -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(sources), mutated(sources), yaml_junk, raw)


FUZZ = settings(max_examples=int(os.environ.get("ENVKIT_FUZZ_EXAMPLES", "50")), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


class Case:
    """One fuzz case's world: a folder with the input, owned folders for caches, environments and output."""

    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self.owned = base / "owned"  # caches, config, envs: the places the verbs may write
        for var, sub in (("ENVKIT_CACHE_DIR", "cache"), ("XDG_CACHE_HOME", "xdg-cache"), ("RATTLER_CACHE_DIR", "rc"),
                         ("CONDA_ENVS_PATH", "envs"), ("XDG_DATA_HOME", "data")):
            (self.owned / sub).mkdir(parents=True, exist_ok=True)
            monkeypatch.setenv(var, str(self.owned / sub))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
        monkeypatch.setenv("HOME", str(base / "home"))
        monkeypatch.setenv("ENVKIT_OFFLINE", "1")
        monkeypatch.chdir(base)

    def run(self, args: list[str], allowed: set[int], may_write: tuple[str, ...] = ()) -> int:
        before = snapshot(self.base)
        try:
            with time_bound(CASE_SECONDS):
                code = main(args)
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        after = snapshot(self.base)
        changed = {p for p in set(after) | set(before) if after.get(p) != before.get(p)}
        stray = {p for p in changed if not p.startswith(("owned/", *may_write))}
        assert not stray, f"wrote outside its places: {sorted(stray)[:5]}"
        assert not (self.base / "PWNED").exists()
        assert code in allowed, f"exit {code} for {args}"
        return code


@pytest.fixture
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    return lambda: tmp_path_factory.mktemp("fuzz")


def _write(base: Path, name: str, data: bytes) -> Path:
    p = base / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


@FUZZ
@given(data=bad(ENVFILES))
def test_validate(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    f = _write(base, "environment.yml", data)
    case.run(["validate", str(f)], {0, 1, 2})
    case.run(["validate", str(f), "--json", "--host", str(HOST)], {0, 1, 2})
    assert "Traceback" not in capsys.readouterr().err


@FUZZ
@given(data=bad(ENVFILES))
def test_check_file_offline(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    f = _write(base, "environment.yml", data)
    case.run(["check", "--file", str(f), "--offline", "--target", "linux-64:cuda=12.4"], {0, 1, 2, 4, 5})


@FUZZ
@given(data=bad(ENVFILES))
def test_create_dry_run(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    f = _write(base, "environment.yml", data)
    case.run(["create", "--file", str(f), "--name", "fz", "--dry-run", "--offline", "--host", str(HOST)],
             {0, 2, 3, 4, 5})


@FUZZ
@given(data=bad(CAPTURES))
def test_host_captures(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    f = _write(base, "capture.txt", data)
    case.run(["doctor", "--host", str(f), "--json"], {0, 2, 3})
    case.run(["resolve", "trt-bert", "--host", str(f)], {0, 1, 2, 3})


@FUZZ
@given(data=bad(PROFILES))
def test_profiles(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    (base / "project" / "environments").mkdir(parents=True)
    f = _write(base, "project/environments/fz.yaml", data)
    case.run(["resolve", str(f), "--host", str(HOST)], {0, 1, 2})
    case.run(["generate", str(f), "--host", str(HOST), "-o", str(base / "out.yml")], {0, 1, 2}, ("out.yml",))
    case.run(["--project", str(base / "project"), "list", "--json"], {0, 2})


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 5))
@given(data=mutated([ROOT / "matrix.yaml"]))
def test_matrix(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    f = _write(base, "matrix.yaml", data)
    case.run(["--matrix", str(f), "matrix", "--check"], {0, 1, 2})
    case.run(["--matrix", str(f), "resolve", "trt-bert", "--host", str(HOST)], {0, 1, 2})


toml_junk = st.one_of(
    raw,
    st.sampled_from([b"[tool]\nenvkit = 5\n", b"channels = 5\n", b"mirrors = [1]\n", b"offline = 'yes'\n",
                     b"a = " + b"[" * 2000, b"\xff\xfe\x00", b"[tool.envkit]\nchannels = [1, 2]\n",
                     b"matrix_overlays = ['/etc/passwd']\n"]),
    st.dictionaries(st.sampled_from(["channels", "mirrors", "offline", "matrix_overlays", "zzz"]),
                    st.one_of(st.text(max_size=10), st.integers(), st.lists(st.text(max_size=8), max_size=3)),
                    max_size=3).map(lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items()).encode()),
)


@FUZZ
@given(data=toml_junk, as_pyproject=st.booleans())
def test_config_files(data: bytes, as_pyproject: bool, case_dir: Callable[[], Path],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    (base / "project" / "environments").mkdir(parents=True)
    _write(base, "project/pyproject.toml" if as_pyproject else "project/envkit.toml", data)
    case.run(["--project", str(base / "project"), "resolve", "trt-bert", "--host", str(HOST)], {0, 1, 2})
    case.run(["--project", str(base / "project"), "check", "--all", "--offline"], {0, 1, 2, 4, 5})


manifest_junk = st.one_of(
    yaml_junk, raw,
    st.dictionaries(st.text(max_size=40) | st.sampled_from(["/etc/passwd", "../../x", "a/../../b", "", "."]),
                    st.text(max_size=64), max_size=4).map(lambda files: json.dumps({"files": files}).encode()),
)


@FUZZ
@given(data=manifest_junk)
def test_bundle_verify(data: bytes, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    _write(base, "bundle/manifest.json", data)
    case.run(["bundle", "--verify", "--out", str(base / "bundle")], {0, 1, 2})


@FUZZ
@given(argv=st.lists(st.sampled_from([
    "--timeout", "nan", "inf", "0", "-1", "1e999", "abc", "--name", "x$(id)", "\x1b[2J", "a" * 300, "--prefix",
    "/", "--host", "/dev/null", "--channel", "ht!tp://::::", "--junit", "/", "-o", ".", "--shape", "in:" + "9" * 5000,
    "--json", "--", "true"]), max_size=6), verb=st.sampled_from(
        ["doctor", "smoke", "create", "run", "remove", "check", "generate", "validate", "resolve", "bundle"]))
def test_options(argv: list[str], verb: str, case_dir: Callable[[], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base = case_dir()
    case = Case(base, monkeypatch)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 (closed with the case)
    case.run([verb, *argv], {0, 1, 2, 3, 4, 5, 6})
