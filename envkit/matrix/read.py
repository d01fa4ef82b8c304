"""Typed, strict accessors for matrix.yaml: a yamlio ``Reader`` raising ``MatrixError``.

Versions, compute capabilities, version ranges, driver maps, package templates and the
``source``/``unconfirmed``/``notes`` metadata every record carries. Used by
``envkit.matrix.parse``; imports nothing above ``envkit.matrix.model``.
"""

from __future__ import annotations

import string

from envkit.errors import MatrixError
from envkit.matrix.model import Sourced
from envkit.versions import V, spec
from envkit.yamlio import Document, Reader, did_you_mean

PLATFORMS = ("linux", "windows")
META_KEYS = ("source", "unconfirmed", "notes")
TEMPLATE_FIELDS = ("version", "full_version", "pypi_version", "cuda_major", "cuda_version", "cudnn_version", "python")


class MatrixReader(Reader):
    """Reader raising MatrixError, with matrix-specific typed accessors."""

    def __init__(self, doc: Document, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(doc, path, MatrixError)

    def child(self, key: str | int) -> MatrixReader:
        return MatrixReader(self.doc, (*self.path, key))

    def ritems(self, key: str) -> list[MatrixReader]:
        """``items`` typed as MatrixReaders (one reader per element of the list at ``key``)."""
        seq = self.get(key, list, [])
        return [self.child(key).child(i) for i in range(len(seq))]

    # versions -------------------------------------------------------------------------------
    def version(self, key: str, *, required: bool = True, what: str = "a version like \"12.4\"") -> str | None:
        value = self.get(key, str, None, required=required)
        if value is None:
            return None
        _check_version(self, value, (*self.path, key), what)
        return value

    def cc(self, key: str, *, required: bool = True) -> str | None:
        value = self.version(key, required=required, what="a compute capability like \"8.6\"")
        if value is not None and len(V(value).release) != 2:
            raise self.fail(
                f"expected a compute capability MAJOR.MINOR like \"8.6\", got {value!r}", path=(*self.path, key)
            )
        return value

    def cc_list(self, key: str, *, required: bool = False) -> list[str]:
        """A list of compute capabilities ("8.6"), each MAJOR.MINOR, no duplicates."""
        values = self.version_list(key, required=required)
        if required and not values:
            raise self.fail(f"{key!r} must list at least one compute capability", path=(*self.path, key))
        seen: set[tuple[int, ...]] = set()
        for i, v in enumerate(values):
            rel = V(v).release
            if len(rel) != 2:
                raise self.fail(f"expected a compute capability MAJOR.MINOR like \"8.6\", got {v!r}",
                                path=(*self.path, key, i))
            if rel in seen:
                raise self.fail(f"compute capability {v} is listed twice", path=(*self.path, key, i))
            seen.add(rel)
        return values

    def version_list(self, key: str, *, required: bool = False) -> list[str]:
        values = self.str_list(key, required=required)
        for i, v in enumerate(values):
            _check_version(self, v, (*self.path, key, i), "a version like \"3.10\"")
        return values

    def spec_list(self, key: str, *, required: bool = False) -> list[str]:
        values = self.str_list(key, required=required)
        if required and not values:
            raise self.fail(f"{key!r} must list at least one version or range", path=(*self.path, key))
        for i, v in enumerate(values):
            try:
                spec(v)
            except ValueError:
                raise self.fail(
                    f"expected a version (\"12.4\") or a PEP 440 range (\">=12.0,<12.7\"), got {v!r}",
                    path=(*self.path, key, i),
                ) from None
        return values

    def drivers(self, key: str, *, required: bool = True) -> dict[str, str]:
        if not self.has(key):
            if required:
                raise self.fail(f"missing required key {key!r}")
            return {}
        r = self.child(key)
        r.expect_mapping(PLATFORMS, required=("linux",))
        out: dict[str, str] = {}
        for plat in PLATFORMS:
            v = r.version(plat, required=False, what="a driver version like \"535.104.05\"")
            if v is not None:
                out[plat] = v
        return out

    def templates(self, key: str) -> list[str]:
        values = self.str_list(key)
        for i, t in enumerate(values):
            _check_template(self, t, (*self.path, key, i))
        return values

    def int_list(self, key: str) -> list[int]:
        items = self.get(key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, int) or isinstance(item, bool):
                raise self.fail(f"expected an integer (a CUDA major like 12), got {item!r}", path=(*self.path, key, i))
        return list(items)

    def str_map(self, key: str, allowed: tuple[str, ...] | None = None) -> dict[str, str]:
        if not self.has(key):
            return {}
        r = self.child(key)
        if allowed is not None:
            r.expect_mapping(allowed)
        elif not isinstance(r.value, dict):
            raise r.fail("expected a mapping")
        out: dict[str, str] = {}
        for k in r.value:
            out[str(k)] = r.get(str(k), str, required=True)
        return out

    def meta(self) -> Sourced:
        if not self.has("source"):
            raise self.fail("missing required key 'source'", "every record names its source (a key of `sources:`)")
        raw = self.value["source"]
        if isinstance(raw, str):
            keys: tuple[str, ...] = (raw,)
        elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            keys = tuple(raw)
        else:
            raise self.fail(
                "expected a source key or a non-empty list of source keys", path=(*self.path, "source")
            )
        return Sourced(
            source=keys,
            unconfirmed=self.get("unconfirmed", str, None),
            notes=self.get("notes", str, None),
        )


def _check_version(r: Reader, value: str, path: tuple[str | int, ...], what: str) -> None:
    try:
        V(value)
    except ValueError:
        raise r.fail(f"expected {what}, got {value!r}", path=path) from None


def _check_template(r: Reader, text: str, path: tuple[str | int, ...]) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise r.fail(f"bad template {text!r}: {exc}", path=path) from None
    for f in fields:
        if f not in TEMPLATE_FIELDS:
            raise r.fail(
                f"unknown template field {{{f}}} in {text!r}",
                did_you_mean(f, TEMPLATE_FIELDS) or f"allowed: {', '.join('{' + t + '}' for t in TEMPLATE_FIELDS)}",
                path=path,
            )


def req(value: str | None) -> str:
    """A value read with ``required=True`` (never None)."""
    assert value is not None  # guarded by required=True
    return value
