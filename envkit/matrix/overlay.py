"""Local overlays: a team's own facts merged over the packaged matrix, each record keeping its origin.

An overlay is a matrix.yaml fragment (same schema; ``matrix_version`` and ``sources`` optional) found
in ``environments/matrix.d/*.yaml`` (sorted by name) or listed in ``[tool.envkit] matrix_overlays``.
A record whose identity (CUDA/cuDNN/TensorRT/JetPack version, route id, precision name, GPU name,
NGC tag, CUDA major, pip index name) matches a packaged one replaces it; any other record is added.
The merged matrix is checked as a whole (``envkit matrix --check``); findings on an overlay's records
name the overlay file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from envkit.errors import MatrixError
from envkit.matrix.model import Matrix, Sourced
from envkit.versions import V

T = TypeVar("T")


def _mark(rec: T, origin: str) -> T:
    meta: Sourced = rec.meta  # type: ignore[attr-defined]
    return dataclasses.replace(rec, meta=dataclasses.replace(meta, origin=origin))  # type: ignore[type-var]


def _merge_list(section: str, base: list[T], over: list[T], key: Callable[[T], Any], origin: str,
                remap: dict[int, int]) -> list[T]:
    out = list(base)
    index = {key(r): i for i, r in enumerate(out)}
    for i, rec in enumerate(over):
        k = key(rec)
        if k in index:
            out[index[k]] = _mark(rec, origin)
            remap[i] = index[k]
        else:
            remap[i] = len(out)
            index[k] = len(out)
            out.append(_mark(rec, origin))
    return out


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(V(v).release)


def merge(base: Matrix, over: Matrix) -> Matrix:
    """``over`` (one overlay file, already parsed) merged into ``base``; raises MatrixError on a source clash."""
    origin = over.path
    for k, url in over.sources.items():
        if k in base.sources and base.sources[k] != url:
            raise MatrixError(f"source {k!r} is already defined as {base.sources[k]} in {base.path}",
                              "use another key for the overlay's source", file=origin, line=over.line_of(
                                  f"sources.{k}"), key=f"sources.{k}")
    remaps: dict[str, dict[int, int]] = {s: {} for s in (
        "cuda", "cudnn", "tensorrt", "gpus", "ngc", "jetpack", "routes", "precisions", "cuda_majors", "pip_indexes")}
    routes = _merge_list("routes", list(base.routes.values()), list(over.routes.values()), lambda r: r.id, origin,
                         remaps["routes"])
    precisions = _merge_list("precisions", list(base.precisions.values()), list(over.precisions.values()),
                             lambda p: p.name, origin, remaps["precisions"])
    majors = _merge_list("cuda_majors", list(base.cuda_majors.values()), list(over.cuda_majors.values()),
                         lambda c: c.major, origin, remaps["cuda_majors"])
    pip_names = list(base.pip_indexes)
    pip_meta = list(base.pip_index_meta)
    for i, (name, meta) in enumerate(zip(over.pip_indexes, over.pip_index_meta, strict=True)):
        j = pip_names.index(name) if name in pip_names else len(pip_names)
        remaps["pip_indexes"][i] = j
        if j == len(pip_names):
            pip_names.append(name)
            pip_meta.append(dataclasses.replace(meta, origin=origin))
        else:
            pip_meta[j] = dataclasses.replace(meta, origin=origin)
    merged = dataclasses.replace(
        base,
        matrix_version=f"{base.matrix_version}+{over.matrix_version or _stem(origin)}",
        sources={**base.sources, **over.sources},
        pip_indexes={**base.pip_indexes, **over.pip_indexes},
        pip_index_meta=pip_meta,
        cuda_majors={c.major: c for c in majors},
        cuda=_merge_list("cuda", base.cuda, over.cuda, lambda c: _vkey(c.version), origin, remaps["cuda"]),
        cudnn=_merge_list("cudnn", base.cudnn, over.cudnn, lambda c: _vkey(c.version), origin, remaps["cudnn"]),
        tensorrt=_merge_list("tensorrt", base.tensorrt, over.tensorrt, lambda t: _vkey(t.version), origin,
                             remaps["tensorrt"]),
        routes={r.id: r for r in routes},
        precisions={p.name: p for p in precisions},
        gpus=_merge_list("gpus", base.gpus, over.gpus, lambda g: g.name.lower(), origin, remaps["gpus"]),
        ngc=_merge_list("ngc", base.ngc, over.ngc, lambda n: n.tag, origin, remaps["ngc"]),
        jetpack=_merge_list("jetpack", base.jetpack, over.jetpack, lambda j: _vkey(j.version), origin,
                            remaps["jetpack"]),
        overlays=(*base.overlays, origin),
    )
    merged.lines, merged.line_files = _merge_lines(base, over, remaps)
    return merged


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] or "overlay"


def _merge_lines(base: Matrix, over: Matrix, remaps: dict[str, dict[int, int]]) -> tuple[dict[str, int],
                                                                                          dict[str, str]]:
    """Line numbers of the merged matrix: an overlay record's keys point into the overlay file."""
    lines = dict(base.lines)
    files = dict(base.line_files)
    for key, line in over.lines.items():
        section, bracket, rest = key.partition("[")
        if bracket and section in remaps:
            idx, _, tail = rest.partition("]")
            if idx.isdigit() and int(idx) in remaps[section]:
                key = f"{section}[{remaps[section][int(idx)]}]{tail}"
        elif not key.startswith("sources."):
            continue
        lines[key] = line
        files[key] = over.path
    return lines, files
