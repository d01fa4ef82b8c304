"""Profiles: the shipped ones load; bad ones fail with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.cli import main
from envkit.context import Settings
from envkit.errors import InputError
from envkit.profile import load_profile, parse_profile, profile_paths

ROOT = Path(__file__).resolve().parents[1]


def settings_for(project: Path) -> Settings:
    return Settings.from_env(project=str(project), environ={})


def test_shipped_profiles_load() -> None:
    s = settings_for(ROOT)
    names = set(profile_paths(s))
    assert {"trt-yolo", "trt-bert", "trt-legacy", "ngc-like"} <= names
    legacy = load_profile("trt-legacy", s)
    assert (legacy.python, legacy.cuda, legacy.cudnn, legacy.tensorrt) == ("<3.11", "11.8", "8.9", "8.5")
    assert load_profile("ngc-like", s).ngc


def write(tmp_path: Path, text: str, name: str = "p") -> Path:
    env = tmp_path / "environments"
    env.mkdir(exist_ok=True)
    path = env / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("schema_version: 1\ntensort: '>=10'\n", 2, "did you mean 'tensorrt'"),
        ("schema_version: 1\npython: 3.10\n", 2, "got the number 3.1"),
        ("schema_version: 1\ntensorrt: 'ten or newer'\n", 2, "expected a version or a version range"),
        ("schema_version: 1\nplatforms: [linux-64, linux-arm64]\n", 2, "did you mean 'linux-aarch64'"),
        ("schema_version: 2\n", 1, "schema_version 2 is not supported"),
        ("schema_version: 1\nconda: numpy\n", 2, "expected a list"),
        ("- just\n- a list\n", 1, "expected a mapping"),
        ("schema_version: 1\nconda: [numpy\n", 3, "not valid YAML"),
    ],
)
def test_bad_profile_messages(tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        parse_profile(path)
    msg = str(exc.value)
    assert f"{path}:{line}" in msg, msg
    assert needle in (msg + " " + (exc.value.hint or "")), msg


def test_bad_profile_exit_code_and_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "schema_version: 1\nprecisions: [fp61]\n", "bad")
    code = main(["--project", str(tmp_path), "resolve", "bad", "--host",
                 str(ROOT / "tests/data/nvidia-smi/h200-driver-580.159.04/q.xml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.yaml:2" in err and "unknown precision 'fp61'" in err and "fp16" in err


def test_unknown_profile_suggests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "resolve", "trt-yolos"])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean 'trt-yolo'" in err


def test_project_profiles_shadow_builtin(tmp_path: Path) -> None:
    write(tmp_path, "schema_version: 1\ndescription: mine\ntensorrt: '>=10'\n", "trt-yolo")
    s = settings_for(tmp_path)
    assert load_profile("trt-yolo", s).description == "mine"
    assert "trt-legacy" in profile_paths(s)  # built-ins still visible


def test_profiles_by_name_list_the_folders_once_until_they_change(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading N profiles by name is linear: the folders are listed once (not once per profile: O(N^2))."""
    envs = tmp_path / "environments"
    envs.mkdir()
    for i in range(40):
        (envs / f"p{i:02d}.yaml").write_text(f'schema_version: 1\ndescription: "p{i}"\ntensorrt: ">=10.0"\n')
    s = settings_for(tmp_path)
    listings: list[Path] = []
    real_glob = Path.glob

    def counting_glob(self: Path, pattern: str):  # type: ignore[no-untyped-def]
        listings.append(self)
        return real_glob(self, pattern)

    monkeypatch.setattr(Path, "glob", counting_glob)
    assert [load_profile(f"p{i:02d}", s).description for i in range(40)] == [f"p{i}" for i in range(40)]
    assert len(listings) == len(s.profile_dirs())
    (envs / "new.yaml").write_text("schema_version: 1\n")  # a new file changes the folder: listed again
    assert load_profile("new", s).name == "new"
    assert len(listings) == 2 * len(s.profile_dirs())


def test_a_profile_written_within_one_timestamp_tick_is_found(tmp_path: Path) -> None:
    """A folder's mtime may not change for a file added in the same tick: a name not listed is looked up again."""
    import os

    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "a.yaml").write_text("schema_version: 1\n")
    s = settings_for(tmp_path)
    assert load_profile("a", s).name == "a"
    stamp = envs.stat().st_mtime_ns
    (envs / "b.yaml").write_text("schema_version: 1\n")
    os.utime(envs, ns=(stamp, stamp))  # as if b.yaml landed within the same tick
    assert load_profile("b", s).name == "b"
    (envs / "a.yaml").unlink()
    os.utime(envs, ns=(stamp, stamp))
    with pytest.raises(InputError, match="no profile named 'a'"):
        load_profile("a", s)
