"""What is installed in a prefix: conda packages (``conda-meta/*.json``) and Python distributions installed by
pip or uv (``*.dist-info`` whose ``INSTALLER`` is not conda), and the export formats built from them.

Every file read is bounded (size) and must be a regular file; a record that cannot be read is named in
``Inventory.problems`` rather than failing the whole listing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.config import redact

MAX_RECORD_BYTES = 16 << 20
MAX_METADATA_BYTES = 1 << 20
FORMATS = ("environment-yml", "explicit", "lock", "requirements")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    build: str = ""
    channel: str = ""  # conda: the channel (tokens redacted); pip: ""
    installer: str = "conda"  # "conda", "pip", "uv", ...
    url: str = ""
    sha256: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "build": self.build, "channel": self.channel,
                "installer": self.installer, "url": redact(self.url) if self.url else "", "sha256": self.sha256}


@dataclass
class Inventory:
    prefix: Path
    packages: list[Package] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def conda(self) -> list[Package]:
        return [p for p in self.packages if p.installer == "conda"]

    @property
    def pip(self) -> list[Package]:
        return [p for p in self.packages if p.installer != "conda"]


def _read_bounded(path: Path, limit: int) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def channel_name(channel: str, url: str) -> str:
    """``https://conda.anaconda.org/conda-forge/`` -> ``conda-forge``; file/other URLs stay URLs (redacted)."""
    text = (channel or url).rstrip("/")
    m = re.match(r"^https?://conda\.anaconda\.org/([^/]+)", text)
    if m:
        return m.group(1)
    if not channel and url:  # .../channel/subdir/file.conda -> .../channel
        text = text.rsplit("/", 2)[0]
    return redact(text)


def _conda_packages(prefix: Path, inv: Inventory) -> set[str]:
    """Read conda-meta/*.json; returns the dist-info directories those packages own (relative paths)."""
    owned: set[str] = set()
    meta = prefix / "conda-meta"
    for f in sorted(meta.glob("*.json")):
        if f.name == "envkit.json":
            continue
        text = _read_bounded(f, MAX_RECORD_BYTES)
        try:
            rec = json.loads(text) if text is not None else None
        except ValueError:
            rec = None
        if not isinstance(rec, dict) or not isinstance(rec.get("name"), str):
            inv.problems.append(f"{f}: not a conda package record")
            continue
        url = str(rec.get("url") or "")
        inv.packages.append(Package(
            rec["name"], str(rec.get("version") or ""), str(rec.get("build") or ""),
            channel_name(str(rec.get("channel") or ""), url), "conda", url, str(rec.get("sha256") or ""),
        ))
        for path in rec.get("files") or []:
            if isinstance(path, str) and ".dist-info/" in path:
                owned.add(path.split(".dist-info/")[0] + ".dist-info")
    return owned


def _site_packages(prefix: Path) -> list[Path]:
    return sorted([*prefix.glob("lib/python3*/site-packages"), *prefix.glob("Lib/site-packages")])


def _pip_packages(prefix: Path, owned: set[str], inv: Inventory) -> None:
    for site in _site_packages(prefix):
        for d in sorted(site.glob("*.dist-info")):
            rel = str(d.relative_to(prefix))
            if rel in owned or not d.is_dir():
                continue
            installer = (_read_bounded(d / "INSTALLER", 4096) or "").strip() or "unknown"
            if installer == "conda":
                continue
            meta = _read_bounded(d / "METADATA", MAX_METADATA_BYTES) or ""
            fields = dict(re.findall(r"^(Name|Version):\s*(.+?)\s*$", meta, flags=re.M))
            if "Name" not in fields:
                inv.problems.append(f"{d}: no Name in METADATA")
                continue
            inv.packages.append(Package(fields["Name"], fields.get("Version", ""), installer=installer))


def read_inventory(prefix: Path) -> Inventory:
    """Every package installed in ``prefix``, conda first, each group sorted by name."""
    inv = Inventory(Path(prefix))
    owned = _conda_packages(inv.prefix, inv)
    _pip_packages(inv.prefix, owned, inv)
    inv.packages.sort(key=lambda p: (p.installer != "conda", p.name.lower()))
    return inv


# -- export ------------------------------------------------------------------------------------------
def export_environment_yml(inv: Inventory, name: str) -> str:
    """An environment.yml pinning every package exactly (``name ==version build``; pip: ``name==version``)."""
    import yaml

    channels: list[str] = []
    for p in inv.conda:
        if p.channel and p.channel not in channels:
            channels.append(p.channel)
    # "name ==version build": conda and rattler (strict) both read it; rattler rejects conda's name=version=build
    deps: list[Any] = [f"{p.name} =={p.version} {p.build}" for p in inv.conda]
    if inv.pip:
        if not any(p.name == "pip" for p in inv.conda):
            deps.append("pip")
        deps.append({"pip": [f"{p.name}=={p.version}" for p in inv.pip]})
    doc = {"name": name, "channels": channels, "dependencies": deps}
    return f"# exported by envkit from {inv.prefix}\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def export_explicit(inv: Inventory) -> str:
    """conda's ``@EXPLICIT`` list (``url#sha256``), installable with ``conda create --file``."""
    lines = [f"# exported by envkit from {inv.prefix}", "@EXPLICIT"]
    for p in inv.conda:
        if p.url:
            lines.append(redact(p.url) + (f"#{p.sha256}" if p.sha256 else ""))
    if inv.pip:
        lines.append(f"# not installable from this list ({len(inv.pip)} pip packages): "
                     + ", ".join(f"{p.name}=={p.version}" for p in inv.pip))
    return "\n".join(lines) + "\n"


def export_requirements(inv: Inventory) -> str:
    """``pip install -r`` lines for the packages pip or uv installed."""
    lines = [f"# exported by envkit from {inv.prefix}: the {len(inv.pip)} packages installed by pip or uv"]
    lines += [f"{p.name}=={p.version}" for p in inv.pip]
    return "\n".join(lines) + "\n"
