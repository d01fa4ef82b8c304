"""The embedded conda engine: solve and install with py-rattler.

This is the ONE module of envkit that imports ``rattler``; it does so inside functions, so importing
this module is cheap and an up-to-date ``envkit create`` never loads rattler.

Public API (others rely on these names):

* ``Target(platform, virtual_packages)``: what to solve for. ``virtual_packages`` are strings
  ``"__cuda=12.4=0"``, ``"__glibc=2.28=0"``, ``"__linux=5.15=0"``, ``"__unix=0=0"``, ``"__archspec=1=x86_64"``.
* ``target_for_host(host, platform=None)``: a Target from an ``envkit.host.model.HostInfo``
  (``None``: this machine, via ``VirtualPackage.detect(VirtualPackageOverrides.from_env())``, which honours
  ``CONDA_OVERRIDE_CUDA`` and friends).
* ``solve(specs, channels, target, *, cache_dir, offline=False, locked=None) -> list[Record]``; raises
  ``SolveError`` (the solver's explanation shortened, plus the host fact behind it) or ``ChannelError``
  (a channel unreachable, a subdir missing, a package missing on a mirror; channel URLs redacted).
* ``install(records, prefix, *, cache_dir, reporter=None, execute_link_scripts=True,
  target_prefix=None) -> InstallStats``; raises ``InstallError`` / ``ChannelError``. A failing post-link
  script (which rattler only reports) is raised as ``InstallError``.

``Record`` is a thin frozen dataclass (name, version, build, url, sha256, md5, channel, subdir, depends,
constrains, size, file_name) that also carries the rattler ``RepoDataRecord`` in ``.raw`` (for
installing and for writing locks). Build one from a RepoDataRecord with ``Record.from_rattler``.
"""

from __future__ import annotations

import errno
import platform as _platform
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..config import redact, redact_text
from ..errors import ChannelError, EnvkitError, ExitCode, InstallError, SolveError
from ..fsutil import write_atomic


@dataclass(frozen=True)
class Target:
    platform: str
    virtual_packages: tuple[str, ...]

    def virtual(self, name: str) -> str | None:
        """The version of virtual package ``name`` (``"__cuda"``), or None."""
        for vp in self.virtual_packages:
            n, _, rest = vp.partition("=")
            if n == name:
                return rest.split("=")[0]
        return None

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "virtual_packages": list(self.virtual_packages)}

    def summary(self) -> str:
        return " ".join([self.platform, *self.virtual_packages])


@dataclass(frozen=True)
class Record:
    name: str
    version: str
    build: str
    url: str
    sha256: str | None
    md5: str | None
    channel: str | None
    subdir: str
    file_name: str
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    size: int | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_rattler(cls, r: Any) -> Record:
        return cls(
            name=r.name.normalized,
            version=str(r.version),
            build=r.build,
            url=str(r.url),
            sha256=r.sha256.hex() if r.sha256 else None,
            md5=r.md5.hex() if r.md5 else None,
            channel=str(r.channel) if r.channel else None,
            subdir=r.subdir,
            file_name=r.file_name,
            depends=tuple(r.depends),
            constrains=tuple(r.constrains),
            size=r.size,
            raw=r,
        )

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


@dataclass
class InstallStats:
    seconds: float = 0.0
    operations: int = 0
    linked: int = 0
    unlinked: int = 0
    downloaded: int = 0
    post_link_failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "operations": self.operations,
            "linked": self.linked,
            "unlinked": self.unlinked,
            "downloaded": self.downloaded,
            "post_link_failures": self.post_link_failures,
        }


class Reporter(Protocol):
    """What envkit's core tells a progress display (the CLI passes one in). All optional."""

    def step(self, name: str, detail: str = "") -> None: ...

    def progress(self, kind: str, done: int, total: int | None, label: str = "") -> None: ...


# --------------------------------------------------------------------------- targets


def _arch_to_platform(arch: str | None) -> str:
    a = (arch or _platform.machine()).lower()
    if a in ("aarch64", "arm64"):
        return "linux-aarch64"
    if a in ("ppc64le",):
        return "linux-ppc64le"
    return "linux-64"


def target_for_host(host: Any = None, platform: str | None = None) -> Target:
    """The Target of a HostInfo (another machine's capture), or of this machine when ``host`` is None."""
    if host is None:
        from rattler import VirtualPackage, VirtualPackageOverrides

        detected = VirtualPackage.detect(VirtualPackageOverrides.from_env())
        strings = tuple(str(v.into_generic()) for v in detected)
        return Target(platform or _arch_to_platform(None), strings)
    arch = getattr(host, "arch", None)
    plat = platform or _arch_to_platform(arch)
    vps: list[str] = ["__unix=0=0"]
    if plat.startswith("linux"):
        vps.append("__linux=5.15=0")
        glibc = getattr(host, "glibc", None) or "2.28"
        vps.append(f"__glibc={glibc}=0")
    cuda = host.effective_cuda() if hasattr(host, "effective_cuda") else getattr(host, "cuda_version", None)
    if cuda:
        vps.append(f"__cuda={cuda}=0")
    archspec = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "linux-ppc64le": "ppc64le"}.get(plat)
    if archspec:
        vps.append(f"__archspec=1={archspec}")
    return Target(plat, tuple(vps))


def _generic(vps: Sequence[str]) -> list[Any]:
    from rattler import GenericVirtualPackage, PackageName, Version
    from rattler.package import BuildString

    out = []
    for s in vps:
        name, _, rest = s.partition("=")
        version, _, build = rest.partition("=")
        out.append(GenericVirtualPackage(PackageName(name), Version(version or "0"), BuildString(build or "0")))
    return out


# --------------------------------------------------------------------------- channels


def channel_url(channel: str) -> str:
    """A channel as rattler should see it: local paths become ``file://`` URLs."""
    if "://" in channel:
        return channel.rstrip("/")
    p = Path(channel).expanduser()
    if channel.startswith(("/", ".", "~")) or p.is_dir():
        return p.resolve().as_uri()
    return channel


def _is_http(channel: str) -> bool:
    return channel.startswith(("http://", "https://")) or ("://" not in channel and not channel.startswith("/"))


def _gateway(cache_dir: Path, offline: bool) -> Any:
    """A fresh Gateway per solve: no stale in-memory repodata (file:// channels are re-read)."""
    from rattler import Gateway
    from rattler.repo_data.gateway import SourceConfig

    cfg = SourceConfig(cache_action="force-cache-only") if offline else SourceConfig()
    return Gateway(cache_dir=cache_dir / "repodata", default_config=cfg)


# --------------------------------------------------------------------------- errors


_CUDA_NEED = re.compile(r"__cuda\s*>=?\s*([0-9][0-9.]*)")


def explain_solver_error(text: str, target: Target) -> tuple[str, str | None]:
    """(short explanation, host fact) from rattler's solver tree."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    short = "\n".join(lines[:14]) + ("\n  ..." if len(lines) > 14 else "")
    fact = None
    cuda = target.virtual("__cuda")
    if "__cuda" in text:
        needs = sorted({m.group(1) for m in _CUDA_NEED.finditer(text)}, key=lambda v: [int(x) for x in v.split(".")])
        if cuda is None:
            fact = "no __cuda: this host has no NVIDIA driver (or none was given with --host), CUDA packages need one"
        elif needs:
            want = needs[-1]
            fact = f"__cuda={cuda}: driver too old for CUDA {want} (the stack needs __cuda >={want})"
        else:
            fact = f"__cuda={cuda}: the driver's CUDA version rules out the requested packages"
    elif "__glibc" in text:
        fact = f"__glibc={target.virtual('__glibc')}: the system C library is too old for a requested package"
    return short, fact


_NO_CANDIDATES = re.compile(r"No candidates were found for ([^\s.]+(?: [^\s]+)?)")


def _missing_names(text: str) -> list[str]:
    names = []
    for m in _NO_CANDIDATES.finditer(text):
        names.append(m.group(1).split()[0])
    return list(dict.fromkeys(names))


def _channel_error(exc: BaseException, channels: Sequence[str], offline: bool) -> EnvkitError:
    msg = redact_text(str(exc))
    shown = ", ".join(redact(c) for c in channels)
    low = msg.lower()
    if offline and ("no usable repodata cache" in low or "cache" in low):
        return ChannelError(
            f"offline: no cached repodata for {shown}",
            hint="run once online (or point --channel at a local file:// channel) before using --offline",
        )
    if "connection refused" in low or "dns error" in low or "error sending request" in low or "timed out" in low:
        return ChannelError(
            f"channel unreachable: {shown}\n  {msg.splitlines()[0] if msg else ''}",
            hint="check the URL, the network or the mirror map in envkit.toml; --offline uses cached repodata",
        )
    if "404" in low or "not found" in low:
        return ChannelError(
            f"channel or platform subdir missing: {shown}\n  {msg.splitlines()[0] if msg else ''}",
            hint="a conda channel needs <url>/noarch/repodata.json and <url>/<platform>/repodata.json",
        )
    return ChannelError(f"cannot read channel(s) {shown}: {msg}", hint="check the channel URLs and the mirror map")


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


# --------------------------------------------------------------------------- solve


def solve(
    specs: list[str],
    channels: list[str],
    target: Target,
    *,
    cache_dir: Path,
    offline: bool = False,
    locked: list[Any] | None = None,
    mirrored: dict[str, str] | None = None,
) -> list[Record]:
    """Solve ``specs`` against ``channels`` for ``target``.

    ``mirrored`` maps a channel URL actually used to the name it stands for (conda-forge -> mirror URL),
    so that a package the solver cannot find is reported as missing on that mirror.
    """
    import rattler
    from rattler.exceptions import GatewayError, SolverError

    urls = [channel_url(c) for c in channels]
    if not urls:
        raise SolveError("no channels to solve against", hint="add channels: to the environment file or pass --channel")
    locked_raw = [r.raw if isinstance(r, Record) else r for r in (locked or [])]
    try:
        raw = _run(
            rattler.solve(
                urls,
                specs,
                gateway=_gateway(cache_dir, offline),
                platforms=[target.platform, "noarch"],  # type: ignore[list-item]
                virtual_packages=_generic(target.virtual_packages),
                locked_packages=locked_raw or None,
            )
        )
    except SolverError as exc:
        text = redact_text(str(exc))
        missing = _missing_names(text)
        mirrors = mirrored or {}
        if missing and mirrors:
            where = ", ".join(f"{redact(u)} (mirror of {n})" for u, n in mirrors.items())
            raise ChannelError(
                f"package missing on mirror: {', '.join(missing)} not found in {where}",
                hint="the mirror is lagging or incomplete; sync it or remove the mirror entry from envkit.toml",
            )
        if missing and "__cuda" not in text:
            raise SolveError(
                f"no package named {', '.join(missing)} in {', '.join(redact(u) for u in urls)}",
                hint="check the spelling and the channels (--channel adds or overrides them)",
            )
        short, fact = explain_solver_error(text, target)
        message = "the conda solve found no solution" + (f": {fact}" if fact else "") + "\n" + short
        hint = (
            "use a stack that matches the driver (envkit resolve), upgrade the driver, "
            "or build for another machine with --host FILE"
            if fact and "__cuda" in fact
            else "relax the pins in the environment file"
        )
        raise SolveError(message, hint=hint)
    except GatewayError as exc:
        raise _channel_error(exc, urls, offline)
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise ChannelError(f"cannot read channels: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("rattler"):
            raise _channel_error(exc, urls, offline)
        raise
    return [Record.from_rattler(r) for r in raw]


# --------------------------------------------------------------------------- install


class _Bridge:
    """Adapts rattler's InstallerReporter callbacks to envkit's Reporter and collects stats."""

    def __init__(self, stats: InstallStats, reporter: Any) -> None:
        self.stats = stats
        self.reporter = reporter
        self.total = 0
        self.done = 0
        self._post: dict[int, str] = {}
        self._n = 0

    def _progress(self, label: str) -> None:
        if self.reporter is not None and hasattr(self.reporter, "progress"):
            self.reporter.progress("install", self.done, self.total or None, label)

    def on_transaction_start(self, total_operations: int) -> None:
        self.total = total_operations
        self.stats.operations = total_operations
        self._progress("")

    def on_transaction_operation_complete(self, operation: int) -> None:
        self.done += 1
        self._progress("")

    def on_download_start(self, cache_entry: int) -> int:
        self.stats.downloaded += 1
        return cache_entry

    def on_link_start(self, operation: int, package_name: str) -> int:
        self.stats.linked += 1
        self._progress(package_name)
        return operation

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        self.stats.unlinked += 1
        return operation

    def on_post_link_start(self, package_name: str, script_path: str) -> int:
        self._n += 1
        self._post[self._n] = f"{package_name} ({script_path})"
        return self._n

    def on_post_link_complete(self, index: int, success: bool) -> None:
        if not success:
            self.stats.post_link_failures.append(self._post.get(index, f"#{index}"))


def install(
    records: Sequence[Any],
    prefix: Path,
    *,
    cache_dir: Path,
    reporter: Any = None,
    execute_link_scripts: bool = True,
    target_prefix: Path | None = None,
) -> InstallStats:
    """Install (sync) ``records`` into ``prefix``.

    ``target_prefix``: the path the environment will finally live at (rattler's
    ``alternative_target_prefix``): files are written under ``prefix`` but prefix placeholders,
    shebangs and conda-meta point at ``target_prefix``, so ``prefix`` can be renamed to it afterwards.
    """
    import rattler
    from rattler.exceptions import InstallerError

    raw = [r.raw if isinstance(r, Record) else r for r in records]
    stats = InstallStats()
    bridge = _Bridge(stats, reporter)
    start = time.perf_counter()
    try:
        _run(
            rattler.install(
                raw,
                prefix,
                cache_dir=cache_dir / "pkgs",
                show_progress=False,
                execute_link_scripts=execute_link_scripts,
                reporter=bridge,  # type: ignore[arg-type]
                alternative_target_prefix=target_prefix,
            )
        )
    except InstallerError as exc:
        raise install_error(exc, records, prefix)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise disk_full(prefix)
        raise InstallError(f"install into {prefix} failed: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("rattler"):
            raise install_error(exc, records, prefix)
        raise
    stats.seconds = time.perf_counter() - start
    if stats.post_link_failures:
        raise InstallError(
            f"post-link script failed: {', '.join(stats.post_link_failures)}",
            hint="the package's link script exited non-zero; the environment was not swapped in",
        )
    return stats


def disk_full(where: Path) -> InstallError:
    return InstallError(
        f"disk full while installing into {where} (no space left on device)",
        hint="free space on that filesystem, or install elsewhere with --prefix; the previous environment is intact",
        exit_code=ExitCode.ENVIRONMENT,
    )


def install_error(exc: BaseException, records: Sequence[Any], prefix: Path | None = None) -> EnvkitError:
    text = redact_text(str(exc))
    low = text.lower()
    if "no space left" in low or "os error 28" in low or "disk full" in low:
        return disk_full(prefix or Path("the prefix"))
    m = re.search(r"failed to fetch (\S+?)(?:\.conda|\.tar\.bz2)?\b", text)
    if "sha256" in low or "hash mismatch" in low or "checksum" in low:
        return InstallError(
            f"corrupted package (sha256 mismatch): {text.splitlines()[0]}",
            hint="remove the package from the cache (envkit cache: $RATTLER_CACHE_DIR / ENVKIT_CACHE_DIR) and retry",
        )
    if "404" in low or "not found" in low:
        return ChannelError(
            f"package file missing on the channel/mirror: {text.splitlines()[0]}",
            hint="the mirror lists the package but does not serve its file; sync the mirror",
        )
    if "connection refused" in low or "error sending request" in low or "dns" in low:
        name = m.group(1) if m else "a package"
        return ChannelError(
            f"channel unreachable while downloading {name}",
            hint="check the network or mirror; --offline works only with packages already in the cache",
        )
    return InstallError(f"install failed: {text}", hint="rerun with --force; if it persists, clear the package cache")


# --------------------------------------------------------------------------- cache integrity


def verify_cache(records: Sequence[Record], cache_dir: Path) -> list[str]:
    """Drop package-cache entries whose extracted files no longer match the package (returns their dists).

    rattler trusts an extracted package directory in its cache once it was validated; a file changed
    afterwards (for instance edited in place through a hardlink in some environment) would be linked
    into every new environment. envkit keeps a stamp per cache entry (``<cache>/envkit-verified/``:
    size, mtime and inode of every file, taken right after rattler extracted and validated it, see
    ``stamp_cache``): an entry whose files still match its stamp costs one ``stat`` per file; an
    entry without a stamp (extracted by another tool) is checked against the sha256 of every file in
    its ``info/paths.json``. Corrupted entries are deleted so that rattler fetches them again.
    """
    import shutil

    dropped: list[str] = []
    pkgs = cache_dir / "pkgs"
    for r in records:
        d = pkgs / r.dist
        if not d.is_dir():
            continue
        stamp = _read_stamp(cache_dir, r)
        ok = _matches_stamp(d, stamp) if stamp is not None else _hash_check(d)
        if not ok:
            shutil.rmtree(d, ignore_errors=True)
            for ext in (".conda", ".tar.bz2"):
                (pkgs / f"{r.dist}{ext}").unlink(missing_ok=True)
            _stamp_path(cache_dir, r).unlink(missing_ok=True)
            dropped.append(r.dist)
        elif stamp is None:
            _write_stamp(cache_dir, r)
    return dropped


def stamp_cache(records: Sequence[Record], cache_dir: Path) -> None:
    """Record the state of freshly extracted cache entries (no stamp yet) for ``verify_cache``."""
    for r in records:
        if (cache_dir / "pkgs" / r.dist).is_dir() and not _stamp_path(cache_dir, r).exists():
            _write_stamp(cache_dir, r)


def _stamp_path(cache_dir: Path, r: Record) -> Path:
    return cache_dir / "envkit-verified" / f"{r.dist}.json"


def _scan(d: Path) -> dict[str, list[int]]:
    import os

    out: dict[str, list[int]] = {}
    base = str(d)
    for root, _dirs, files in os.walk(base):
        for f in files:
            full = os.path.join(root, f)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            out[full[len(base) + 1 :]] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def _write_stamp(cache_dir: Path, r: Record) -> None:
    import json

    p = _stamp_path(cache_dir, r)
    try:
        write_atomic(p, json.dumps({"sha256": r.sha256, "files": _scan(cache_dir / "pkgs" / r.dist)}))
    except OSError:
        pass


def _read_stamp(cache_dir: Path, r: Record) -> dict[str, list[int]] | None:
    import json

    try:
        data = json.loads(_stamp_path(cache_dir, r).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("sha256") != r.sha256 or not isinstance(data.get("files"), dict):
        return None
    files: dict[str, list[int]] = data["files"]
    return files


def _matches_stamp(d: Path, stamp: dict[str, list[int]]) -> bool:
    return _scan(d) == stamp


def _hash_check(d: Path) -> bool:
    import hashlib
    import json

    try:
        entries = json.loads((d / "info" / "paths.json").read_text())["paths"]
    except (OSError, ValueError, KeyError):
        return False
    for e in entries:
        sha = e.get("sha256")
        if not sha or e.get("path_type", "hardlink") != "hardlink":
            continue
        f = d / e["_path"]
        try:
            size = f.stat().st_size
            if size != e.get("size_in_bytes", size) or hashlib.sha256(f.read_bytes()).hexdigest() != sha:
                return False
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- activation


def activation_script(prefix: Path, current_path: str) -> str:
    """A bash script activating ``prefix`` (rattler.shell.activate): PATH, CONDA_PREFIX, activate.d scripts."""
    from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

    path = [p for p in current_path.split(":") if p]
    variables = ActivationVariables(
        current_prefix=None,
        current_path=path,
        path_modification_behavior=PathModificationBehavior.Replace,
    )
    res = activate(Path(prefix), variables, shell=Shell.bash)
    return f"{res.script}\nexport CONDA_DEFAULT_ENV={_shquote(Path(prefix).name)}\n"


def _shquote(s: str) -> str:
    import shlex

    return shlex.quote(s)
