"""Tiny real shared objects for the loader tests, compiled with the system C compiler (``cc``).

``build_so`` sets the SONAME, NEEDED (by linking the given objects), RPATH or RUNPATH, and symbol
versions (a version script), so shadowing, missing dependencies, two majors and "version not found"
are produced by the real dynamic loader, not described.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest


def have_cc() -> bool:
    return shutil.which("cc") is not None


def build_so(out: Path, soname: str, *, needed: Sequence[Path] = (), runpath: str | None = None,
             rpath: str | None = None, versions: Sequence[str] = (), uses: Sequence[str] = ()) -> Path:
    """Compile ``out`` with SONAME ``soname``. ``versions``: symbol versions it defines (one function each,
    ``<stem>_v<i>``); ``uses``: functions of ``needed`` objects it calls (their versions become required)."""
    if not have_cc():
        pytest.skip("no C compiler (cc)")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".build-{out.name}"
    work.mkdir(exist_ok=True)
    tag = re.sub(r"\W", "_", soname.split(".so")[0])
    src = [f"int {tag}_here(void) {{ return 1; }}"]
    src += [f"int {tag}_v{i}(void) {{ return {i}; }}" for i in range(len(versions))]
    src += [f"extern int {fn}(void);" for fn in uses]
    if uses:
        src.append(f"int {tag}_use(void) {{ return {' + '.join(f'{fn}()' for fn in uses)}; }}")
    (work / "x.c").write_text("\n".join(src) + "\n")
    argv = ["cc", "-shared", "-fPIC", "-o", str(out), str(work / "x.c"), f"-Wl,-soname,{soname}",
            "-Wl,--no-as-needed"]
    if versions:
        blocks, prev = [], None
        for i, v in enumerate(versions):
            blocks.append(f"{v} {{ global: {tag}_v{i}; {f'{tag}_here;' if i == 0 else ''} "
                          f"{'local: *;' if i == 0 else ''} }}{f' {prev}' if prev else ''};")
            prev = v
        (work / "v.map").write_text("\n".join(blocks) + "\n")
        argv.append(f"-Wl,--version-script={work / 'v.map'}")
    if runpath is not None:
        argv += ["-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath}"]
    if rpath is not None:
        argv += ["-Wl,--disable-new-dtags", f"-Wl,-rpath,{rpath}"]
    argv += [str(p) for p in needed]
    r = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    shutil.rmtree(work)
    return out
