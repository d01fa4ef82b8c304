"""glibc's dynamic loader, simulated: where a process finds each soname it loads.

For a name without '/' (a NEEDED entry, or ``dlopen("libcudart.so.12")``) the loader (glibc
elf/dl-load.c, ``_dl_map_object``) first reuses an object already loaded under that name or SONAME
(this is how preloading by path works), then searches, for the object ``L`` that asks:
1. DT_RPATH of L, of the object that loaded L, and so on up, then of the executable — only when L
   has no DT_RUNPATH (an object's DT_RPATH is ignored when it has a DT_RUNPATH);
2. LD_LIBRARY_PATH;
3. DT_RUNPATH of L (for L's own requests only);
4. the ld.so cache (``ldconfig -p``);
5. the system search path (``ld.so --help``).
``$ORIGIN`` is the directory of L as it was opened (the executable's: its real path). A file that is
there but of another ELF class or machine is skipped; a file that is not ELF or is truncated ends the
load with an error. Dependencies are mapped breadth-first in NEEDED order; the first one not found
fails the whole load (nothing stays loaded). Symbol versions a NEEDED must define are checked after,
and (ctypes loads with RTLD_NOW) every strong undefined symbol of the loaded object must be defined by
an object of the process (over-approximated: every object loaded, whatever its RTLD_LOCAL scope).
Not modelled: glibc-hwcaps/ and legacy hwcap subdirectories, $LIB/$PLATFORM, DF_1_NODEFLIB, dlmopen.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field

from envkit.libs.elf import DynSymbols, ElfError, ElfInfo, dynamic_symbols, read_elf_cached
from envkit.libs.system import SystemFacts


@dataclass
class Obj:
    """One loaded object."""

    path: str  # the name it was opened under (a search hit or the path given)
    info: ElfInfo
    via: str  # "path", "RPATH of X", "LD_LIBRARY_PATH", "RUNPATH of X", "ld.so cache", "system search path"
    loader: Obj | None = None
    names: set[str] = field(default_factory=set)

    @property
    def real(self) -> str:
        return os.path.realpath(self.path)

    @property
    def soname(self) -> str | None:
        return self.info.soname

    def origin(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))


@dataclass
class LoadResult:
    target: str
    loaded: list[Obj]  # objects this load mapped, in load order
    reused: Obj | None = None  # the target was already loaded
    error: str | None = None
    missing: str | None = None  # the NEEDED (or target) that no directory provides


class LoadError(Exception):
    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


def expand(entry: str, origin: str) -> str | None:
    """$ORIGIN / ${ORIGIN} expanded; None for the tokens not modelled ($LIB, $PLATFORM)."""
    text = entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
    if "$" in text:
        return None
    return text or "."


class Loader:
    """One process's link map: ``main`` is the executable; ``load`` maps a name or path and its dependencies."""

    def __init__(self, facts: SystemFacts, ld_library_path: str | None, elf_cache: dict[str, ElfInfo | ElfError]
                 | None = None, sym_cache: dict[str, DynSymbols | None] | None = None) -> None:
        self.facts = facts
        self.env_path = [d or "." for d in ld_library_path.split(":")] if ld_library_path else []
        self.objs: list[Obj] = []
        self.main: Obj | None = None
        self._elf = elf_cache if elf_cache is not None else {}
        self._syms = sym_cache if sym_cache is not None else {}

    # -------------------------------------------------------------- files

    def elf(self, path: str) -> ElfInfo:
        return read_elf_cached(self._elf, os.path.realpath(path))

    def _try(self, directory: str, name: str) -> str | None:
        """The path if ``directory/name`` is a usable object; None to go on searching; LoadError to stop."""
        path = os.path.join(directory, name)
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                return None
            raise _StopList(exc.strerror or str(exc)) from None
        if not os.path.isfile(path):
            return None
        try:
            info = self.elf(path)
        except ElfError as exc:
            raise LoadError(f"{path}: {_loader_words(exc.message)}") from None
        main = self.main.info if self.main else None
        if main is not None and (info.elf_class != main.elf_class or info.machine != main.machine):
            return None  # another class or machine: skipped, the search goes on
        return path

    def _search(self, dirs: list[str], name: str) -> str | None:
        for d in dirs:
            hit = self._try(d, name)
            if hit:
                return hit
        return None

    # -------------------------------------------------------------- lookup

    def find_loaded(self, name: str) -> Obj | None:
        for o in self.objs:
            if name == o.soname or name in o.names or name == o.path:
                return o
        return None

    def _rpath_dirs(self, obj: Obj) -> list[str]:
        if obj.info.runpath:
            return []
        return [d for d in (expand(e, obj.origin()) for e in obj.info.rpath) if d]

    def resolve(self, name: str, loader: Obj | None) -> tuple[str, str]:
        """(path, how it was found) for ``name`` requested by ``loader``; LoadError when nothing provides it."""
        if "/" in name:
            if not os.path.exists(name):
                raise LoadError(f"{name}: cannot open shared object file: No such file or directory", name)
            self._try(os.path.dirname(name) or ".", os.path.basename(name))
            return name, "path"
        stop: str | None = None
        sources: list[tuple[str, list[str]]] = []
        if loader is None or not loader.info.runpath:
            seen_main = False
            chain = loader
            while chain is not None:
                sources.append((f"RPATH of {chain.path}", self._rpath_dirs(chain)))
                seen_main |= chain is self.main
                chain = chain.loader
            if not seen_main and self.main is not None:
                sources.append((f"RPATH of {self.main.path}", self._rpath_dirs(self.main)))
        sources.append(("LD_LIBRARY_PATH", self.env_path))
        if loader is not None and loader.info.runpath:
            sources.append((f"RUNPATH of {loader.path}",
                            [d for d in (expand(e, loader.origin()) for e in loader.info.runpath) if d]))
        for how, dirs in sources:
            try:
                hit = self._search(dirs, name)
            except _StopList as exc:
                stop = stop or exc.reason
                continue
            if hit:
                return hit, how
        cached = self.facts.cache.get(name)
        if cached and os.path.exists(cached):
            return cached, "ld.so cache"
        try:
            hit = self._search(self.facts.defaults, name)
        except _StopList as exc:
            stop, hit = stop or exc.reason, None
        if hit:
            return hit, "system search path"
        # an error other than "not there" (a symlink loop) ended its list of directories early; the
        # message is still glibc's "No such file or directory" (errno comes from the last attempt)
        del stop
        raise LoadError(f"{name}: cannot open shared object file: No such file or directory", name)

    # -------------------------------------------------------------- loading

    def add(self, path: str, via: str, loader: Obj | None, name: str | None = None) -> Obj:
        obj = Obj(path, self.elf(path), via, loader, {name} if name else set())
        self.objs.append(obj)
        return obj

    def load(self, target: str, caller: Obj | None) -> LoadResult:
        """``dlopen(target)`` called from ``caller``: the objects mapped, or the error glibc would give."""
        found = self.find_loaded(target)
        if found is not None:
            return LoadResult(target, [], reused=found)
        before = len(self.objs)
        try:
            path, via = self.resolve(target, caller)
            same = next((o for o in self.objs if o.real == os.path.realpath(path)), None)
            if same is not None:
                same.names.add(target)
                return LoadResult(target, [], reused=same)
            first = self.add(path, via, caller, None if "/" in target else target)
            self._map_deps(first, before)
            self._check_versions(self.objs[before:])
            self._check_symbols(first)
        except LoadError as exc:
            del self.objs[before:]
            return LoadResult(target, [], error=str(exc), missing=exc.missing)
        return LoadResult(target, self.objs[before:])

    def _map_deps(self, first: Obj, start: int) -> None:
        i = start
        while i < len(self.objs):
            obj = self.objs[i]
            for name in obj.info.needed:
                if self.find_loaded(name) is not None:
                    continue
                try:
                    path, via = self.resolve(name, obj)
                except LoadError as exc:
                    raise LoadError(f"{exc} (needed by {obj.path})", exc.missing) from None
                same = next((o for o in self.objs if o.real == os.path.realpath(path)), None)
                if same is not None:
                    same.names.add(name)
                    continue
                self.add(path, via, obj, name)
            i += 1

    def _check_versions(self, new: list[Obj]) -> None:
        for obj in new:
            for needed, versions in obj.info.verneed.items():
                dep = self.find_loaded(needed)
                if dep is None or not dep.info.verdefs:
                    continue
                for v in versions:
                    if v not in dep.info.verdefs:
                        raise LoadError(f"{dep.path}: version `{v}' not found (required by {obj.path})")


    def symbols(self, obj: Obj) -> DynSymbols | None:
        key = obj.real
        if key not in self._syms:
            try:
                self._syms[key] = dynamic_symbols(key)
            except ElfError:
                self._syms[key] = None
        return self._syms[key]

    def _check_symbols(self, target: Obj) -> None:
        mine = self.symbols(target)
        if mine is None or not mine.undefined:
            return
        missing = set(mine.undefined)
        for o in self.objs:
            if o is target:
                continue
            syms = self.symbols(o)
            if syms is not None:
                missing -= syms.defined
            if not missing:
                return
        raise LoadError(f"{target.path}: undefined symbol: {sorted(missing)[0]}")


class _StopList(Exception):
    """An error other than "not there" (e.g. a symlink loop): glibc stops this list of directories."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _loader_words(message: str) -> str:
    """What glibc says about a file it cannot use, from envkit's ElfError text (glibc 2.36: a file shorter than
    an ELF header is "file too short", one cut inside its headers "cannot read file data")."""
    if "no ELF magic" in message:
        return "invalid ELF header"
    if "file too short" in message:
        return "file too short"
    return "cannot read file data" if "truncated" in message else message.split(": ", 1)[-1]
