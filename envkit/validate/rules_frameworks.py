"""Framework and channel rules of ``envkit validate``: what the way a framework or channel is written
implies for the CUDA stack.

Codes: pytorch-cuda-channel-ended (pytorch-cuda with a pytorch newer than the pytorch channel ever
published), unpinned-critical (a conda framework that floats against a pinned CUDA), cupy-source-build,
python-version-conflict, duplicate-spec, duplicate-channel, channel-retired, channel-url.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.version import Version

from envkit.validate import facts
from envkit.validate.evidence_model import CUDA, PYTHON, of, short
from envkit.versions import V

if TYPE_CHECKING:
    from envkit.validate.rules_stack import Checker

_CONDA_FRAMEWORKS = ("pytorch", "tensorflow", "tensorflow-gpu", "jaxlib")


def framework_rules(c: Checker) -> None:
    _pytorch_channel(c)
    _conda_unpinned(c)
    _cupy(c)
    _python_conflict(c)
    _duplicates(c)
    _channels(c)


def _v(text: str | None) -> Version | None:
    try:
        return V((text or "").strip().lstrip("=").rstrip(".*")) if text else None
    except ValueError:
        return None


def _pytorch_channel(c: Checker) -> None:
    pcuda = next((d for d in c.env.conda if d.name.lower() == "pytorch-cuda"), None)
    torch = next((d for d in c.env.conda if d.name.lower() == "pytorch"), None)
    if pcuda is None or torch is None:
        return
    want = _v(pcuda.exact_or_prefix)
    if want is not None and not any(V(x).release == want.release[:2] for x in facts.PYTORCH_CUDA_VERSIONS):
        c.add("error", pcuda.line, "pytorch-cuda-channel-ended",
              f"{pcuda.raw.strip()}: the pytorch channel published pytorch-cuda "
              f"{', '.join(facts.PYTORCH_CUDA_VERSIONS)} only ({facts.PYTORCH_CUDA_SOURCE}): no solve exists",
              "for a newer CUDA take pytorch from conda-forge (cuda-version=X pins its CUDA) or from pip")
    pinned = _v(torch.exact_or_prefix) or _lower_bound(torch.version)
    if pinned is not None and pinned > V(facts.PYTORCH_CHANNEL_LAST):
        c.add("error", torch.line, "pytorch-cuda-channel-ended",
              f"{torch.raw.strip()} with {pcuda.raw.strip()} (line {pcuda.line}): `pytorch-cuda` pairs only with "
              f"the pytorch channel's builds, and that channel stopped at {facts.PYTORCH_CHANNEL_LAST} "
              f"({facts.PYTORCH_CHANNEL_SOURCE}): no solve exists",
              f"pin pytorch<={facts.PYTORCH_CHANNEL_LAST} with pytorch-cuda, or take pytorch "
              f"{(torch.version or '').strip()} from conda-forge (its CUDA builds follow cuda-version) or from pip")


def _lower_bound(spec: str | None) -> Version | None:
    """The lowest version a `>=X` / `>X` conda spec admits (None for anything else)."""
    m = re.fullmatch(r"\s*>=?\s*([0-9][0-9.]*)\s*(?:,.*)?", spec or "")
    return _v(m.group(1)) if m else None


def _conda_unpinned(c: Checker) -> None:
    cuda = next((e for e in of(c.ev, CUDA) if e.version and e.manager == "conda"), None)
    if cuda is None:
        return
    for d in c.env.conda:
        if d.name.lower() in _CONDA_FRAMEWORKS and not d.version and not d.build:
            c.add("warning", d.line, "unpinned-critical",
                  f"{d.raw.strip()} is not pinned next to CUDA {cuda.version} ({cuda.source}): the solver takes the "
                  "newest build that still fits that CUDA, which for an older CUDA is an old release or a CPU build",
                  f"pin the release built for CUDA {cuda.version}: {d.name.lower()}=X.Y")


def _cupy(c: Checker) -> None:
    for d in c.env.pip:
        if d.name == "cupy":
            c.add("info", d.line, "cupy-source-build",
                  f"{d.raw.strip()}: `cupy` on PyPI is the source distribution: pip compiles it against the nvcc on "
                  "PATH at install time, so its CUDA is whatever that machine has",
                  "use the prebuilt wheel for the CUDA of this environment (cupy-cuda11x, cupy-cuda12x)")


def _python_conflict(c: Checker) -> None:
    exact = []
    for e in of(c.ev, PYTHON):
        v = _v(e.spec) if e.spec and not any(ch in e.spec for ch in "<>!~,|*") else None
        if v is not None:
            exact.append((e, v))
    for i, (a, va) in enumerate(exact):
        for b, vb in exact[i + 1:]:
            n = min(len(va.release), len(vb.release))
            if va.release[:n] != vb.release[:n]:
                c.add("error", b.line, "python-version-conflict",
                      f"{b.source} and {a.source} (line {a.line}) pin different Pythons: no solve has both",
                      f"keep one (e.g. python={short(str(va))})")
                return


def _duplicates(c: Checker) -> None:
    seen: dict[str, int | None] = {}
    for d in c.env.conda:
        key = d.name.lower()
        if key in seen and not d.selector:
            c.add("info", d.line, "duplicate-spec", f"{d.raw.strip()} is listed again (first at line {seen[key]}): "
                  "conda merges both specs", "keep one line per package")
        seen.setdefault(key, d.line)


def _channels(c: Checker) -> None:
    seen: dict[str, int] = {}
    for i, ch in enumerate(c.env.channels):
        line = c.env.channel_lines[i] if i < len(c.env.channel_lines) else None
        key = ch.strip().rstrip("/").lower()
        if key in seen:
            c.add("info", line, "duplicate-channel", f"channel {ch} is listed twice", "list each channel once")
        seen.setdefault(key, i)
        if re.search(r"(?:^|/)pkgs/free/?$", key):
            c.add("warning", line, "channel-retired", f"channel {ch} is defaults' `free` channel, dropped from "
                  f"defaults in conda 4.7 ({facts.FREE_CHANNEL_SOURCE}): its packages are years old and many mirrors "
                  "no longer carry it", "remove it")
        m = re.match(r"^file://([^/]+)/", ch.strip())
        if m:
            c.add("warning", line, "channel-url", f"channel {ch}: `file://{m.group(1)}/...` names the host "
                  f"`{m.group(1)}`, not the folder /{m.group(1)}", f"write file:///{ch.strip()[7:]}")
