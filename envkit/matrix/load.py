"""Read matrix.yaml (and local overlays) into ``envkit.matrix.model.Matrix`` and check it.

``load_matrix(path)`` raises ``MatrixError`` (file, line, key path, "did you mean") on a schema
error and, unless ``check=False``, on the first reference/contradiction error that
``check_matrix`` finds. ``check_matrix(m)`` returns every finding; ``envkit matrix --check``
reports them all. The schema is documented in docs/matrix-schema.md.

Layout: this module loads (files, caches, overlays); ``envkit.matrix.parse`` builds the records
section by section with the typed accessors of ``envkit.matrix.read``; ``envkit.matrix.overlay``
merges overlay files; ``check_matrix`` and ``Finding`` live in ``envkit.matrix.check`` and are
re-exported here. ``load_for(settings)`` is what the verbs call: the configured matrix plus the
project's overlays (``environments/matrix.d/*.yaml``, ``[tool.envkit] matrix_overlays``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from envkit.errors import InputError, MatrixError
from envkit.matrix.check import Finding, check_matrix
from envkit.matrix.model import Matrix
from envkit.matrix.parse import TOP_KEYS, parse_matrix
from envkit.matrix.read import META_KEYS, PLATFORMS, TEMPLATE_FIELDS
from envkit.yamlio import Document
from envkit.yamlio import load as yaml_load
from envkit.yamlio import loads as yaml_loads

if TYPE_CHECKING:
    from envkit.context import Settings

__all__ = [
    "META_KEYS",
    "PLATFORMS",
    "TEMPLATE_FIELDS",
    "TOP_KEYS",
    "Finding",
    "check_matrix",
    "load_for",
    "load_matrix",
    "loads_matrix",
    "parse_matrix",
]

_CACHE: dict[tuple[str, int, int, bool], Matrix] = {}
OVERLAY_DIR = "matrix.d"


# -- loading ---------------------------------------------------------------------------------------
def load_for(settings: Settings, *, check: bool = True) -> Matrix:
    """The matrix a verb uses: ``settings.matrix_path`` merged with the project's overlays."""
    return load_matrix(settings.matrix_path, check=check, overlays=overlay_files(settings))


def overlay_files(settings: Settings) -> tuple[Path, ...]:
    """``environments/matrix.d/*.yaml`` (by name), then ``[tool.envkit] matrix_overlays`` (in order)."""
    from envkit.config import load_config

    found: list[Path] = []
    d = settings.environments_dir / OVERLAY_DIR
    if d.is_dir():
        found += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml"))
    for item in load_config(settings).matrix_overlays:
        p = Path(item)
        found.append(p if p.is_absolute() else settings.project_dir / p)
    return tuple(found)


def load_matrix(path: Path | str, *, check: bool = True, overlays: tuple[Path, ...] = ()) -> Matrix:
    """Read and validate matrix.yaml merged with ``overlays``; the packaged file is cached by content."""
    m = _load_base(path, check=check and not overlays)
    if not overlays:
        return m
    from envkit.matrix.overlay import merge

    for o in overlays:
        doc = _read(lambda o=o: yaml_load(Path(o)))  # type: ignore[misc]
        m = merge(m, parse_matrix(doc, overlay=True))
    if check:
        _raise_first_error(m)
    return m


def _load_base(path: Path | str, *, check: bool) -> Matrix:
    p = Path(path)
    try:
        st = p.stat()
        key: tuple[str, int, int, bool] | None = (str(p.resolve()), st.st_mtime_ns, st.st_size, check)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    doc = _from_disk_cache(p, check)  # keyed by content: another installation's copy may have filled it
    if doc is not None:
        # a check=True entry is written only after these exact bytes passed these exact rules: parse, skip the check
        m = parse_matrix(doc)
    else:
        doc = _read(lambda: yaml_load(p))
        m = _load_doc(doc, check=check)
        _to_disk_cache(p, check, doc)
    if key is not None:
        _CACHE[key] = m
    return m


def _disk_cache_file(p: Path, check: bool) -> Path | None:
    """``<cache>/matrix/<sha256 of the file's bytes, envkit version, check>.json``: the parsed YAML (values and
    their lines) is reused only for exactly the same bytes, by the same envkit."""
    import hashlib
    import os

    from envkit import __version__
    from envkit.context import user_cache_dir
    from envkit.errors import EnvkitError
    from envkit.fsutil import read_input

    try:
        data = read_input(p, "matrix.yaml")
    except EnvkitError:
        return None
    # the rules that judged the cached document are part of the key: an edited parser or rule set misses
    code = b"".join(_own_source(name) for name in ("parse.py", "read.py", "check.py", "check_rules.py", "model.py"))
    digest = hashlib.sha256(data + f"\0{__version__}\0{check}\0".encode() + code).hexdigest()[:32]
    base = Path(os.environ.get("ENVKIT_CACHE_DIR") or user_cache_dir())
    return base / "matrix" / f"{digest}.json"


def _own_source(name: str) -> bytes:
    try:
        return (Path(__file__).parent / name).read_bytes()
    except OSError:
        return name.encode()


def _from_disk_cache(p: Path, check: bool) -> Document | None:
    """The cached document, or None for a miss. The cache is plain JSON (it cannot run code); a torn, foreign or
    unreadable file is only a miss, and what it holds is checked by ``_load_doc`` like freshly parsed YAML."""
    from envkit.errors import EnvkitError
    from envkit.fsutil import read_input
    from envkit.limits import load_json

    f = _disk_cache_file(p, check)
    if f is None:
        return None
    try:
        raw = load_json(read_input(f, "a matrix cache file"), "the matrix cache")
    except (EnvkitError, OSError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("lines"), list):
        return None
    lines: dict[tuple[str | int, ...], int] = {}
    for entry in raw["lines"]:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
                and isinstance(entry[1], int) and all(isinstance(k, (str, int)) for k in entry[0])):
            return None
        lines[tuple(entry[0])] = entry[1]
    return Document(raw.get("data"), str(p), lines)


def _to_disk_cache(p: Path, check: bool, doc: Document) -> None:
    import json

    from envkit.errors import WriteError
    from envkit.fsutil import write_atomic

    f = _disk_cache_file(p, check)
    if f is not None:
        payload = {"data": doc.data, "lines": [[list(k), v] for k, v in doc.lines.items()]}
        try:
            write_atomic(f, json.dumps(payload, separators=(",", ":")))
        except (OSError, WriteError, TypeError, ValueError):  # an unwritable cache or a value JSON cannot hold
            pass


def loads_matrix(text: str, file: str = "matrix.yaml", *, check: bool = True) -> Matrix:
    """Like ``load_matrix`` from a string (tests, tools)."""
    return _load_doc(_read(lambda: yaml_loads(text, file)), check=check)


def _read(func: Callable[[], Document]) -> Document:
    """yamlio raises InputError for unreadable/invalid YAML: report it as a MatrixError (same file/line)."""
    try:
        return func()
    except MatrixError:
        raise
    except InputError as exc:
        raise MatrixError(exc.message.split(": ", 1)[-1] if exc.file else exc.message, exc.hint,
                          file=exc.file, line=exc.line, key=exc.key) from None


def _load_doc(doc: Document, *, check: bool) -> Matrix:
    m = parse_matrix(doc)
    if check:
        _raise_first_error(m)
    return m


def _raise_first_error(m: Matrix) -> None:
    errors = [f for f in check_matrix(m) if f.severity == "error"]
    if errors:
        err = errors[0].to_error()
        if len(errors) > 1:
            more = f"{len(errors) - 1} more error(s); run `envkit matrix --check` to see all"
            err.hint = f"{err.hint}; {more}" if err.hint else more
        raise err
