"""Locks: the rattler (pixi ``version: 7``) lock file and the conda ``@EXPLICIT`` file.

* ``write_lock(records, target, channels, path)``: the lock with the virtual packages the solve was for.
  Channel URLs and package URLs have tokens and credentials redacted (``/t/***/``): a lock is shared,
  a token is not. Reading a redacted lock needs the token from the environment file or config again
  (``read_lock(path, channels=...)`` restores it in the package URLs).
* ``read_lock(path) -> Lock`` (records, target, channels).
* ``write_explicit(records, platform, path)``: ``@EXPLICIT`` with one ``url#sha256`` per package.
* ``lock_matches(lock, env_file, channels=None) -> bool``: does the lock still satisfy the environment file?
  Every conda dependency must be matched by a locked package (rattler ``MatchSpec.matches``) and the
  lock's channels must be the file's (after the mirror map, when passed in ``channels``).
  ``lock_mismatches`` returns the reasons.

This module imports rattler lazily, inside functions, through nothing but the lock API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envkit.config import redact
from envkit.engine.channels import channel_url
from envkit.engine.paths import lock_paths
from envkit.engine.types import Record, Target
from envkit.envfile import EnvFile
from envkit.errors import InputError
from envkit.fsutil import sha256_file, write_atomic

ENV = "default"
__all__ = ["Lock", "lock_matches", "lock_mismatches", "lock_paths", "read_lock", "write_explicit", "write_lock"]


@dataclass
class Lock:
    path: Path
    records: list[Record]
    target: Target
    channels: list[str]

    @property
    def sha256(self) -> str:
        return sha256_file(self.path)


def write_lock(records: list[Record], target: Target, channels: list[str], path: Path) -> str:
    """Write the rattler lock; returns its sha256."""
    from rattler import LockChannel, LockFile, LockPlatform

    plat = LockPlatform(target.platform, virtual_packages=target.strings())
    lf = LockFile([plat])
    lf.set_channels(ENV, [LockChannel(redact(channel_url(c))) for c in channels])
    for r in sorted(records, key=lambda r: r.name):
        raw = r.raw
        if redact(r.url) != r.url or redact(r.channel or "") != (r.channel or ""):
            raw = _redacted_record(r)
        lf.add_conda_package(ENV, plat, raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    lf.to_path(tmp)
    tmp.replace(path)
    return sha256_file(path)


def _redacted_record(r: Record) -> Any:
    from rattler import RepoDataRecord

    return RepoDataRecord(r.raw, r.file_name, redact(r.url), redact(r.channel or ""))


def read_lock(path: Path, channels: list[str] | None = None) -> Lock:
    """Read a lock written by ``write_lock``. ``channels`` (unredacted) restore tokens in URLs."""
    from rattler import LockFile
    from rattler.exceptions import ParseCondaLockError

    try:
        lf = LockFile.from_path(path)
    except ParseCondaLockError as exc:
        raise InputError(f"not a valid lock file: {exc}", file=str(path), hint="recreate it: envkit create --force")
    except OSError as exc:
        raise InputError(f"cannot read the lock: {exc}", file=str(path))
    env = lf.default_environment()
    if env is None:
        raise InputError("the lock has no default environment", file=str(path))
    plats = env.platforms()
    if not plats:
        raise InputError("the lock has no platform", file=str(path))
    plat = plats[0]
    raw = env.conda_repodata_records_for_platform(plat) or []
    locked_channels = [str(c) for c in env.channels()] if hasattr(env, "channels") else []
    records = [Record.from_rattler(r) for r in raw]
    if channels and any("***" in r.url for r in records):
        records = _restore_tokens(records, channels)
    return Lock(
        path=path,
        records=records,
        target=Target.parse(plat.name, plat.virtual_packages or ()),
        channels=locked_channels,
    )


def _restore_tokens(records: list[Record], channels: list[str]) -> list[Record]:
    from rattler import RepoDataRecord

    by_redacted = {redact(channel_url(c)): channel_url(c) for c in channels}
    out = []
    for r in records:
        url = r.url
        for red, real in by_redacted.items():
            if url.startswith(red):
                url = real + url[len(red) :]
        if url != r.url:
            raw = RepoDataRecord(r.raw, r.file_name, url, r.channel or "")
            out.append(Record.from_rattler(raw))
        else:
            out.append(r)
    return out


def write_explicit(records: list[Record], platform: str, path: Path) -> None:
    """conda ``@EXPLICIT`` file: ``url#sha256`` per package, in install (topological) order, tokens redacted."""
    try:
        from rattler import RepoDataRecord

        ordered = [Record.from_rattler(r) for r in RepoDataRecord.sort_topologically([r.raw for r in records])]
    except Exception:
        ordered = sorted(records, key=lambda r: r.name)
    lines = [
        "# This file may be used to create an environment using:",
        "# $ conda create --name <env> --file <this file>",
        "# generated by envkit",
        f"# platform: {platform}",
        "@EXPLICIT",
    ]
    for r in ordered:
        lines.append(f"{redact(r.url)}#{r.sha256}" if r.sha256 else redact(r.url))
    write_atomic(path, "\n".join(lines) + "\n")


def lock_mismatches(lock: Lock, env_file: EnvFile, channels: list[str] | None = None) -> list[str]:
    """Why ``lock`` no longer satisfies ``env_file`` (empty: it does)."""
    from rattler import MatchSpec

    reasons: list[str] = []
    want = [redact(channel_url(c)).rstrip("/") for c in (channels if channels is not None else env_file.channels)]
    have = [redact(channel_url(c)) for c in lock.channels]  # older locks may name a channel ("conda-forge")
    if have and want and want != have:
        reasons.append(f"channels changed: lock has {', '.join(have)}, the file asks for {', '.join(want)}")
    by_name: dict[str, list[Record]] = {}
    for r in lock.records:
        by_name.setdefault(r.name, []).append(r)
    for dep in env_file.conda:
        raw = dep.raw.split("::", 1)[1] if "::" in dep.raw else dep.raw
        try:
            spec = MatchSpec(raw.strip())
        except Exception:
            reasons.append(f"{dep.raw}: cannot parse")
            continue
        name = spec.name.normalized if spec.name else dep.name.lower()
        cands = by_name.get(name, [])
        if not cands:
            reasons.append(f"{dep.raw}: not in the lock")
        elif not any(spec.matches(c.raw) for c in cands):
            got = ", ".join(f"{c.name}={c.version}={c.build}" for c in cands)
            reasons.append(f"{dep.raw}: the lock has {got}")
    return reasons


def lock_matches(lock: Lock, env_file: EnvFile, channels: list[str] | None = None) -> bool:
    return not lock_mismatches(lock, env_file, channels)


def rebased(records: list[Record], channel: str) -> list[Record]:
    """The records as found on ``channel`` (same files, URLs into that channel): a bundle's lock."""
    from rattler import RepoDataRecord

    return [Record.from_rattler(RepoDataRecord(r.raw, r.file_name, f"{channel}/{r.subdir}/{r.file_name}", channel + "/"))
            for r in records]

