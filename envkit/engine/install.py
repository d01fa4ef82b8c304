"""Installing records into a prefix with py-rattler: the reporter bridge and install-failure translation.

rattler is imported inside functions only.
"""

from __future__ import annotations

import asyncio
import errno
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from envkit.config import redact_text
from envkit.engine.types import InstallStats, Record, Reporter, says_not_found, says_unreachable
from envkit.errors import ChannelError, DiskFullError, EnvkitError, InstallError


class _Bridge:
    """Adapts rattler's InstallerReporter callbacks to envkit's stats (the lean set: every callback
    costs a GIL round trip from rattler's threads, so only what is needed is implemented)."""

    def __init__(self, stats: InstallStats, reporter: Reporter | None, on_cached: Callable[[str], None] | None = None) -> None:
        self.stats = stats
        self.reporter = reporter
        self.on_cached = on_cached
        self._caching: list[str] = []
        self.total = 0
        self.done = 0
        self._post: dict[int, str] = {}
        self._n = 0

    def on_transaction_start(self, total_operations: int) -> None:
        self.total = total_operations
        self.stats.operations = total_operations

    def on_download_start(self, cache_entry: int) -> int:
        self.stats.downloaded += 1
        return cache_entry

    def on_post_link_start(self, package_name: str, script_path: str) -> int:
        self._n += 1
        self._post[self._n] = f"{package_name} ({script_path})"
        return self._n

    def on_post_link_complete(self, index: int, success: bool) -> None:
        if not success:
            self.stats.post_link_failures.append(self._post.get(index, f"#{index}"))


class _ProgressBridge(_Bridge):
    """Per-operation callbacks too: progress for envkit's Reporter, link/unlink counts."""

    def _progress(self, label: str) -> None:
        if self.reporter is not None:
            self.reporter.progress("install", self.done, self.total or None, label)

    def on_transaction_start(self, total_operations: int) -> None:
        super().on_transaction_start(total_operations)
        self._progress("")

    def on_transaction_operation_complete(self, operation: int) -> None:
        self.done += 1
        self._progress("")

    def on_link_start(self, operation: int, package_name: str) -> int:
        self.stats.linked += 1
        self._progress(package_name)
        return operation

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        self.stats.unlinked += 1
        return operation


class _Cached:
    """``on_cached(name)`` once rattler has populated a package's cache entry."""

    on_cached: Callable[[str], None] | None
    _caching: list[str]

    def on_populate_cache_start(self, operation: int, package_name: str) -> int:
        self._caching.append(package_name)
        return len(self._caching) - 1

    def on_populate_cache_complete(self, cache_entry: int) -> None:
        if self.on_cached is not None and 0 <= cache_entry < len(self._caching):
            self.on_cached(self._caching[cache_entry])


class _CachedBridge(_Cached, _Bridge):
    pass


class _CachedProgressBridge(_Cached, _ProgressBridge):
    pass


def _bridge(stats: InstallStats, reporter: Reporter | None, on_cached: Callable[[str], None] | None, fresh: bool) -> _Bridge:
    """The leanest bridge that still serves ``reporter``, ``on_cached`` and exact link counts
    (into a fresh prefix every operation is a link, so those need no per-operation callback)."""
    progress = reporter is not None or not fresh
    if on_cached is not None:
        return (_CachedProgressBridge if progress else _CachedBridge)(stats, reporter, on_cached)
    return (_ProgressBridge if progress else _Bridge)(stats, reporter)


def install(
    records: Sequence[Any],
    prefix: Path,
    *,
    cache_dir: Path,
    reporter: Reporter | None = None,
    execute_link_scripts: bool = True,
    target_prefix: Path | None = None,
    on_cached: Callable[[str], None] | None = None,
) -> InstallStats:
    """Install (sync) ``records`` into ``prefix``.

    ``target_prefix``: the path the environment will finally live at (rattler's
    ``alternative_target_prefix``): files are written under ``prefix`` but prefix placeholders,
    shebangs and conda-meta point at ``target_prefix``, so ``prefix`` can be renamed to it afterwards.
    ``on_cached(name)``: called (from an installer thread) once package ``name``'s cache entry is
    extracted and validated, before the install finishes (``engine.cache.CacheStamper.package_ready``).
    """
    import rattler
    from rattler.exceptions import InstallerError

    raw = [r.raw if isinstance(r, Record) else r for r in records]
    stats = InstallStats()
    fresh = not Path(prefix).exists() or not any(Path(prefix).iterdir())
    bridge = _bridge(stats, reporter, on_cached, fresh)
    start = time.perf_counter()
    try:
        asyncio.run(
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
    redact_prefix_records(Path(prefix))
    if not isinstance(bridge, _ProgressBridge):  # fresh prefix: every operation linked a package
        stats.linked = stats.operations
    if stats.post_link_failures:
        raise InstallError(
            f"post-link script failed: {', '.join(stats.post_link_failures)}",
            hint="the package's link script exited non-zero; the environment was not swapped in",
        )
    return stats


def redact_prefix_records(prefix: Path) -> int:
    """Rewrite the ``url`` (and ``channel``) of every ``conda-meta/<pkg>.json`` rattler wrote with credentials
    (``user:password@``, ``/t/TOKEN/``) redacted: a secret in a channel URL never stays on disk. Returns how many
    records were rewritten. rattler needs neither field again (it matches installed packages by name, version,
    build and hashes)."""
    import json

    from envkit.config import redact
    from envkit.fsutil import write_atomic

    changed = 0
    for f in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            text = f.read_text(encoding="utf-8")
            if "@" not in text and "/t/" not in text:
                continue
            data = json.loads(text)
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        new = {k: redact(v) if k in ("url", "channel") and isinstance(v, str) else v for k, v in data.items()}
        if new != data:
            write_atomic(f, json.dumps(new, indent=2) + "\n")
            changed += 1
    return changed


def disk_full(where: Path) -> DiskFullError:
    return DiskFullError(
        f"disk full while installing into {where} (no space left on device)",
        hint="free space on that filesystem, or install elsewhere with --prefix; the previous environment is intact",
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
    if says_not_found(low):
        return ChannelError(
            f"package file missing on the channel/mirror: {text.splitlines()[0]}",
            hint="the mirror lists the package but does not serve its file; sync the mirror",
        )
    if says_unreachable(low):
        name = m.group(1) if m else "a package"
        return ChannelError(
            f"channel unreachable while downloading {name}",
            hint="check the network or mirror; --offline works only with packages already in the cache",
        )
    return InstallError(f"install failed: {text}", hint="rerun with --force; if it persists, clear the package cache")
