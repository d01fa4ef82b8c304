"""GPU name -> compute capability from the matrix's ``gpus:`` table.

nvidia-smi prints names in several forms: "NVIDIA GeForce RTX 4090", "Tesla K40c", "GeForce GTX 108..."
(the plain table truncates long names with "..."). A full name matches the longest table entry that
appears in it as whole words. A truncated name matches only when every entry it could stand for has
the same compute capability; otherwise the answer is "unknown", never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envkit.matrix.model import GpuEntry

_TRUNCATED = re.compile(r"(\.\.\.|\u2026)\s*$")


def norm_gpu(name: str) -> str:
    """Lower case, vendor words dropped, punctuation to single spaces ("NVIDIA A100-SXM4-80GB" -> "a100 sxm4 80gb")."""
    n = name.lower().replace("nvidia", " ").replace("geforce", " ").replace("tesla", " ")
    return re.sub(r"[^a-z0-9]+", " ", n).strip()


def _names(gpus: Iterable[GpuEntry]) -> list[tuple[str, str]]:
    out = []
    for gpu in gpus:
        for cand in (gpu.name, *gpu.aliases):
            c = norm_gpu(cand)
            if c:
                out.append((c, gpu.compute_capability))
    return out


def lookup(gpus: Iterable[GpuEntry], gpu_name: str) -> str | None:
    truncated = bool(_TRUNCATED.search(gpu_name))
    target = norm_gpu(_TRUNCATED.sub("", gpu_name))
    if not target:
        return None
    names = _names(gpus)
    if truncated:
        return _lookup_truncated(names, target)
    best: tuple[int, str] | None = None
    padded = f" {target} "  # an entry matches as whole words: " c " inside " target " (no regex per entry)
    for c, cc in names:
        if target == c or f" {c} " in padded:
            score = len(c) + (1000 if target == c else 0)
            if best is None or score > best[0]:
                best = (score, cc)
    return best[1] if best else None


def _lookup_truncated(names: list[tuple[str, str]], target: str) -> str | None:
    """``target`` is a prefix of the real name: collect every entry it may stand for."""
    found: set[str] = set()
    padded = f" {target}"
    for c, cc in names:
        # the real name may be this entry (or longer), or the entry ends before the cut at a word boundary
        if c.startswith(target) or f" {c} " in padded:
            found.add(cc)
    return found.pop() if len(found) == 1 else None
