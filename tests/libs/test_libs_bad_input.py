"""Bad input for envkit libs: not an environment, truncated / non-ELF files, symlink loops, unreadable files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from so_factory import build_so

from envkit.cli import main
from envkit.errors import InputError
from envkit.libs.elf import ElfError, read_elf
from envkit.libs.report import libs_report


def test_a_directory_that_is_not_an_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="is not an environment"):
        libs_report(tmp_path)
    assert main(["libs", "--prefix", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "is not an environment" in err and "hint:" in err
    assert main(["libs", "--prefix", str(tmp_path / "nope")]) == 2


def test_read_elf_names_the_damage(tmp_path: Path) -> None:
    good = build_so(tmp_path / "libgood.so.1", "libgood.so.1")
    (tmp_path / "libshort.so.1").write_bytes(b"xx")
    (tmp_path / "libtext.so.1").write_text("INPUT(-lfoo)\n" * 10)  # a linker script named like a library
    (tmp_path / "libcut.so.1").write_bytes(good.read_bytes()[:100])
    os.mkfifo(tmp_path / "libfifo.so.1")
    assert read_elf(good).soname == "libgood.so.1"
    for name, words in [("libshort.so.1", "file too short"), ("libtext.so.1", "not an ELF file"),
                        ("libcut.so.1", "truncated or damaged ELF file"), ("libfifo.so.1", "not a regular file")]:
        with pytest.raises(ElfError, match=words) as ei:
            read_elf(tmp_path / name)
        assert str(tmp_path / name) in ei.value.message


@pytest.mark.slow
def test_damaged_files_and_symlink_loops_prediction_equals_reality(tmp_path: Path, venv: Path,
                                                                   clean_environ: dict[str, str]) -> None:
    """In the environment: a truncated libcublas, a looping libcufft link. On LD_LIBRARY_PATH: a first directory
    whose libcurand.so.10 is a symlink loop, then a good one; a non-ELF libcusparse.so.12 before a good one."""
    lib = venv / "lib"
    good = build_so(tmp_path / "good/libcublas.so.12", "libcublas.so.12")
    (lib / "libcublas.so.12").write_bytes(good.read_bytes()[:100])
    (lib / "libcufft.so.11").symlink_to("libcufft.so.11")
    loop, ok = tmp_path / "loop", tmp_path / "ok"
    loop.mkdir()
    (loop / "libcurand.so.10").symlink_to("libcurand.so.10")
    build_so(ok / "libcurand.so.10", "libcurand.so.10")
    (loop / "libcusparse.so.12").write_text("not a library\n" * 8)
    build_so(ok / "libcusparse.so.12", "libcusparse.so.12")
    build_so(lib / "libneeds_curand.so", "libneeds_curand.so", needed=[ok / "libcurand.so.10"])
    build_so(lib / "libgpu_user.so", "libgpu_user.so", needed=[ok / "libcurand.so.10"], runpath=str(ok),
             uses=["nowhere_defined"])
    env = {**clean_environ, "LD_LIBRARY_PATH": f"{loop}:{ok}"}
    report = libs_report(venv, live=True, environ=env)
    assert report.live is not None and report.live.differences == [], [d.to_json() for d in report.live.differences]
    damaged = [f for f in report.findings if f.code == "damaged"]
    assert any(str(lib / "libcublas.so.12") in f.message and "truncated" in f.message for f in damaged)
    assert any(str(lib / "libcufft.so.11") in n for n in report.env.notes)  # the loop is skipped, named
    rows = {r.soname: r for r in report.rows}
    # glibc stops a directory list at the looping link: the good copy in the same list is not reached
    assert rows["libcurand.so.10"].path is None
    needs = next(p for p in report.env.probes if p.load == str(lib / "libneeds_curand.so"))
    assert needs.result is not None and needs.result.missing == "libcurand.so.10"
    # an undefined symbol no loaded object defines fails the load (ctypes uses RTLD_NOW)
    user = next(p for p in report.env.probes if p.load == str(lib / "libgpu_user.so"))
    assert user.result is not None and user.result.error == f"{lib}/libgpu_user.so: undefined symbol: nowhere_defined"
    # a non-ELF file found first ends the load with an error
    cusparse = next(p for p in report.env.probes if p.load == "libcusparse.so.12")
    assert cusparse.result is not None and cusparse.result.error == f"{loop}/libcusparse.so.12: invalid ELF header"
