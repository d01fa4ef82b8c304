"""One environment's GPU libraries: every copy, who owns it, and what a process of the environment loads.

``analyse(prefix, python)`` reads the environment's interpreter once (``payload_libs.py --info``,
the same payload ``--live`` runs), scans the library directories, and simulates each probe with
``envkit.libs.loader``: ``dlopen(SONAME)`` for every GPU soname present, and the load by path of
every object in the environment that needs one (extension modules, the libraries themselves), each
after the environment's preloaders (``tensorrt_libs``) ran, as a Python process of it would.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.errors import InputError
from envkit.libs.elf import DynSymbols, ElfError, ElfInfo, is_elf, stem_of, version_from_name
from envkit.libs.families import FAMILIES, family_of, soname_major
from envkit.libs.loader import Loader, LoadResult, Obj
from envkit.libs.owners import Owner, Owners, read_owners
from envkit.libs.system import SystemFacts

PAYLOAD = Path(__file__).resolve().parents[1] / "smoke" / "payload" / "payload_libs.py"
MAX_WALK = 300_000  # directory entries looked at under site-packages (a CUDA 13 PyTorch venv: ~60000)
MAX_PATH_PROBES = 200
_SITE_LIB_DIRS = ("nvidia/*/lib", "nvidia/cu*/lib", "tensorrt_libs", "torch/lib", "onnxruntime/capi",
                  "tensorrt_bindings", "tensorrt")


@dataclass
class Copy:
    """One file of a GPU library (its symlinks folded in)."""

    path: str
    real: str
    names: list[str]
    family: str
    where: str  # "environment", "LD_LIBRARY_PATH", "system"
    soname: str | None = None
    version: str | None = None
    version_from: str | None = None
    owner: Owner | None = None
    error: str | None = None

    @property
    def major(self) -> int | None:
        return soname_major(self.soname or os.path.basename(self.path))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "real_path": self.real, "names": self.names, "family": self.family,
                "where": self.where, "soname": self.soname, "version": self.version,
                "version_from": self.version_from, "owner": self.owner.to_json() if self.owner else None,
                "error": self.error}


@dataclass
class Probe:
    id: str
    load: str
    preload: list[str]
    result: LoadResult | None = None
    preload_results: list[LoadResult] = field(default_factory=list)

    def plan(self) -> dict[str, Any]:
        return {"id": self.id, "preload": self.preload, "load": self.load}

    def mapped(self) -> list[Obj]:
        objs = [o for r in self.preload_results for o in r.loaded]
        return objs + (self.result.loaded if self.result else [])

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {"id": self.id, "load": self.load, "preload": self.preload,
                "loaded": [{"name": o.soname or os.path.basename(o.path), "path": o.path, "real_path": o.real,
                            "via": o.via} for o in self.mapped()],
                "reused": r.reused.path if r and r.reused else None,
                "error": r.error if r else None, "missing": r.missing if r else None,
                "preload_errors": [p.error for p in self.preload_results if p.error]}


@dataclass
class Env:
    prefix: Path
    python: Path | None
    info: dict[str, Any]
    ld_library_path: str
    env_dirs: list[str]
    other_dirs: list[tuple[str, str]]  # (dir, where)
    facts: SystemFacts
    owners: Owners
    copies: list[Copy] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elf_cache: dict[str, ElfInfo | ElfError] = field(default_factory=dict)
    sym_cache: dict[str, DynSymbols | None] = field(default_factory=dict)

    def in_env(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == d or real.startswith(d.rstrip("/") + "/") for d in self._env_roots())

    def _env_roots(self) -> list[str]:
        roots = [os.path.realpath(self.prefix)]
        return roots if str(self.prefix) not in ("/", "/usr") else [os.path.realpath(d) for d in self.env_dirs]


# ---------------------------------------------------------------- the interpreter


def is_environment(prefix: Path) -> bool:
    return (prefix / "conda-meta").is_dir() or (prefix / "pyvenv.cfg").is_file() or any(
        (prefix / rel).exists() for rel in ("bin/python", "bin/python3"))


def python_info(python: Path, env: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    from envkit import proc
    from envkit.errors import HostError

    r = proc.run([str(python), str(PAYLOAD), "--info"], timeout=timeout, env=env)
    try:
        data = json.loads(r.stdout.strip().splitlines()[-1]) if r.ok and r.stdout.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise HostError(f"{python}: the interpreter did not answer ({r.describe()})",
                        (r.stderr.strip().splitlines() or ["run it by hand: " + str(python) + " -V"])[-1])
    info: dict[str, Any] = data["info"]
    return info


# ---------------------------------------------------------------- directories and copies


def site_dirs(info: dict[str, Any]) -> list[Path]:
    return [Path(p) for p in dict.fromkeys([info.get("purelib"), info.get("platlib")]) if p]


def env_lib_dirs(prefix: Path, sites: list[Path]) -> list[str]:
    dirs = [prefix / "lib", prefix / "lib64", *sorted(prefix.glob("targets/*/lib"))]
    for site in sites:
        for pattern in _SITE_LIB_DIRS:
            dirs += sorted(site.glob(pattern))
    if str(prefix) == "/usr":
        dirs += [Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib/aarch64-linux-gnu"),
                 *sorted(Path("/usr/local").glob("cuda*/targets/*/lib")), Path("/usr/local/cuda/lib64")]
    return [str(d) for d in dict.fromkeys(dirs) if d.is_dir()]


def _family_files(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if ".so" in n and family_of(n)]


def collect_copies(env: Env) -> None:
    by_real: dict[str, Copy] = {}
    dirs = [(d, "environment") for d in env.env_dirs] + env.other_dirs
    for d, where in dirs:
        for path in _family_files(d):
            try:
                real = os.path.realpath(path, strict=True)
            except (OSError, RuntimeError) as exc:  # a dangling link or a symlink loop
                env.notes.append(f"{path}: {getattr(exc, 'strerror', None) or exc}: skipped")
                continue
            if not os.path.isfile(real):
                continue
            if real in by_real:
                if path not in by_real[real].names:
                    by_real[real].names.append(path)
                continue
            copy = Copy(path, real, [path], family_of(path) or "?", where if not env.in_env(path) else "environment")
            try:
                elf = _elf(env, real)
                copy.soname = elf.soname
            except ElfError as exc:
                copy.error = exc.message
            copy.owner = env.owners.owner(path)
            copy.version, copy.version_from = _version(copy)
            by_real[real] = copy
    env.copies = list(by_real.values())


def _elf(env: Env, path: str) -> ElfInfo:
    from envkit.libs.elf import read_elf_cached

    return read_elf_cached(env.elf_cache, path)


def _version(copy: Copy) -> tuple[str | None, str | None]:
    """The fullest version the file states: its real name, else its package's version, else its SONAME."""
    by_name = version_from_name(os.path.basename(copy.real))
    if by_name and by_name.count(".") >= 1:
        return by_name, "file name"
    if copy.owner and copy.owner.version and copy.owner.source in ("pip", "conda"):
        return copy.owner.version, f"{copy.owner.source} package"
    soname_v = version_from_name(copy.soname or "")
    return (soname_v, "SONAME") if soname_v else (None, None)


def collect_consumers(env: Env, sites: list[Path]) -> None:
    """ELF objects of the environment that need a GPU library: what `import` of them would load."""
    seen: set[str] = set()
    files: list[str] = []
    for d in env.env_dirs:
        try:
            files += [os.path.join(d, n) for n in sorted(os.listdir(d)) if ".so" in n]
        except OSError:
            continue
    count = 0
    for site in sites:
        for root, dirnames, names in os.walk(site):
            dirnames[:] = sorted(n for n in dirnames if not n.endswith((".dist-info", "__pycache__")))
            count += len(names) + len(dirnames)
            if count > MAX_WALK:
                env.notes.append(f"{site}: more than {MAX_WALK} entries, the rest not scanned for GPU consumers")
                break
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".so") or ".so." in n]
    for path in files:
        real = os.path.realpath(path)
        if real in seen or not is_elf(real):
            continue
        seen.add(real)
        try:
            elf = _elf(env, real)
        except ElfError:
            continue
        if any(family_of(n) for n in elf.needed):
            env.consumers.append(path)
    if len(env.consumers) > MAX_PATH_PROBES:
        env.notes.append(f"{len(env.consumers)} objects need GPU libraries: the first {MAX_PATH_PROBES} are probed")
    env.consumers = env.consumers[:MAX_PATH_PROBES]


# ---------------------------------------------------------------- preloaders and probes


def preloaders(sites: list[Path]) -> list[tuple[str, list[str]]]:
    """(module, paths it loads by path, in order) for the preloading modules present: envkit's tensorrt_libs
    shim (its LIBRARIES in sys.prefix/lib, until the first missing one)."""
    out: list[tuple[str, list[str]]] = []
    for site in sites:
        init = site / "tensorrt_libs" / "__init__.py"
        if init.is_file():
            out.append(("tensorrt_libs", _shim_paths(init)))
    return out


def _shim_paths(init: Path) -> list[str]:
    from envkit.create.trt_fixup import MARKER

    try:
        text = init.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return []
    if MARKER not in text:  # NVIDIA's own: every libnvinfer* of its directory (modelled)
        return [str(p) for p in sorted(init.parent.glob("lib*.so*"))]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LIBRARIES" for t in node.targets):
            libs = ast.literal_eval(node.value)
            prefix = init.parents[4] if init.parents[2].name.startswith("python") else init.parents[3]
            paths = []
            for name, _pkg in libs:
                p = prefix / "lib" / name
                if not p.exists():
                    break
                paths.append(str(p))
            return paths
    return []


def plan_probes(env: Env, sites: list[Path]) -> None:
    pre = preloaders(sites)
    env.preload = [m for m, _ in pre]
    sonames: list[str] = []
    order = {f: i for i, f in enumerate(FAMILIES)}
    for c in sorted(env.copies, key=lambda c: (order.get(c.family, 99), c.soname or c.path)):
        if c.soname and c.soname not in sonames and c.family != "driver":
            sonames.append(c.soname)
    env.probes = [Probe(f"dlopen {s}", s, env.preload) for s in sonames]
    env.probes += [Probe(f"load {p}", p, env.preload) for p in env.consumers]
    preload_paths = {m: paths for m, paths in pre}
    for probe in env.probes:
        loader = baseline(env)
        caller = loader.caller
        for module in probe.preload:
            for path in preload_paths.get(module, []):
                probe.preload_results.append(loader.load(path, caller))
        probe.result = loader.load(probe.load, caller)


class _Baseline(Loader):
    caller: Obj | None = None


def baseline(env: Env) -> _Baseline:
    """A loader holding what the interpreter has mapped at start; ``caller`` is the object calling dlopen
    for ctypes (the _ctypes extension module, else the executable)."""
    loader = _Baseline(env.facts, env.ld_library_path, env.elf_cache, env.sym_cache)
    info = env.info
    exe = info.get("exe_real")
    if exe and is_elf(exe):
        loader.main = loader.add(exe, "path", None)
        loader.main.names.add(exe)
    for path in info.get("mapped") or []:
        if path == exe or not path.startswith("/") or not is_elf(path):
            continue
        try:
            loader.add(path, "already mapped", loader.main)
        except ElfError:
            continue
    ctypes_file = info.get("ctypes_file")
    found = next((o for o in loader.objs if ctypes_file and o.real == os.path.realpath(ctypes_file)), None)
    if found is not None:
        libpython = next((o for o in loader.objs if (o.soname or "").startswith("libpython")), None)
        found.loader = libpython or loader.main
    loader.caller = found or loader.main
    return loader


# ---------------------------------------------------------------- the whole analysis


def analyse(prefix: Path, python: Path | None, environ: dict[str, str], facts: SystemFacts) -> Env:
    """The static model of ``prefix``: copies, owners, probes (no finding yet)."""
    if not prefix.is_dir():
        raise InputError(f"no such directory: {prefix}", key="--prefix")
    if not is_environment(prefix):
        raise InputError(f"{prefix} is not an environment (no conda-meta/, pyvenv.cfg or bin/python)",
                         key="--prefix", hint="give an environment's prefix, e.g. $CONDA_PREFIX or a venv")
    notes: list[str] = []
    info: dict[str, Any] = {}
    if python is not None:
        info = python_info(python, environ)
    else:
        notes.append("no Python in the environment: loads are modelled from the loader's own rules only")
    sites = site_dirs(info)
    ld_path = environ.get("LD_LIBRARY_PATH", "")
    env_dirs = env_lib_dirs(prefix, sites)
    other: list[tuple[str, str]] = [(d, "LD_LIBRARY_PATH") for d in ld_path.split(":") if d and os.path.isdir(d)]
    cached_dirs = {os.path.dirname(p) for s, p in facts.cache.items() if family_of(s)}
    other += [(d, "system") for d in [*facts.defaults, *sorted(cached_dirs)] if os.path.isdir(d)]
    env = Env(prefix, python, info, ld_path, env_dirs, other, facts, read_owners(prefix, sites), notes=notes)
    env.notes += env.owners.notes
    collect_copies(env)
    collect_consumers(env, sites)
    plan_probes(env, sites)
    return env


def stem_majors(copies: list[Copy]) -> dict[str, dict[int, list[Copy]]]:
    out: dict[str, dict[int, list[Copy]]] = {}
    for c in copies:
        if c.major is not None and c.soname:
            out.setdefault(stem_of(c.soname), {}).setdefault(c.major, []).append(c)
    return out
