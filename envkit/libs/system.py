"""The machine's side of library loading: the ld.so cache, the default directories, dpkg's file lists.

Each is read through ``envkit.proc`` (``ldconfig -p``, ``ld.so --help``) or from bounded files, and
each degrades to an empty answer with a note when the tool or file is missing (Alpine, containers).
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

# glibc's compiled-in system directories when `ld.so --help` cannot be asked (Debian/Ubuntu multiarch layout)
_FALLBACK_DEFAULTS = {
    "x86_64": ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"],
    "aarch64": ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"],
}
_LDSO = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "aarch64": "/lib/ld-linux-aarch64.so.1"}
# the ld.so.cache flag text of this machine's native 64-bit libraries (`ldconfig -p`)
_CACHE_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64"}
MAX_DPKG_LIST = 8 << 20


@dataclass
class SystemFacts:
    """What the loader knows beyond the objects themselves."""

    cache: dict[str, str] = field(default_factory=dict)  # soname -> path (first native entry, cache order)
    defaults: list[str] = field(default_factory=list)  # system search path, in order
    notes: list[str] = field(default_factory=list)


def parse_ldconfig(text: str, machine: str | None = None) -> dict[str, str]:
    """``ldconfig -p`` output -> {soname: path} for this machine's native 64-bit entries, first entry winning."""
    arch = _CACHE_ARCH.get(machine or platform.machine(), "")
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\)(?: OS ABI: [^=]*)? => (.+)$", line)
        if not m:
            continue
        name, flags, path = m.group(1), m.group(2), m.group(3).strip()
        if arch and arch not in flags:
            continue
        out.setdefault(name, path)
    return out


def parse_ldso_help(text: str) -> list[str]:
    """The "(system search path)" directories of ``ld.so --help`` (glibc >= 2.33), in order."""
    return [m.group(1) for m in re.finditer(r"^\s+(/\S*) \(system search path\)$", text, re.M)]


def read_system(timeout: float = 20.0) -> SystemFacts:
    from envkit import proc

    facts = SystemFacts()
    machine = platform.machine()
    for exe in ("ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        r = proc.run([exe, "-p"], timeout=timeout)
        if r.ok:
            facts.cache = parse_ldconfig(r.stdout, machine)
            break
    else:
        facts.notes.append("ldconfig -p could not be run: the ld.so cache is not consulted")
    ldso = _LDSO.get(machine)
    help_run = proc.run([ldso, "--help"], timeout=timeout) if ldso and os.path.exists(ldso) else None
    defaults = parse_ldso_help(help_run.stdout) if help_run is not None and help_run.ok else []
    if not defaults:
        defaults = list(_FALLBACK_DEFAULTS.get(machine, ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]))
        facts.notes.append(f"ld.so --help did not list the system search path: assumed {':'.join(defaults)}")
    facts.defaults = defaults
    return facts


class DpkgIndex:
    """path -> Debian package, from /var/lib/dpkg/info/*.list, read once and only when asked."""

    def __init__(self, root: str = "/var/lib/dpkg") -> None:
        self.root = Path(root)
        self._index: dict[str, str] | None = None
        self._versions: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._index is not None:
            return self._index
        index: dict[str, str] = {}
        links: dict[str, str] = {}
        info = self.root / "info"
        try:
            lists = sorted(info.glob("*.list"))
        except OSError:
            lists = []
        for lst in lists:
            try:
                if lst.stat().st_size > MAX_DPKG_LIST:
                    continue
                text = lst.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            pkg = lst.name[: -len(".list")].split(":")[0]
            for line in text.splitlines():
                if ".so" not in line:
                    continue
                if os.path.islink(line):  # a -dev package's libfoo.so link: the file belongs to the runtime package
                    index.setdefault(line, pkg)
                    links.setdefault(os.path.realpath(line), pkg)
                else:
                    index[line] = pkg
        for real, pkg in links.items():
            index.setdefault(real, pkg)
        self._index = index
        return index

    def _version(self, pkg: str) -> str | None:
        if self._versions is None:
            self._versions = {}
            try:
                with open(self.root / "status", encoding="utf-8", errors="replace") as fh:
                    text = fh.read(64 << 20)
            except OSError:
                text = ""
            for block in text.split("\n\n"):
                name = re.search(r"^Package: (\S+)", block, re.M)
                ver = re.search(r"^Version: (\S+)", block, re.M)
                if name and ver:
                    self._versions.setdefault(name.group(1), ver.group(1))
        return self._versions.get(pkg)

    def owner(self, path: str) -> tuple[str, str | None] | None:
        """(package, version) of the Debian package listing ``path`` (or its real path), else None."""
        index = self._load()
        real = os.path.realpath(path)
        for candidate in (path, real, _merged_usr(path), _merged_usr(real)):
            if candidate and candidate in index:
                pkg = index[candidate]
                return pkg, self._version(pkg)
        return None


def _merged_usr(path: str) -> str | None:
    """/usr/lib/x/y <-> /lib/x/y: merged-/usr systems list files under either spelling."""
    if path.startswith("/usr/"):
        return path[4:]
    if path.startswith(("/lib/", "/lib64/", "/bin/", "/sbin/")):
        return "/usr" + path
    return None
