"""The short nvidia-smi formats: ``--version``, ``-L`` and ``--query-gpu ... --format=csv``.

Also the value helpers every format parser shares. Used by ``envkit.host.parse``.
"""

from __future__ import annotations

import csv
import re

from envkit.errors import InputError
from envkit.host import model
from envkit.host.model import Gpu, HostInfo, normalize_cc
from envkit.limits import MAX_GPUS

_NA = {"", "n/a", "[n/a]", "not supported", "[not supported]", "unknown error", "[unknown error]",
       "not available", "[not found]", "not found", "insufficient permissions", "[insufficient permissions]"}


def _value(text: str | None) -> str | None:
    """A reported value, or None for N/A-like values. Drops a '[Deprecated; ...]' suffix."""
    if text is None:
        return None
    v = text.strip()
    v = re.sub(r"\s*\[Deprecated[^\]]*\]\s*$", "", v)
    if v.lower() in _NA or v.lower().startswith("deprecated"):
        return None
    return v


def _mib(text: str | None) -> int | None:
    v = _value(text)
    if v is None:
        return None
    m = re.match(r"^([0-9]{1,12})\s*(MiB|MB)?$", v)
    if m:
        return int(m.group(1))
    m = re.match(r"^([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*GiB$", v)
    return int(float(m.group(1)) * 1024) if m else None


def _count(text: str | None) -> int | None:
    """An index or count field: ASCII digits only (``str.isdigit`` accepts superscripts that ``int`` rejects)."""
    v = _value(text)
    if v is None or not re.fullmatch(r"[0-9]{1,9}", v):
        return None
    return int(v)


def _mig(text: str | None) -> str | None:
    if text is None:
        return None
    v = text.strip().strip("[]")
    return v or None


def _new(file: str, fmt: str) -> HostInfo:
    return HostInfo(status=model.CAPTURE, source=file, format=fmt, driver_version=None, cuda_version=None)


_DRIVER = re.compile(r"[0-9]{1,5}(\.[0-9]{1,5}){0,3}")
_CUDA = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,5})?")


def check_versions(info: HostInfo, file: str) -> None:
    """A driver or CUDA version that is not a version is bad input (exit 2), never a verified host.
    A capture without a driver version (``-L``) stays readable but only partial: resolve marks it unverified."""
    if info.driver_version is not None and not _DRIVER.fullmatch(info.driver_version):
        raise InputError(f"driver version {info.driver_version[:40]!r} is not a version (like 570.124.06)",
                         "save the unedited output of nvidia-smi", file=file, key="driver_version")
    if info.cuda_version is not None and not _CUDA.fullmatch(info.cuda_version):
        raise InputError(f"CUDA version {info.cuda_version[:40]!r} is not a version (like 12.8)",
                         "save the unedited output of nvidia-smi", file=file, key="cuda_version")
    if info.driver_version is None and info.status in model.GOOD_STATUSES:
        info.partial = True


# ---- nvidia-smi --version ----------------------------------------------------------------
def _parse_version(text: str, file: str) -> HostInfo:
    info = _new(file, "version")
    info.partial = True
    fields: dict[str, str] = {}
    for ln in text.splitlines():
        key, sep, value = ln.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    info.driver_version = _value(fields.get("kmd version")) or _value(fields.get("driver version"))
    info.cuda_version = _value(fields.get("cuda umd version")) or _value(fields.get("cuda version"))
    info.messages.append("`nvidia-smi --version` holds only the driver and CUDA versions: no GPU facts")
    return info


# ---- nvidia-smi -L -----------------------------------------------------------------------
_L_GPU = re.compile(r"^GPU ([0-9]{1,9}): (.+?)(?: \(UUID: ([^)]*)\))?\s*$")
_L_MIG = re.compile(r"^\s+MIG .*Device\s+\d+:.*$")


def _parse_l(text: str, file: str) -> HostInfo:
    info = _new(file, "L")
    info.partial = True
    mig_parents: set[int] = set()
    for ln in text.splitlines():
        m = _L_GPU.match(ln)
        if m:
            info.gpus.append(Gpu(index=int(m.group(1)), name=m.group(2).strip(), uuid=_value(m.group(3))))
        elif _L_MIG.match(ln) and info.gpus:
            mig_parents.add(info.gpus[-1].index)
    for g in info.gpus:
        if g.index in mig_parents:
            g.mig_mode = "Enabled"
    info.messages.append("`nvidia-smi -L` holds only GPU names and UUIDs: no driver or CUDA version")
    return info


# ---- --query-gpu CSV ---------------------------------------------------------------------
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(\s*\[[^\]]*\])?$")
_ALIASES = {
    "index": "index",
    "name": "name", "gpu_name": "name",
    "uuid": "uuid", "gpu_uuid": "uuid",
    "pci.bus_id": "pci", "gpu_bus_id": "pci",
    "driver_version": "driver", "kmd_version": "kmd",
    "compute_cap": "cc",
    "memory.total": "memory",
    "mig.mode.current": "mig",
    "count": "count",
}


def _split_csv(line: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line], skipinitialspace=True), [])]


def _csv_header(line: str) -> list[str] | None:
    """Canonical field names of a --format=csv header line, or None if it is not one."""
    cells = _split_csv(line)
    if not cells or not all(_FIELD.match(c) for c in cells):
        return None
    names = [re.sub(r"\s*\[[^\]]*\]$", "", c).strip().lower() for c in cells]
    if not any(n in _ALIASES for n in names):
        return None
    return names


def _looks_like_headerless_csv(lines: list[str]) -> bool:
    widths = {len(_split_csv(ln)) for ln in lines}
    return len(widths) == 1 and widths.pop() >= 2


def _parse_csv(text: str, file: str) -> HostInfo:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    header = _csv_header(lines[0])
    assert header is not None
    info = _new(file, "csv")
    info.partial = True
    col: dict[str, int] = {}
    for i, n in enumerate(header):
        if n in _ALIASES:
            col.setdefault(_ALIASES[n], i)
    drivers: set[str] = set()
    for lineno, ln in enumerate(lines[1:], start=2):
        if lineno > MAX_GPUS + 1:
            raise InputError(f"more than {MAX_GPUS} GPU rows (the limit for one capture)", file=file, line=lineno)
        cells = _split_csv(ln)
        if "is not a valid field" in ln:
            raise InputError(f"nvidia-smi rejected a field: {ln.strip()}", file=file, line=lineno)
        if len(cells) != len(header):
            raise InputError(f"{len(cells)} values for {len(header)} header fields (truncated or mixed output?)",
                             file=file, line=lineno)

        def get(key: str, cells: list[str] = cells) -> str | None:
            return _value(cells[col[key]]) if key in col else None

        index_text = get("index")
        cc = normalize_cc(get("cc"))
        info.gpus.append(
            Gpu(
                index=idx if (idx := _count(index_text)) is not None else len(info.gpus),
                name=get("name") or "",
                compute_capability=cc,
                compute_capability_source="nvidia-smi" if cc else None,
                memory_total_mib=_mib(get("memory")),
                uuid=get("uuid"),
                mig_mode=_mig(cells[col["mig"]]) if "mig" in col else None,
                pci_bus_id=get("pci"),
            )
        )
        driver = get("kmd") or get("driver")
        if driver:
            drivers.add(driver)
        count = get("count")
        if _count(count) is not None:
            info.attached_gpus = _count(count)
    if len(drivers) > 1:
        info.messages.append(f"different driver versions in one capture: {', '.join(sorted(drivers))}")
    info.driver_version = sorted(drivers)[0] if drivers else None
    info.messages.append("a --query-gpu CSV carries no CUDA version field: cuda_version unknown")
    if not info.gpus:
        info.messages.append("the CSV has a header but no GPU rows")
    return info


def parse_compute_caps(text: str) -> dict[int, str]:
    """{index: 'X.Y'} from `nvidia-smi --query-gpu=index,compute_cap --format=csv` output ({} if unusable)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or "is not a valid field" in text:
        return {}
    header = _csv_header(lines[0])
    if header is None or "index" not in header or "compute_cap" not in header:
        return {}
    ii, ci = header.index("index"), header.index("compute_cap")
    out: dict[int, str] = {}
    for ln in lines[1:]:
        cells = _split_csv(ln)
        index = _count(cells[ii]) if len(cells) == len(header) else None
        if index is None:
            continue
        cc = normalize_cc(_value(cells[ci]))
        if cc:
            out[index] = cc
    return out

