"""What is wrong with an environment's GPU libraries, from the static model (envkit.libs.scan)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from envkit.libs.elf import stem_of
from envkit.libs.families import cuda_major_of, family_of, providers, soname_major
from envkit.libs.scan import Env, stem_majors

# stack key of conda-meta/envkit.json -> the soname stems whose major must match it
_STACK = {"cuda": ("libcudart",), "cudnn": ("libcudnn",), "tensorrt": ("libnvinfer",)}


@dataclass
class Finding:
    severity: str  # "error", "warning"
    code: str  # two-majors, shadowed, stack-mismatch, missing-needed, needs-preload, version-too-old, undefined-symbol, load-error, damaged
    message: str
    hint: str | None = None
    paths: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "message": self.message, "hint": self.hint,
                "paths": self.paths}


def _cuda_major(env: Env, pins: dict[str, str | None]) -> int | None:
    if pins.get("cuda"):
        m = re.match(r"\d+", str(pins["cuda"]))
        if m:
            return int(m.group())
    majors = {cuda_major_of(c.soname) for c in env.copies if c.soname and c.where == "environment"}
    majors.discard(None)
    return majors.pop() if len(majors) == 1 else None


def find(env: Env, pins: dict[str, str | None]) -> list[Finding]:
    out: list[Finding] = []
    out += _two_majors(env)
    out += _shadowed(env)
    out += _stack_mismatch(env, pins)
    out += _load_failures(env, _cuda_major(env, pins))
    out += [Finding("warning", "damaged", c.error, "reinstall the package that owns it"
                    + (f" ({c.owner.text()})" if c.owner else ""), [c.path]) for c in env.copies if c.error]
    order = {"error": 0, "warning": 1}
    return sorted(out, key=lambda f: order.get(f.severity, 2))


def _two_majors(env: Env) -> list[Finding]:
    out = []
    reachable = [c for c in env.copies if c.where in ("environment", "LD_LIBRARY_PATH")]
    for stem, majors in sorted(stem_majors(reachable).items()):
        if len(majors) < 2:
            continue
        both_loaded = any(len({soname_major(o.soname or "") for o in p.mapped() if o.soname
                               and stem_of(o.soname) == stem}) > 1 for p in env.probes)
        parts = [f"{m} ({', '.join(_where(c) for c in cs)})" for m, cs in sorted(majors.items())]
        out.append(Finding(
            "error" if both_loaded else "warning", "two-majors",
            f"{stem}: majors {' and '.join(parts)} are both reachable"
            + ("; one process loads both" if both_loaded else ""),
            "keep one major: remove the package of the other (conda remove / pip uninstall)",
            [c.path for cs in majors.values() for c in cs]))
    return out


def _where(c: Any) -> str:
    return f"{c.owner.text()} at {c.path}" if c.owner else f"{c.where} {c.path}"


def _shadowed(env: Env) -> list[Finding]:
    """A copy from outside the environment loaded where the environment has its own: an error through
    LD_LIBRARY_PATH; a warning when an object of the environment gets the system's copy; nothing for a bare
    dlopen by name that finds the system's (the table shows it: pip wheels' directories are on no search path)."""
    own = {c.soname: c for c in env.copies if c.where == "environment" and c.soname}
    out, seen = [], set()
    for p in env.probes:
        for o in p.mapped():
            mine = own.get(o.soname or "")
            if mine is None or env.in_env(o.path) or (o.soname, o.real) in seen:
                continue
            by_ld_path = o.via == "LD_LIBRARY_PATH"
            bare_dlopen = p.id.startswith("dlopen ") and p.result is not None and o in p.result.loaded[:1]
            if not by_ld_path and (bare_dlopen or o.loader is None or not env.in_env(o.loader.path)):
                continue
            seen.add((o.soname, o.real))
            who = f" for {o.loader.path}" if o.loader is not None and not by_ld_path else ""
            out.append(Finding(
                "error" if by_ld_path else "warning", "shadowed",
                f"{o.soname} is loaded from {o.path} ({'LD_LIBRARY_PATH' if by_ld_path else 'the system, ' + o.via})"
                f"{who}, not the environment's {mine.path}" + (f" ({mine.owner.text()})" if mine.owner else ""),
                f"remove {os.path.dirname(o.path)} from LD_LIBRARY_PATH" if by_ld_path else
                "the environment's copy is not on that object's search path: add its directory to the object's "
                "RUNPATH, or preload it",
                [o.path, mine.path]))
    return out


def _stack_mismatch(env: Env, pins: dict[str, str | None]) -> list[Finding]:
    out = []
    for key, stems in _STACK.items():
        pin = pins.get(key)
        m = re.match(r"\d+", str(pin or ""))
        if not m:
            continue
        want = int(m.group())
        for p in env.probes:
            r = p.result
            target = r.loaded[0] if r and r.loaded else (r.reused if r else None)
            if target is None or not p.id.startswith("dlopen ") or stem_of(target.soname or "") not in stems:
                continue
            have = soname_major(target.soname or "")
            if have is not None and have != want:
                out.append(Finding(
                    "error", "stack-mismatch",
                    f"{target.soname} ({target.path}) is major {have}, the environment's stack pins {key} {pin}",
                    "rebuild the environment (`envkit create NAME --force`) or remove the stray copy",
                    [target.path]))
    return out


def _load_failures(env: Env, cuda: int | None) -> list[Finding]:
    out, seen = [], set()
    for p in env.probes:
        r = p.result
        if r is None or not r.error or not p.id.startswith("load ") or r.error in seen:
            continue
        seen.add(r.error)
        if "version `" in r.error:
            out.append(Finding("error", "version-too-old", r.error,
                               "the copy found is older than the one the object was built against: install the "
                               "newer one or remove the old copy from the search path", [p.load]))
        elif r.missing and not family_of(r.missing):
            out.append(Finding("warning", "needs-preload",
                               f"{p.load} cannot be loaded on its own: it needs {r.missing}, which no directory on "
                               "its search path provides",
                               "its package loads that library first (e.g. `import torch` loads libc10.so); if it "
                               "is imported without it, install or import the package that provides it", [p.load]))
        elif r.missing:
            known = providers(r.missing, cuda)
            hint = ("install " + " or ".join(x.text() for x in known)) if known else \
                "install the package that provides it"
            out.append(Finding("error", "missing-needed",
                               f"{p.load} needs {r.missing}, which no directory on its search path provides",
                               hint, [p.load]))
        elif "undefined symbol" in r.error:
            out.append(Finding("warning", "undefined-symbol",
                               f"{p.load} cannot be loaded on its own: {r.error.split(': ', 1)[-1]}",
                               "it expects a library that defines the symbol to be loaded first (RTLD_GLOBAL), as "
                               "its package does; if nothing does, reinstall that package", [p.load]))
        else:
            out.append(Finding("error", "load-error", f"{p.load}: {r.error}", "see the file named", [p.load]))
    return out
