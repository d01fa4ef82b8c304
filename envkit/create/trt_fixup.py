"""TensorRT bindings fix-up for the conda-forge route (C++ libraries from conda, bindings from PyPI).

The ``tensorrt-cuNN-bindings==V`` wheel alone is not usable in a conda environment:

* it installs only the module ``tensorrt_bindings``; ``import tensorrt`` comes from the frontend
  ``tensorrt-cuNN==V`` (a pure-Python sdist whose ``tensorrt/__init__.py`` re-exports
  ``tensorrt_bindings``), which depends on the ``tensorrt-cuNN-libs`` stub that needs NVIDIA's index;
* its ``tensorrt.so`` needs ``libnvinfer.so.MAJOR``, ``libnvinfer_plugin.so.MAJOR`` and
  ``libnvonnxparser.so.MAJOR``, which conda-forge puts in ``$PREFIX/lib``, where the loader does not
  look: the search path the wheel gives it never reaches ``$PREFIX/lib`` (read from the real wheels'
  dynamic sections: 10.16.1.11 has RUNPATH ``$ORIGIN:$ORIGIN/../_libs):$ORIGIN/../lib:$ORIGIN/../../../Release/lib``,
  i.e. ``tensorrt_bindings/``, ``site-packages/_libs)`` and ``site-packages/lib``; 11.4.0.106 has
  RPATH ``$ORIGIN`` only; tests/smoke/test_payload_trt.py reads both).

``tensorrt_bindings/__init__.py`` first runs ``import tensorrt_libs`` (NVIDIA's hook for the libs
wheel, which preloads the libraries). ``apply_trt_fixup`` uses that hook: it writes a small
``tensorrt_libs`` package that preloads the libraries from ``sys.prefix/lib`` with
``RTLD_GLOBAL`` (the loader then reuses them by soname for ``tensorrt.so``), and installs the
frontend with ``--no-deps``.

The shim comes with a minimal ``tensorrt_cuNN_libs-V.dist-info`` (``INSTALLER`` = ``envkit``, with a
RECORD): it *is* the frontend's ``tensorrt_cuNN_libs`` requirement in this environment, so
``pip check`` is clean, a later ``pip install`` of something that depends on ``tensorrt-cuNN`` does
not go after the PyPI stub (which fails without NVIDIA's index), and ``pip uninstall`` removes it.

``tensorrt_bindings`` swallows an ``ImportError`` from ``import tensorrt_libs`` and then fails on
its extension module with the loader's bare "cannot open shared object file". So when a library is
missing, the shim also leaves a one-shot finder on ``sys.meta_path`` that raises the shim's message
when ``tensorrt_bindings.tensorrt`` is imported next: ``import tensorrt`` then fails with an
``ImportError`` naming the missing file and the conda package that provides it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from envkit.create.pipstep import run_installer
from envkit.envfile import PipDep, parse_pip_line
from envkit.errors import InstallError

MARKER = "written by envkit"

# (soname stem, conda-forge package), in load order (the plugin and the parser need libnvinfer)
TRT_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libnvinfer", "libnvinfer"),
    ("libnvinfer_plugin", "libnvinfer-plugin"),
    ("libnvonnxparser", "libnvonnxparser"),
)

_BINDINGS = re.compile(r"tensorrt-(cu\d+)-bindings")


def bindings_pin(deps: Sequence[PipDep]) -> tuple[str, str] | None:
    """(``cuNN``, ``V``) when ``deps`` pin ``tensorrt-cuNN-bindings==V`` without the frontend ``tensorrt-cuNN``."""
    names = {d.name for d in deps if d.name}
    for d in deps:
        m = _BINDINGS.fullmatch(d.name or "")
        version = d.pinned_version
        if m and version and f"tensorrt-{m.group(1)}" not in names and "tensorrt" not in names:
            return m.group(1), version
    return None


def shim_source(version: str, libraries: Sequence[tuple[str, str]] | None = None) -> str:
    """The ``tensorrt_libs/__init__.py`` for TensorRT ``version``.

    ``libraries`` are (file name, conda package) pairs, looked up in ``sys.prefix/lib`` at import
    time; by default the TensorRT libraries of ``version``'s major (``libnvinfer.so.11``...).
    """
    major = version.split(".")[0]
    if libraries is None:
        libraries = [(f"{stem}.so.{major}", pkg) for stem, pkg in TRT_LIBRARIES]
    libs = "".join(f"    ({name!r}, {pkg!r}),\n" for name, pkg in libraries)
    return f'''# {MARKER} (envkit.create.trt_fixup): stands in for NVIDIA's tensorrt libs wheel in a conda environment.
# tensorrt_bindings/__init__.py runs `import tensorrt_libs` first; this preloads the TensorRT
# libraries that conda-forge installed in sys.prefix/lib (tensorrt.so finds only its own folders: RPATH $ORIGIN in 11.x, RUNPATH $ORIGIN/.. paths in 10.16).
import ctypes
import os
import sys

__version__ = {version!r}

LIBRARIES = [
{libs}]

LIBDIR = os.path.join(sys.prefix, "lib")

loaded = []


class _Refuse:
    """tensorrt_bindings ignores an ImportError from `import tensorrt_libs`: raise it again when it
    imports its extension module, instead of the loader's bare "cannot open shared object file"."""

    def __init__(self, message):
        self.message = message

    def find_spec(self, name, path=None, target=None):
        if name != "tensorrt_bindings.tensorrt":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        raise ImportError(self.message, name=name)


def _preload():
    for name, package in LIBRARIES:
        path = os.path.join(LIBDIR, name)
        if not os.path.exists(path):
            return (
                f"{{name}} not found in {{LIBDIR}}: install conda-forge {{package}}={{__version__}} "
                "(the tensorrt bindings from PyPI load the TensorRT libraries from the environment)"
            )
        try:
            loaded.append(ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL))
        except OSError as exc:
            return (
                f"cannot load {{path}}: {{exc}}: reinstall conda-forge {{package}}={{__version__}} "
                "and the CUDA libraries it needs"
            )
    return None


_problem = _preload()
if _problem is not None:
    sys.meta_path.insert(0, _Refuse(_problem))
    raise ImportError(_problem, name=__name__)
'''


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_shim(purelib: Path, cuda: str, version: str, libraries: Sequence[tuple[str, str]] | None = None) -> Path:
    """Write ``tensorrt_libs`` and its ``tensorrt_<cuda>_libs-<version>.dist-info`` into ``purelib``."""
    dist = f"tensorrt_{cuda}_libs"
    files = {
        "tensorrt_libs/__init__.py": shim_source(version, libraries).encode(),
        f"{dist}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
            f"Summary: {MARKER}: preloads conda-forge's TensorRT libraries for tensorrt-{cuda}-bindings\n"
        ).encode(),
        f"{dist}-{version}.dist-info/INSTALLER": b"envkit\n",
        f"{dist}-{version}.dist-info/top_level.txt": b"tensorrt_libs\n",
    }
    record = [f"{rel},{_record_hash(data)},{len(data)}" for rel, data in files.items()]
    record.append(f"{dist}-{version}.dist-info/RECORD,,")
    files[f"{dist}-{version}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    for rel, data in files.items():
        path = purelib / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return purelib / "tensorrt_libs"


def real_tensorrt_libs(purelib: Path) -> str | None:
    """What already provides ``tensorrt_libs`` in ``purelib`` (not envkit's shim), or None."""
    init = purelib / "tensorrt_libs" / "__init__.py"
    pkg = purelib / "tensorrt_libs"
    if pkg.exists() and not (init.is_file() and MARKER in init.read_text(errors="replace")[:200]):
        return str(pkg)
    for info in sorted(purelib.glob("tensorrt_cu*_libs-*.dist-info")):
        installer = info / "INSTALLER"
        if not (installer.is_file() and installer.read_text().strip() == "envkit"):
            return info.name
    return None


def purelib_of(python: Path, timeout: float = 120) -> Path:
    from envkit.proc import clean_env, run

    res = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
              timeout=timeout, env=clean_env())
    if not res.ok or not res.stdout.strip():
        raise InstallError(f"cannot find the site-packages of {python}: {(res.stderr or res.error or '').strip()}")
    return Path(res.stdout.strip().splitlines()[-1])


def apply_trt_fixup(
    prefix: Path, python: Path, deps: Sequence[PipDep], *, timeout: float = 3600, run_in: Path | None = None,
    installer: str = "uv",
) -> list[str]:
    """The fix-up for a bare ``tensorrt-cuNN-bindings==V`` in the pip section; returns notes for the result."""
    pin = bindings_pin(deps)
    if pin is None:
        return []
    cuda, version = pin
    notes: list[str] = []
    purelib = purelib_of(python)
    where = purelib.relative_to(prefix) if purelib.is_relative_to(prefix) else purelib
    other = real_tensorrt_libs(purelib)
    if other:
        notes.append(f"TensorRT bindings fix-up: {other} already provides tensorrt_libs; envkit's shim not written")
    else:
        write_shim(purelib, cuda, version)
        major = version.split(".")[0]
        notes.append(
            f"TensorRT bindings fix-up: wrote tensorrt_libs ({MARKER}, as tensorrt_{cuda}_libs {version}) in {where}: "
            f"`import tensorrt` preloads libnvinfer, libnvinfer_plugin and libnvonnxparser .so.{major} "
            "from the environment's lib/ (conda-forge)"
        )
    frontend = f"tensorrt-{cuda}=={version}"
    options = [d for d in deps if d.option]
    try:
        tool, _, _ = run_installer(prefix, python, [*options, parse_pip_line(frontend), parse_pip_line("--no-deps")],
                                   timeout=timeout, run_in=run_in, installer=installer)
    except InstallError as exc:
        raise InstallError(
            f"TensorRT bindings fix-up: installing the frontend {frontend} (--no-deps) failed: {exc.message}",
            hint=f"`import tensorrt` needs {frontend} next to tensorrt-{cuda}-bindings: add it to the pip section, "
            "or check that the index is reachable",
        ) from None
    notes.append(f"TensorRT bindings fix-up: installed the frontend {frontend} with --no-deps ({tool}) "
                 "so `import tensorrt` works")
    return notes
