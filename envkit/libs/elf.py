"""Reading one shared object with pyelftools: what the dynamic loader reads from it.

Bounded and safe: only regular files, at most ``MAX_BYTES``, parse errors become ``ElfError``
(a truncated or garbled file is named, never a traceback).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.errors import EnvkitError, ExitCode

MAX_BYTES = 4 << 30  # cuDNN's engines library is ~1 GiB; nothing real is near 4 GiB
ELF_MAGIC = b"\x7fELF"


class ElfError(EnvkitError):
    """A file that should be a shared object cannot be read as one."""

    exit_code = ExitCode.FINDINGS


@dataclass(frozen=True)
class ElfInfo:
    path: str
    elf_class: int  # 32 or 64
    machine: str  # e.g. EM_X86_64
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]  # DT_RPATH entries, unexpanded (ignored by the loader when DT_RUNPATH exists)
    runpath: tuple[str, ...]  # DT_RUNPATH entries, unexpanded
    verdefs: tuple[str, ...] = ()  # symbol versions it defines (.gnu.version_d)
    verneed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # NEEDED file -> versions required


def is_elf(path: str | Path) -> bool:
    """True for a regular file starting with the ELF magic (symlinks followed)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return False
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def _split(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(":"))


def read_elf(path: str | Path) -> ElfInfo:
    """The dynamic-section facts of ``path``; ElfError naming the file when it is not a readable ELF object."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    p = str(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise ElfError(f"{p}: cannot read ({exc.strerror})", "check the file's permissions") from None
    if not stat.S_ISREG(st.st_mode):
        raise ElfError(f"{p}: not a regular file", "a shared object must be a regular file (or a symlink to one)")
    if st.st_size > MAX_BYTES:
        raise ElfError(f"{p}: {st.st_size} bytes, larger than envkit reads ({MAX_BYTES})")
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
            if len(head) < 64:
                raise ElfError(f"{p}: file too short ({len(head)} bytes) for an ELF header",
                               "a damaged or placeholder file carries a library's name")
            if head[:4] != ELF_MAGIC:
                raise ElfError(f"{p}: not an ELF file (no ELF magic)", "a non-library file carries a library's name")
            fh.seek(0)
            elf = ELFFile(fh)
            soname: str | None = None
            needed: list[str] = []
            rpath: list[str] = []
            runpath: list[str] = []
            verdefs: list[str] = []
            verneed: dict[str, tuple[str, ...]] = {}
            for sec in elf.iter_sections():
                if isinstance(sec, DynamicSection):
                    for tag in sec.iter_tags():
                        t: Any = tag
                        kind = tag.entry.d_tag
                        if kind == "DT_SONAME":
                            soname = str(t.soname)
                        elif kind == "DT_NEEDED":
                            needed.append(str(t.needed))
                        elif kind == "DT_RPATH":
                            rpath.extend(_split(str(t.rpath)))
                        elif kind == "DT_RUNPATH":
                            runpath.extend(_split(str(t.runpath)))
                elif isinstance(sec, GNUVerDefSection):
                    for verdef, auxiter in sec.iter_versions():
                        names = [str(aux.name) for aux in auxiter]
                        if names and not verdef.entry.vd_flags & 1:  # VER_FLG_BASE names the file itself
                            verdefs.append(names[0])
                elif isinstance(sec, GNUVerNeedSection):
                    for verneed_entry, auxiter in sec.iter_versions():
                        verneed[str(verneed_entry.name)] = tuple(str(aux.name) for aux in auxiter)
            return ElfInfo(p, elf.elfclass, str(elf["e_machine"]), soname, tuple(needed), tuple(rpath),
                           tuple(runpath), tuple(verdefs), verneed)
    except ElfError:
        raise
    except (ELFError, OSError, ValueError, KeyError, IndexError, AssertionError, UnicodeDecodeError) as exc:
        raise ElfError(f"{p}: truncated or damaged ELF file ({type(exc).__name__}: {str(exc)[:120]})",
                       "reinstall the package that owns it") from None
    except Exception as exc:  # pyelftools raises assorted errors on garbage (struct.error, construct errors)
        raise ElfError(f"{p}: truncated or damaged ELF file ({type(exc).__name__}: {str(exc)[:120]})",
                       "reinstall the package that owns it") from None


_SO_VERSION = re.compile(r"\.so\.(\d+(?:\.\d+)*)$")


def version_from_name(name: str) -> str | None:
    """'libcudnn.so.9.14.0' -> '9.14.0'; 'libcudart.so.13' -> '13'; 'libfoo.so' -> None."""
    m = _SO_VERSION.search(name)
    return m.group(1) if m else None


def stem_of(name: str) -> str:
    """'libcudnn_ops.so.9.1.0' -> 'libcudnn_ops'."""
    return name.split(".so", 1)[0]


@dataclass(frozen=True)
class DynSymbols:
    defined: frozenset[str]
    undefined: frozenset[str]  # strong (not weak) undefined symbols: the loader must find each (RTLD_NOW)


def dynamic_symbols(path: str | Path) -> DynSymbols:
    """The names ``path`` exports and the strong ones it imports (.dynsym), read in bulk (pyelftools locates the
    sections; the entries are unpacked with struct: libtorch has ~100k of them)."""
    import struct

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as fh:
            elf = ELFFile(fh)
            sym = elf.get_section_by_name(".dynsym")
            if sym is None:
                return DynSymbols(frozenset(), frozenset())
            strtab = elf.get_section(sym["sh_link"]).data()
            data = sym.data()
            endian = "<" if elf.little_endian else ">"
            if elf.elfclass == 64:
                fmt, name_i, info_i, shndx_i = endian + "IBBHQQ", 0, 1, 3
            else:
                fmt, name_i, info_i, shndx_i = endian + "IIIBBH", 0, 3, 5
            defined: set[str] = set()
            undefined: set[str] = set()
            size = struct.calcsize(fmt)
            for entry in struct.iter_unpack(fmt, data[: len(data) - len(data) % size]):
                off = entry[name_i]
                if not off:
                    continue
                end = strtab.find(b"\0", off)
                name = strtab[off:end].decode("utf-8", "replace")
                bind = entry[info_i] >> 4
                if entry[shndx_i] == 0:
                    if bind != 2:  # STB_WEAK
                        undefined.add(name)
                else:
                    defined.add(name)
            return DynSymbols(frozenset(defined), frozenset(undefined))
    except (ELFError, OSError, ValueError, struct.error) as exc:
        raise ElfError(f"{path}: cannot read its symbols ({type(exc).__name__})") from None


def read_elf_cached(cache: dict[str, ElfInfo | ElfError], path: str) -> ElfInfo:
    """``read_elf`` once per path of ``cache`` (a failure is remembered and raised again)."""
    hit = cache.get(path)
    if hit is None:
        try:
            hit = read_elf(path)
        except ElfError as exc:
            hit = exc
        cache[path] = hit
    if isinstance(hit, ElfError):
        raise hit
    return hit
