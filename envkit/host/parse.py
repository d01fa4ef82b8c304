"""Read a saved nvidia-smi capture (or an ``envkit doctor --json`` record) into HostInfo.

The format is detected from the content, never from the file name:

=============  ==========================================================
``table``      plain ``nvidia-smi``
``q``          ``nvidia-smi -q`` / ``-a``
``xml``        ``nvidia-smi -q -x``
``csv``        ``nvidia-smi --query-gpu=... --format=csv`` (with header)
``L``          ``nvidia-smi -L`` (names and UUIDs only: partial)
``version``    ``nvidia-smi --version`` (driver and CUDA only: partial)
``envkit-json`` ``envkit doctor --json``
=============  ==========================================================

nvidia-smi's own error text saved in a file (no driver, NVML version mismatch) gives a
HostInfo with that status, not an exception. Anything else raises InputError naming the
file and listing the accepted formats.
"""

from __future__ import annotations

import re
from pathlib import Path

from envkit.errors import InputError
from envkit.fsutil import read_input
from envkit.host import model
from envkit.host.formats import (
    _L_GPU,
    _L_MIG,
    _count,
    _csv_header,
    _looks_like_headerless_csv,
    _mib,
    _mig,
    _new,
    _parse_csv,
    _parse_l,
    _parse_version,
    _value,
    check_versions,
    parse_compute_caps,
)
from envkit.host.model import CcLookup, Gpu, HostInfo, normalize_cc
from envkit.host.smi_errors import error_explanation, status_from_error_text
from envkit.limits import MAX_CAPTURE_BYTES, MAX_GPUS, load_json

__all__ = ["ACCEPTED", "detect_format", "parse_capture", "parse_compute_caps", "read_capture",
           "status_from_error_text"]

ACCEPTED = (
    "accepted formats: the plain `nvidia-smi` table, `nvidia-smi -q`, `nvidia-smi -q -x` (XML), "
    "`nvidia-smi --query-gpu=... --format=csv` (with its header line), `nvidia-smi -L`, "
    "`nvidia-smi --version`, or an `envkit doctor --json` record"
)

# ---- entry points ------------------------------------------------------------------------
def read_capture(path: str | Path, cc_lookup: CcLookup | None = None) -> HostInfo:
    """Read and parse a capture file (UTF-8, UTF-8 with BOM, or UTF-16 as PowerShell writes it)."""
    p = Path(path)
    raw = read_input(p, "an nvidia-smi capture or doctor --json file", limit=MAX_CAPTURE_BYTES)
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"not text ({exc.reason}); {ACCEPTED}", file=str(p)) from None
    return parse_capture(text, str(p), cc_lookup=cc_lookup)


def detect_format(text: str) -> str | None:
    """The format name of ``text`` (see the module doc), 'error' for nvidia-smi's error text, or None."""
    s = text.lstrip("\ufeff").strip()
    if not s:
        return None
    if s.startswith("{"):
        return "envkit-json"
    if s.startswith("<?xml") or s.startswith("<!DOCTYPE nvidia_smi_log") or s.startswith("<nvidia_smi_log"):
        return "xml"
    if "NVSMI LOG" in s or re.search(r"^(Driver|KMD) Version\s+:", s, re.M):
        return "q"
    if re.search(r"NVIDIA-SMI\s+\S+\s+(Driver|KMD) Version:", s):
        return "table"
    if re.search(r"^NVIDIA-SMI version\s*:", s, re.M | re.I):
        return "version"
    lines = [ln for ln in s.splitlines() if ln.strip()]
    if lines and all(_L_GPU.match(ln) or _L_MIG.match(ln) for ln in lines) and _L_GPU.match(lines[0]):
        return "L"
    if status_from_error_text(s) and len(lines) <= 20:
        return "error"
    if "is not a valid field to query" in s and len(lines) <= 5:
        return "invalid-field"
    if _csv_header(lines[0]) is not None:
        return "csv"
    if _looks_like_headerless_csv(lines):
        return "csv-noheader"
    return None


def parse_capture(text: str, file: str, cc_lookup: CcLookup | None = None) -> HostInfo:
    """Parse ``text`` (read from ``file``, used in messages) into HostInfo."""
    fmt = detect_format(text)
    s = text.lstrip("\ufeff")
    if fmt is None:
        if not s.strip():
            raise InputError("the file is empty", "save the output of `nvidia-smi -q -x` (or plain `nvidia-smi`) in it",
                             file=file)
        _not_a_capture(s, file)
        raise InputError(f"not a recognised nvidia-smi capture; {ACCEPTED}", file=file)
    if fmt == "csv-noheader":
        _not_a_capture(s, file)
        raise InputError(
            "CSV without a header line (--format=csv,noheader): the fields cannot be known",
            "capture again with --format=csv (keep the header), e.g. `nvidia-smi "
            "--query-gpu=index,name,driver_version,compute_cap,memory.total,uuid --format=csv`",
            file=file,
        )
    if fmt == "invalid-field":
        line = next(ln.strip() for ln in s.splitlines() if "is not a valid field" in ln)
        raise InputError(
            f"the capture holds nvidia-smi's rejection of a --query-gpu field, not GPU facts: {line}",
            "drop that field (470-series drivers have no compute_cap) and capture again with --format=csv",
            file=file,
        )
    if fmt == "error":
        found = status_from_error_text(s)
        assert found is not None
        status, line = found
        return HostInfo(status=status, source=file, format="error", driver_version=None, cuda_version=None,
                        messages=[f"the capture holds nvidia-smi's error message: {line}", *error_explanation(s)])
    if fmt == "envkit-json":
        data = load_json(s, "the record", file=file)
        info = HostInfo.from_json(data, file)
    else:
        parser = {"xml": _parse_xml, "q": _parse_q, "table": _parse_table, "version": _parse_version,
                  "L": _parse_l, "csv": _parse_csv}[fmt]
        info = parser(s, file)
        info.status = model.CAPTURE
        info.source = file
        info.format = fmt
        _mark_kind(info, s)
        if info.attached_gpus is not None and info.attached_gpus > len(info.gpus):
            info.messages.append(
                f"the capture states {info.attached_gpus} attached GPUs but holds records for {len(info.gpus)} "
                "(trimmed capture?)"
            )
    if len(info.gpus) > MAX_GPUS:
        raise InputError(f"more than {MAX_GPUS} GPU records (the limit for one capture)", file=file)
    check_versions(info, file)
    info.fill_compute_capability(cc_lookup)
    return info


def _not_a_capture(text: str, file: str) -> None:
    """Raise when ``text`` is an error log or a traceback rather than anything nvidia-smi prints."""
    if not _looks_like_log(text):
        return
    raise InputError(
        "not an nvidia-smi capture: it reads like an error log or a traceback",
        f"to diagnose it: `envkit explain {file}`; to describe a machine, save `nvidia-smi -q -x` (or plain "
        "`nvidia-smi`) in a file",
        file=file,
    )


def _looks_like_log(text: str) -> bool:
    if re.search(r"^Traceback \(most recent call last\):|^\s*File \".+\", line \d+|\b[A-Z]\w*(Error|Exception|Warning):"
                 r"|^\S+\.(py|cpp|cc|h):\d+:|^\[[0-9/: .-]+\] \[TRT\]|^(E|ERROR|FATAL)[: ]", text, re.M):
        return True
    from envkit.explain import looks_like_error_log

    return looks_like_error_log(text)


def _mark_kind(info: HostInfo, text: str) -> None:
    """Jetson / WSL2 / Windows from the capture's own text (envkit.host.kinds)."""
    from envkit.host.kinds import from_capture_text

    kind = from_capture_text(text)
    if kind.kind is not None:
        info.machine_type = kind.kind
        info.messages.append(f"{kind.kind} machine: {kind.evidence}")


# ---- XML (nvidia-smi -q -x) --------------------------------------------------------------
def _parse_xml(text: str, file: str) -> HostInfo:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(f"truncated or invalid nvidia-smi XML ({exc})", "save the whole output of `nvidia-smi -q -x`",
                         file=file, line=line) from None
    if root.tag != "nvidia_smi_log":
        raise InputError(f"XML root is <{root.tag}>, expected <nvidia_smi_log> (nvidia-smi -q -x); {ACCEPTED}",
                         file=file)
    info = _new(file, "xml")
    info.driver_version = _value(root.findtext("kmd_version")) or _value(root.findtext("driver_version"))
    info.cuda_version = _value(root.findtext("cuda_umd_version")) or _value(root.findtext("cuda_version"))
    attached = _value(root.findtext("attached_gpus"))
    info.attached_gpus = _count(attached)
    for i, g in enumerate(root.findall("gpu")):
        name = _value(g.findtext("product_name")) or ""
        cc = normalize_cc(_value(g.findtext("compute_cap")))
        info.gpus.append(
            Gpu(
                index=i,
                name=name,
                compute_capability=cc,
                compute_capability_source="nvidia-smi" if cc else None,
                memory_total_mib=_mib(g.findtext("fb_memory_usage/total")),
                uuid=_value(g.findtext("uuid")),
                mig_mode=_mig(g.findtext("mig_mode/current_mig")),
                architecture=_value(g.findtext("product_architecture")),
                pci_bus_id=_value(g.findtext("pci/pci_bus_id")) or g.get("id"),
            )
        )
    if info.driver_version is None:
        raise InputError("nvidia-smi XML without <driver_version> (truncated?)", file=file)
    return info


# ---- nvidia-smi -q text ------------------------------------------------------------------
_Q_LINE = re.compile(r"^(\s*)(\S.*?)\s+: ?(.*)$")
_Q_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\s*$")


def _parse_q(text: str, file: str) -> HostInfo:
    info = _new(file, "q")
    top: dict[str, str] = {}
    sections: list[tuple[str, dict[tuple[str, ...], str]]] = []
    current: dict[tuple[str, ...], str] | None = None
    stack: list[tuple[int, str]] = []
    prefix: tuple[str, ...] = ()  # the section names of ``stack`` (a fleet reads thousands of these files)
    for raw in text.splitlines():
        line = raw.rstrip()
        body = line.lstrip()
        if not body or body.startswith("====="):
            continue
        indent = len(line) - len(body)
        m_gpu = _Q_GPU.match(line) if indent == 0 and line.startswith("GPU ") else None
        if m_gpu:
            current = {}
            sections.append((m_gpu.group(1), current))
            stack, prefix = [], ()
            continue
        m = _Q_LINE.match(line)
        if indent == 0 and m:
            top.setdefault(m.group(2), m.group(3))
            continue
        if current is None:
            continue
        if stack and stack[-1][0] >= indent:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            prefix = tuple(k for _, k in stack)
        if m:
            current.setdefault((*prefix, m.group(2)), m.group(3))
        else:
            stack.append((indent, body))
            prefix = (*prefix, body)
    info.driver_version = _value(top.get("KMD Version")) or _value(top.get("Driver Version"))
    info.cuda_version = _value(top.get("CUDA UMD Version")) or _value(top.get("CUDA Version"))
    attached = _value(top.get("Attached GPUs"))
    info.attached_gpus = _count(attached)
    for i, (bus_id, f) in enumerate(sections):
        cc = normalize_cc(_value(f.get(("Compute Capability",)) or f.get(("CUDA Compute Capability",))))
        info.gpus.append(
            Gpu(
                index=i,
                name=_value(f.get(("Product Name",))) or "",
                compute_capability=cc,
                compute_capability_source="nvidia-smi" if cc else None,
                memory_total_mib=_mib(f.get(("FB Memory Usage", "Total"))),
                uuid=_value(f.get(("GPU UUID",)) or f.get(("UUID",))),
                mig_mode=_mig(f.get(("MIG Mode", "Current"))),
                architecture=_value(f.get(("Product Architecture",))),
                pci_bus_id=_value(f.get(("PCI", "Bus Id"))) or bus_id,
            )
        )
    if info.driver_version is None:
        raise InputError("nvidia-smi -q output without a Driver Version line (truncated?)", file=file)
    return info


# ---- plain table -------------------------------------------------------------------------
_TABLE_HEAD = re.compile(
    r"NVIDIA-SMI\s+(\S+)\s+(?:Driver|KMD) Version:\s*(\S+)(?:\s+CUDA(?: UMD)? Version:\s*(\S+))?"
)
_TABLE_INDEX = re.compile(r"^\s*([0-9]{1,9})\s+(.*?)\s+(\S+)\s*$")
_TABLE_MEM = re.compile(r"([0-9]{1,12})MiB\s*/\s*([0-9]{1,12})MiB")


def _parse_table(text: str, file: str) -> HostInfo:
    info = _new(file, "table")
    lines = text.splitlines()
    head_at = next(i for i, ln in enumerate(lines) if _TABLE_HEAD.search(ln))
    m = _TABLE_HEAD.search(lines[head_at])
    assert m is not None
    smi_version, info.driver_version, cuda = m.group(1), _value(m.group(2)), m.group(3)
    info.cuda_version = _value(cuda)
    if smi_version != info.driver_version:
        info.messages.append(f"nvidia-smi {smi_version} reports driver {info.driver_version} (container or WSL?)")
    if cuda is None:
        info.messages.append("this driver's nvidia-smi prints no CUDA version (drivers before 410)")
    has_mig_col = any("MIG M." in ln for ln in lines[head_at:head_at + 8])
    start = next((i for i in range(head_at, len(lines)) if lines[i].lstrip().startswith("|=")), None)
    if start is None:
        raise InputError("nvidia-smi table without its GPU section (truncated?)", file=file)
    gpu: Gpu | None = None
    row = 0
    for ln in lines[start + 1:]:
        s = ln.strip()
        if not s or s[0] not in "|+":
            break
        if s.startswith("+") or s.startswith("|-"):
            gpu, row = None, 0
            continue
        cells = s.strip("|").split("|")
        if len(cells) < 3:
            break  # not the GPU grid any more
        if gpu is None:
            mi = _TABLE_INDEX.match(cells[0])
            if not mi:
                continue
            bus = cells[1].split()
            gpu = Gpu(index=int(mi.group(1)), name=mi.group(2).strip(),
                      pci_bus_id=_value(bus[0]) if bus else None)
            info.gpus.append(gpu)
            row = 1
            continue
        row += 1
        if row == 2:
            mm = _TABLE_MEM.search(cells[1])
            gpu.memory_total_mib = int(mm.group(2)) if mm else None
        elif row == 3 and has_mig_col:
            gpu.mig_mode = _mig(cells[2])
    if not info.gpus:
        info.messages.append("the table lists no GPU")
    return info


