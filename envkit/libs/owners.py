"""Who installed a file: a conda package (conda-meta/*.json), a pip distribution (*.dist-info/RECORD),
or a Debian package (dpkg). Every read is bounded; unreadable records are skipped with a note."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from envkit.libs.system import DpkgIndex

MAX_RECORD = 64 << 20
MAX_RECORDS = 20000


@dataclass(frozen=True)
class Owner:
    source: str  # "conda", "pip", "dpkg"
    package: str
    version: str | None

    def text(self) -> str:
        return f"{self.source} {self.package}" + (f" {self.version}" if self.version else "")

    def to_json(self) -> dict[str, str | None]:
        return {"source": self.source, "package": self.package, "version": self.version}


@dataclass
class Owners:
    """path (as listed, and its real path) -> Owner, for one environment."""

    files: dict[str, Owner] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dpkg: DpkgIndex = field(default_factory=DpkgIndex)

    def owner(self, path: str) -> Owner | None:
        for p in (path, os.path.realpath(path)):
            if p in self.files:
                return self.files[p]
        hit = self.dpkg.owner(path) if path.startswith(("/usr/", "/lib", "/opt/")) else None
        return Owner("dpkg", hit[0], hit[1]) if hit else None

    def _add(self, path: Path, owner: Owner) -> None:
        self.files.setdefault(str(path), owner)
        real = os.path.realpath(path)
        self.files.setdefault(real, owner)


def _read_bounded(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_RECORD:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_owners(prefix: Path, site_dirs: list[Path]) -> Owners:
    owners = Owners()
    meta = prefix / "conda-meta"
    for i, rec in enumerate(sorted(meta.glob("*.json")) if meta.is_dir() else []):
        if i >= MAX_RECORDS:
            owners.notes.append(f"{meta}: more than {MAX_RECORDS} records, the rest not read")
            break
        text = _read_bounded(rec)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or "name" not in data:
            if rec.name not in ("envkit.json", "envkit-smoke.json", "history"):
                owners.notes.append(f"{rec}: not a conda package record, skipped")
            continue
        owner = Owner("conda", str(data["name"]), str(data.get("version") or "") or None)
        for f in data.get("files") or []:
            if isinstance(f, str):
                owners._add(prefix / f, owner)
    for site in site_dirs:
        for dist in sorted(site.glob("*.dist-info")) if site.is_dir() else []:
            text = _read_bounded(dist / "RECORD")
            if text is None:
                continue
            name, _, version = dist.name[: -len(".dist-info")].partition("-")
            owner = Owner("pip", name.replace("_", "-").lower(), version or None)
            for row in csv.reader(io.StringIO(text)):
                if row and row[0] and not row[0].endswith(".pyc"):
                    owners._add((site / row[0]).resolve() if ".." in row[0] else site / row[0], owner)
    return owners
