"""How conda tools read the file, and what validate cannot see.

Codes: unknown-key, selector, name-is-path, pip-without-pip, conda-exact-match, invalid-spec,
pypi-name-in-conda, pre-release, pip-unseen, pip-local-version, platform-specific, platform-mismatch (with a
host), build-python-mismatch, eol-python. Where conda, micromamba and pixi read a file differently the finding says so instead of
rejecting the file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from envkit.envfile import ENV_KEYS
from envkit.validate import facts
from envkit.validate.evidence import CONDA_CUDA
from envkit.validate.evidence_model import PYTHON, of, short
from envkit.versions import V
from envkit.yamlio import did_you_mean

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.validate.rules_stack import Checker

# conda versions: a pre-release marker followed by a number (2.3.0rc0, 10.0.0b6, 2.1.0.dev20230526); "2024a"
# (tzdata) and "9b" (jpeg) are releases
_PRE = re.compile(r"\d[.]?(?:a|b|rc|alpha|beta|dev|pre)\d+(?:$|[.+])", re.I)
_BRACKET_NO_KEY = re.compile(r"\[([^\]=]*)\]\s*$")
_BUILD_PY = re.compile(r"(?:^|[_\-])(?:py|cp)(?P<maj>[23])\.?(?P<min>\d{1,2})(?=$|[_\-a-z])")
_PYPI_SUFFIXED = re.compile(r"^(?:nvidia-[a-z0-9-]+|tensorrt)-cu\d{2}(?:-[a-z]+)?$")
# packages whose presence names the platform the file was exported on or written for
_PLATFORM_HINTS = (
    (re.compile(r"^ld_impl_linux-aarch64$|^(?:gcc|gxx)_linux-aarch64$|^sysroot_linux-aarch64$"), "linux-aarch64"),
    (re.compile(r"^(?:vs2015_runtime|vc|vc14_runtime|pywin32|m2w64-.+|pthreads-win32|ucrt|pyreadline3?)$"), "win-64"),
    (re.compile(r"^(?:python\.app|libcxx|clang_osx-.+|tensorflow-macos|tensorflow-metal|tensorflow-deps)$"), "osx"),
)


def read_rules(c: Checker) -> None:
    env = c.env
    for key, line in env.unknown_keys:
        c.add("warning", line, "unknown-key", f"unknown top-level key `{key}`: conda warns that the section is "
              "invalid and ignores it, as does envkit",
              did_you_mean(key, list(ENV_KEYS)) or "delete it, or move it under `variables:` if it sets one")
    for d in env.conda:
        if d.selector:
            c.add("info", d.line, "selector", f"`sel({d.selector}): {d.raw.strip()}` is a micromamba selector: "
                  "micromamba installs it on Linux; conda has no selectors and does not read the entry this way",
                  "if the file must work with conda too, write the spec without the selector")
    for line, sel, spec in env.skipped_selectors:
        c.add("info", line, "selector", f"`sel({sel}): {spec}` applies only on {sel} (micromamba): left out of "
              "the Linux checks")
    if env.name and ("/" in env.name or "\\" in env.name):
        line = env.doc.line(("name",)) if env.doc else None
        c.add("warning", line, "name-is-path", f"name: {env.name} is a path: conda and micromamba take `name:` "
              "as an environment name (micromamba refuses one with a path separator)",
              "use a plain name, and `-p PATH` (or `prefix:`) for the location")
    if env.pip and not any(d.name.lower() == "pip" for d in env.conda):
        line = env.pip[0].line
        c.add("info", line, "pip-without-pip", "the file has a pip: section but no `pip` dependency: conda adds "
              "pip itself with a warning; other tools may not, and the environment's pip version floats",
              "add `pip` (or `pip=X`) to the dependencies")
    _specs(c)
    _pip_visibility(c)
    _platform(c)
    _build_python(c)


def _specs(c: Checker) -> None:
    for d in c.env.conda:
        raw = d.raw.strip()
        m = _BRACKET_NO_KEY.search(raw)
        if m and m.group(1).strip():
            c.add("warning", d.line, "invalid-spec", f"{raw}: conda MatchSpec brackets take key=value "
                  f"(`[build=...]`); `[{m.group(1)}]` is pip extras syntax, which conda rejects",
                  f"write {d.name}={d.version or 'X'}=*{m.group(1)}* to select that build")
        v = (d.version or "").strip()
        exact_kind = d.name.lower() == "python" or d.name.lower() in CONDA_CUDA
        if exact_kind and not d.build and v.startswith("==") and "*" not in v and not any(ch in v[2:] for ch in ",|<>!"):
            exact = v[2:]
            if len(V(exact).release) == 2 if _is_v(exact) else False:
                sev = "warning" if d.name.lower() == "python" else "info"
                c.add(sev, d.line, "conda-exact-match", f"{raw}: conda reads `=={exact}` as exactly {exact} (that "
                      f"is {exact}.0), not any {exact}.x: it finds only the first {exact} release or fails to solve",
                      f"write {d.name}={exact} for the {exact} series")
        if d.name.lower() in facts.PYPI_ONLY or _PYPI_SUFFIXED.match(d.name.lower()):
            conda = facts.PYPI_ONLY.get(d.name.lower())
            c.add("warning", d.line, "pypi-name-in-conda", f"{raw}: `{d.name}` is a PyPI name; conda channels have "
                  "no package by that name, so the solve fails", (f"use conda's {conda}, or " if conda else "")
                  + f"move `{d.name}` to the pip: section")
        if v and _PRE.search(v.lstrip("=<>!~ ")) and _is_v(v.lstrip("=<>!~ ")):
            _pre(c, d.line, raw, v.lstrip("=<>!~ "))
    for p in c.env.pip:
        pv = p.pinned_version
        if pv and _is_v(pv) and V(pv).is_prerelease:
            _pre(c, p.line, p.raw.strip(), pv)


def _pre(c: Checker, line: int | None, raw: str, version: str) -> None:
    kind = "a nightly/dev build" if V(version).is_devrelease else "a pre-release"
    c.add("warning", line, "pre-release", f"{raw} pins {kind} ({version}): indexes and channels drop these, so "
          "the file may not build again, and later releases differ", "pin the final release")


def _is_v(text: str) -> bool:
    try:
        V(text)
    except ValueError:
        return False
    return True


def _pip_visibility(c: Checker) -> None:
    options = " ".join((d.option or "") for d in c.env.pip if d.option)
    has_index = any(k in options for k in ("--index-url", "--extra-index-url", "-i ", "--find-links", "-f "))
    for d in c.env.pip:
        raw = d.raw.strip()
        if d.option:
            opt = d.option.split()[0].split("=")[0]
            if opt in ("-r", "--requirement", "-c", "--constraint"):
                c.add("info", d.line, "pip-unseen", f"{raw}: validate cannot see what that file installs (its "
                      "CUDA-related packages are not checked)", "list the packages here to have them checked")
            elif opt in ("-e", "--editable"):
                c.add("info", d.line, "pip-unseen", f"{raw}: an editable local package; validate cannot see its "
                      "dependencies")
            continue
        if d.name is None or "://" in raw or raw.startswith(("git+", "hg+", "svn+")) or " @ " in raw:
            c.add("info", d.line, "pip-unseen", f"{raw}: a URL, VCS or local-path requirement; validate cannot see "
                  "which version (or CUDA build) it installs", "pin a released version where one exists")
        elif d.local and not has_index:
            c.add("error", d.line, "pip-local-version", f"{raw}: `{d.local}` is a local version label that PyPI "
                  "never has; with no index or find-links line pip finds no such version",
                  _local_hint(d.name, d.local))


def _local_hint(name: str, local: str) -> str:
    m = re.match(r"^\+(cu\d{2,3}|cpu|rocm[\d.]+)$", local)
    if name in ("torch", "torchvision", "torchaudio") and m:
        return f"add `--extra-index-url https://download.pytorch.org/whl/{m.group(1)}` to the pip: section"
    return "add the index or find-links line that serves this build to the pip: section"


def file_platforms(c: Checker) -> dict[str, str]:
    """The platforms a file names (package, subdir, wheel tag, prefix, else its file name): platform -> why."""
    found: dict[str, str] = {}
    for d in c.env.conda:
        for rx, plat in _PLATFORM_HINTS:
            if rx.match(d.name.lower()):
                found.setdefault(plat, d.raw.strip())
        ch = (d.channel or "").lower()
        for sub, plat in (("/win-64", "win-64"), ("/osx-arm64", "osx"), ("/osx-64", "osx"),
                          ("/linux-aarch64", "linux-aarch64")):
            if ch.endswith(sub):
                found.setdefault(plat, d.raw.strip())
    for p in c.env.pip:
        if re.search(r"linux_aarch64\.whl|manylinux\w*_aarch64\.whl", p.raw):
            found.setdefault("linux-aarch64", p.raw.strip())
    if c.env.prefix and re.match(r"^[A-Za-z]:\\", c.env.prefix):
        found.setdefault("win-64", f"prefix: {c.env.prefix}")
    x86 = ("ld_impl_linux-64", "sysroot_linux-64", "mkl", "intel-openmp", "mkl-service")  # MKL is x86-only
    if not found and any(d.name.lower() in x86 for d in c.env.conda):
        return {}  # an x86-64 environment, whatever its file name says
    named = _platform_of_name(c.env.path)
    if named and not found:
        found[named] = f"the file name {c.env.path.replace(chr(92), '/').rsplit('/', 1)[-1]}"
    return found


def _platform(c: Checker) -> None:
    for plat, why in file_platforms(c).items():
        cuda = {"osx": "; macOS has no CUDA, so it is a CPU environment",
                "linux-aarch64": "; conda's and PyPI's linux-aarch64 CUDA builds are server (SBSA) builds: on a "
                "Jetson, CUDA comes from JetPack"}.get(plat, "")
        c.add("info", None, "platform-specific", f"this file is for {plat} ({why}){cuda}: validate checks CUDA "
              "facts for linux-64 and its packages may not exist for another platform",
              "keep one file per platform (e.g. environment-linux-64.yml)")


def platform_vs_host(c: Checker, host: HostInfo) -> None:
    """With --host: a file for another platform than the machine (an aarch64 export on an x86-64 server)."""
    arch = (host.arch or "").lower()
    if host.machine_type == "jetson" or arch in ("aarch64", "arm64"):
        plat = "linux-aarch64"
    elif host.machine_type == "windows":
        plat = "win-64"
    elif arch in ("x86_64", "amd64") or host.machine_type == "wsl2":
        plat = "linux-64"
    else:
        return
    found = file_platforms(c)
    if found and plat not in found:
        other, why = next(iter(found.items()))
        c.add("warning", None, "platform-mismatch", f"this file is for {other} ({why}); the machine is {plat} "
              f"({host.summary()}): its packages and builds are not the ones that machine installs",
              f"use (or write) the file for {plat}")


def _platform_of_name(path: str) -> str | None:
    tokens = [t.lower() for t in re.split(r"[_\-.\s/\\]+", path.replace("\\", "/").rsplit("/", 1)[-1]) if t]
    if any(t in ("mac", "macos", "osx", "m1", "m2", "mps", "apple") for t in tokens):
        return "osx"
    if any(t.startswith("windows") or t in ("win", "win64") for t in tokens):
        return "win-64"
    if any(t in ("jetson", "jetpack", "tegra", "aarch64", "arm64") for t in tokens):
        return "linux-aarch64"
    return None


def _build_python(c: Checker) -> None:
    py = next((e for e in of(c.ev, PYTHON) if e.version), None)
    if py is None or not py.version:
        return
    want = short(py.version)
    for d in c.env.conda:
        if not d.build or d.name.lower() == "python":
            continue
        m = _BUILD_PY.search(d.build.lower())
        if m and f"{m.group('maj')}.{m.group('min')}" != want:
            c.add("error", d.line, "build-python-mismatch", f"{d.raw.strip()} is a build for Python "
                  f"{m.group('maj')}.{m.group('min')}, but the file pins Python {want} ({py.source})",
                  "drop the build string or pin the build for this Python")


def python_eol(c: Checker, today: date) -> None:
    py = next((e for e in of(c.ev, PYTHON) if e.version), None)
    if py is None or not py.version:
        return
    end = facts.python_eol(py.version)
    if end is None or end > today:
        return
    to = facts.oldest_supported_python(today)
    tr = c.tr
    hint = f"move to Python {to} or newer" if to else "move to a supported Python"
    if tr is not None and to and to not in tr.python:
        newer = [v for v in tr.python if V(v) >= V(to)]
        hint += "" if newer else f" (TensorRT {tr.version} has no wheel for it: that means a newer TensorRT too)"
    c.add("warning", py.line, "eol-python", f"Python {short(py.version)} ({py.source}) reached end of life on "
          f"{end.isoformat()} ({facts.PYTHON_EOL_SOURCE}): no security fixes, and new wheels skip it", hint)
