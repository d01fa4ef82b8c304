"""The record of an environment envkit created: ``<prefix>/conda-meta/envkit.json``.

One writer (``write_record``, used by the pipeline and the conda-CLI backends) and one reader
(``read_record``, used by ``envkit.envs``, the staging recovery, the smoke test, explain and export).
The record is typed (``EnvRecord``) and versioned: ``schema`` is ``envkit.env/1``; records written
before the schema existed (no ``schema`` key, or only some keys) are still read, missing keys taking
their defaults. A record of another schema, or with a key of the wrong type, reads as None (the
environment is then reported as broken, never guessed at).

``"complete": true`` is written last, atomically and fsync'd: an environment without it is never
reported as good.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from envkit.fsutil import write_atomic

RECORD = "envkit.json"
SCHEMA = "envkit.env/1"
MAX_BYTES = 16 * 1024 * 1024  # a record is a few KiB; anything larger is not one
STACK_PACKAGES = {
    "tensorrt": ("tensorrt", "libnvinfer"),
    "cuda": ("cuda-version", "cuda-cudart"),
    "cudnn": ("cudnn",),
    "python": ("python",),
}


def stack_of(records: list[Any]) -> dict[str, str | None]:
    """The stack (tensorrt, cuda, cudnn, python versions) of solved package records."""
    by = {r.name: r.version for r in records}
    return {key: next((by[n] for n in names if n in by), None) for key, names in STACK_PACKAGES.items()}


@dataclass
class EnvRecord:
    """``conda-meta/envkit.json``. ``host`` is what the solve used (target, --host file, driver facts);
    ``machine`` is the machine the environment was built for (``Machine.to_json``)."""

    complete: bool = False
    name: str | None = None
    prefix: str | None = None
    env_file: str | None = None
    spec_hash: str | None = None  # sha256 of the environment file
    lock_file: str | None = None
    lock_hash: str | None = None
    backend: str = "rattler"
    stack: dict[str, str | None] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    host: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] | None = None
    envkit_version: str | None = None
    created: str | None = None
    locked: bool = False
    install: dict[str, Any] = field(default_factory=dict)
    pip: dict[str, Any] | None = None  # the pip section: installer ("uv" or "pip"), argv (redacted), seconds
    timings: dict[str, float] = field(default_factory=dict)
    schema: str = SCHEMA

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema": data.pop("schema"), **data}

    @classmethod
    def from_json(cls, data: Any) -> EnvRecord | None:
        """The record, or None when ``data`` is not one this envkit reads."""
        if not isinstance(data, dict) or data.get("schema", SCHEMA) != SCHEMA:
            return None
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if value is None and f.name not in _NULLABLE:
                continue  # absent (an older record): the default
            if not isinstance(value, _TYPES.get(f.name, (str, type(None)))):
                return None
            kwargs[f.name] = value
        record = cls(**kwargs)
        if not all(isinstance(v, (str, type(None))) for v in record.stack.values()):
            return None
        if not all(isinstance(x, str) for x in (*record.packages, *record.channels)):
            return None
        return record


_NULLABLE = {"name", "prefix", "env_file", "spec_hash", "lock_file", "lock_hash", "machine", "envkit_version",
             "created", "pip"}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "complete": bool, "backend": str, "stack": dict, "packages": list, "channels": list, "host": dict,
    "machine": (dict, type(None)), "pip": (dict, type(None)), "locked": bool, "install": dict, "timings": dict, "schema": str,
}


def record_path(prefix: Path) -> Path:
    return Path(prefix) / "conda-meta" / RECORD


def read_record(prefix: Path) -> EnvRecord | None:
    """The record of the environment at ``prefix``; None when there is none or it is not readable."""
    path = record_path(prefix)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return EnvRecord.from_json(data)


def write_record(prefix: Path, record: EnvRecord) -> None:
    """Write ``conda-meta/envkit.json`` into ``prefix`` (the staging prefix during create), atomically."""
    meta = Path(prefix) / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    write_atomic(meta / RECORD, json.dumps(record.to_json(), indent=2) + "\n", fsync=True)
