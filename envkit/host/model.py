"""What envkit knows about a machine: driver, CUDA, GPUs, OS and tools.

Plain dataclasses. ``HostInfo.to_json()`` is the documented ``doctor --json`` contract
(schema ``envkit.host/1``) and ``HostInfo.from_json()`` reads it back strictly, so a
record saved on one machine can be analysed on another (``--host FILE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envkit.errors import InputError
from envkit.output import SCHEMA as ENVELOPE
from envkit.versions import cc_key

SCHEMA = "envkit.host/1"

# status values
OK = "ok"
CAPTURE = "capture"
NO_DRIVER = "no-driver"
MISSING = "nvidia-smi-missing"
FAILED = "nvidia-smi-failed"
TIMEOUT = "nvidia-smi-timeout"
MISMATCH = "driver-mismatch"
STATUSES = (OK, CAPTURE, NO_DRIVER, MISSING, FAILED, TIMEOUT, MISMATCH)
GOOD_STATUSES = (OK, CAPTURE)

CcLookup = Callable[[str], "str | None"]


def normalize_cc(value: str | None) -> str | None:
    """A compute capability as 'X.Y', or None for N/A and garbage."""
    if value is None:
        return None
    text = value.strip()
    try:
        major, minor = cc_key(text)
    except ValueError:
        return None
    return f"{major}.{minor}"


@dataclass
class Gpu:
    index: int
    name: str
    compute_capability: str | None = None
    memory_total_mib: int | None = None
    uuid: str | None = None
    mig_mode: str | None = None
    architecture: str | None = None
    pci_bus_id: str | None = None
    compute_capability_source: str | None = None  # "nvidia-smi", "name" (inferred), None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "compute_capability": self.compute_capability,
            "memory_total_mib": self.memory_total_mib,
            "uuid": self.uuid,
            "mig_mode": self.mig_mode,
            "architecture": self.architecture,
            "pci_bus_id": self.pci_bus_id,
            "compute_capability_source": self.compute_capability_source,
        }


@dataclass
class HostInfo:
    status: str
    source: str
    format: str | None
    driver_version: str | None
    cuda_version: str | None
    gpus: list[Gpu] = field(default_factory=list)
    os: str | None = None
    glibc: str | None = None
    arch: str | None = None
    memory: dict[str, Any] | None = None
    disk: dict[str, Any] | None = None
    tools: dict[str, dict[str, Any]] | None = None
    conda_override_cuda: str | None = None
    messages: list[str] = field(default_factory=list)
    partial: bool = False
    attached_gpus: int | None = None  # what the capture states; may exceed len(gpus) in a trimmed capture
    nvidia_smi: str | None = None  # the nvidia-smi that was run (probe only)
    machine_type: str | None = None  # "jetson", "wsl2", "windows" (envkit.host.kinds) or None: plain Linux
    l4t: str | None = None  # a Jetson's L4T release ("36.4.3"), when known
    board: str | None = None  # a Jetson's device-tree model

    # ---- facts -------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status in GOOD_STATUSES

    @property
    def gpu_count(self) -> int:
        """GPUs on the machine: the stated count when a capture holds fewer GPU records."""
        if self.attached_gpus is not None and self.attached_gpus > len(self.gpus):
            return self.attached_gpus
        return len(self.gpus)

    def effective_cuda(self) -> str | None:
        """The CUDA version conda solves against: CONDA_OVERRIDE_CUDA wins when set."""
        if self.conda_override_cuda:
            return self.conda_override_cuda
        return self.cuda_version

    def compute_capabilities(self) -> list[str]:
        return [g.compute_capability for g in self.gpus if g.compute_capability]

    def min_compute_capability(self) -> str | None:
        ccs = self.compute_capabilities()
        return min(ccs, key=cc_key) if ccs else None

    def max_compute_capability(self) -> str | None:
        ccs = self.compute_capabilities()
        return max(ccs, key=cc_key) if ccs else None

    def fill_compute_capability(self, cc_lookup: CcLookup | None) -> None:
        """Fill a missing compute capability from the GPU name (the matrix's gpus table).

        Each inference is noted in ``messages`` (once per GPU name).
        """
        if cc_lookup is None:
            return
        by_name: dict[str, list[Gpu]] = {}
        for gpu in self.gpus:
            if not gpu.compute_capability and gpu.name:
                by_name.setdefault(gpu.name, []).append(gpu)
        for name, gpus in by_name.items():
            which = "GPU " + ", ".join(str(g.index) for g in gpus)
            try:
                found = normalize_cc(cc_lookup(name))
            except Exception as exc:  # the lookup belongs to another module; never let it crash doctor
                self.messages.append(f"{which} ({name}): compute capability lookup failed: {exc}")
                continue
            if found:
                for gpu in gpus:
                    gpu.compute_capability = found
                    gpu.compute_capability_source = "name"
                self.messages.append(
                    f"{which} ({name}): compute capability {found} inferred from the name "
                    "(nvidia-smi did not report it)"
                )
            else:
                self.messages.append(f"{which} ({name}): compute capability unknown (not reported, name not matched)")

    @property
    def windows_driver(self) -> bool:
        """A WDDM (Windows) driver, native or under WSL2: judged by the Windows column of CUDA's tables."""
        return self.machine_type in ("wsl2", "windows")

    def summary(self) -> str:
        """One line, e.g. '1x NVIDIA H200 (sm 9.0), driver 580.159.04, CUDA 13.0'."""
        parts: list[str] = []
        if self.machine_type == "jetson":
            parts.append("Jetson" + (f" {self.board}" if self.board else "") + (f" (L4T {self.l4t})" if self.l4t else ""))
        elif self.machine_type == "wsl2":
            parts.append("WSL2 (Windows driver)")
        elif self.machine_type == "windows":
            parts.append("Windows driver (WDDM)")
        if self.status not in GOOD_STATUSES:
            parts.append(f"status {self.status}")
        groups: dict[tuple[str, str | None], int] = {}
        for gpu in self.gpus:
            key = (gpu.name or "unknown GPU", gpu.compute_capability)
            groups[key] = groups.get(key, 0) + 1
        missing = self.gpu_count - len(self.gpus)
        gpu_texts = [f"{n}x {name}" + (f" (sm {cc})" if cc else "") for (name, cc), n in groups.items()]
        if missing > 0:
            gpu_texts.append(f"{missing}x not in the capture")
        if gpu_texts:
            parts.append(" + ".join(gpu_texts))
        elif self.status in GOOD_STATUSES and not self.partial:
            parts.append("no GPU")
        parts.append(f"driver {self.driver_version}" if self.driver_version else "driver unknown")
        parts.append(f"CUDA {self.cuda_version}" if self.cuda_version else "CUDA unknown")
        if self.conda_override_cuda:
            parts.append(f"CONDA_OVERRIDE_CUDA={self.conda_override_cuda}")
        return ", ".join(parts)

    # ---- JSON --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "status": self.status,
            "source": self.source,
            "format": self.format,
            "driver_version": self.driver_version,
            "cuda_version": self.cuda_version,
            "gpus": [g.to_json() for g in self.gpus],
            "gpu_count": self.gpu_count,
            "os": self.os,
            "glibc": self.glibc,
            "arch": self.arch,
            "memory": self.memory,
            "disk": self.disk,
            "tools": self.tools,
            "conda_override_cuda": self.conda_override_cuda,
            "effective_cuda": self.effective_cuda(),
            "nvidia_smi": self.nvidia_smi,
            "machine_type": self.machine_type,
            "l4t": self.l4t,
            "board": self.board,
            "partial": self.partial,
            "summary": self.summary(),
            "messages": list(self.messages),
        }

    @classmethod
    def from_json(cls, data: Any, file: str) -> HostInfo:
        """Read a ``doctor --json`` record strictly; InputError naming the file and key."""
        r = _Strict(file)
        data = _unwrap(data, r)
        schema = data.get("schema")
        if schema is not None and schema != SCHEMA:
            raise r.fail("schema", f"unsupported record schema {schema!r}; this envkit reads {SCHEMA!r}")
        if "error" in data and "gpus" not in data:
            raise r.fail("error", f"this is an envkit error record, not host facts: {data.get('message')!r}")
        for key in ("driver_version", "cuda_version", "gpus"):
            if key not in data:
                raise r.fail(key, "missing required key (is this an `envkit doctor --json` record?)")
        status = r.opt_str(data, "status") or OK
        if status not in STATUSES:
            raise r.fail("status", f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        gpus_raw = data["gpus"]
        if not isinstance(gpus_raw, list):
            raise r.fail("gpus", "expected a list of GPU objects")
        gpus: list[Gpu] = []
        for i, g in enumerate(gpus_raw):
            where = f"gpus[{i}]"
            if not isinstance(g, dict):
                raise r.fail(where, "expected an object with index, name, compute_capability, ...")
            for key in ("index", "name"):
                if key not in g:
                    raise r.fail(f"{where}.{key}", "missing required key")
            index = g["index"]
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise r.fail(f"{where}.index", f"expected a GPU index (integer >= 0), got {index!r}")
            cc = r.opt_str(g, "compute_capability", where)
            if cc is not None and normalize_cc(cc) is None:
                raise r.fail(f"{where}.compute_capability", f"expected a version like \"8.6\", got {cc!r}")
            mem = g.get("memory_total_mib")
            if mem is not None and (not isinstance(mem, int) or isinstance(mem, bool) or mem < 0):
                raise r.fail(f"{where}.memory_total_mib", f"expected an integer number of MiB, got {mem!r}")
            name = g["name"]
            if not isinstance(name, str):
                raise r.fail(f"{where}.name", f"expected a string, got {name!r}")
            gpus.append(
                Gpu(
                    index=index,
                    name=name,
                    compute_capability=normalize_cc(cc),
                    memory_total_mib=mem,
                    uuid=r.opt_str(g, "uuid", where),
                    mig_mode=r.opt_str(g, "mig_mode", where),
                    architecture=r.opt_str(g, "architecture", where),
                    pci_bus_id=r.opt_str(g, "pci_bus_id", where),
                    compute_capability_source=r.opt_str(g, "compute_capability_source", where),
                )
            )
        attached = data.get("gpu_count")
        if attached is not None and (not isinstance(attached, int) or isinstance(attached, bool)):
            raise r.fail("gpu_count", f"expected an integer, got {attached!r}")
        messages = data.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise r.fail("messages", "expected a list of strings")
        return cls(
            status=status,
            source=file,
            format="envkit-json",
            driver_version=r.opt_str(data, "driver_version"),
            cuda_version=r.opt_str(data, "cuda_version"),
            gpus=gpus,
            os=r.opt_str(data, "os"),
            glibc=r.opt_str(data, "glibc"),
            arch=r.opt_str(data, "arch"),
            memory=r.opt_dict(data, "memory"),
            disk=r.opt_dict(data, "disk"),
            tools=r.opt_dict(data, "tools"),
            conda_override_cuda=r.opt_str(data, "conda_override_cuda"),
            messages=list(messages),
            partial=bool(data.get("partial", False)),
            attached_gpus=attached if attached is not None and attached > len(gpus) else None,
            nvidia_smi=r.opt_str(data, "nvidia_smi"),
            machine_type=r.opt_str(data, "machine_type"),
            l4t=r.opt_str(data, "l4t"),
            board=r.opt_str(data, "board"),
        )


class _Strict:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> InputError:
        return InputError(message, file=self.file, key=key or None)

    def opt_str(self, d: dict[str, Any], key: str, where: str = "") -> str | None:
        value = d.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}" if where else key, f"expected a string or null, got {value!r}")
        return value

    def opt_dict(self, d: dict[str, Any], key: str) -> Any:
        value = d.get(key)
        if value is not None and not isinstance(value, dict):
            raise self.fail(key, f"expected an object or null, got {value!r}")
        return value


def _unwrap(data: Any, r: _Strict) -> dict[str, Any]:
    """The host record itself: a bare record, or the ``data`` of an ``envkit doctor --json`` envelope."""
    if not isinstance(data, dict):
        raise r.fail("", "expected a JSON object (an `envkit doctor --json` record)")
    if data.get("schema") != ENVELOPE:
        return data
    if data.get("verb") != "doctor" or not isinstance(data.get("data"), dict):
        raise r.fail("verb", f"this is the output of `envkit {data.get('verb')} --json` without host facts, "
                     "not of `envkit doctor --json`")
    record: dict[str, Any] = data["data"]
    return record
