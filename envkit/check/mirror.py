"""``envkit mirror-check``: is the mirror a faithful, recent copy of upstream for our pinned packages?

For each pinned package (the lock's records; without a lock, the exact pins of environment.yml):
present on both, missing on the mirror, missing upstream, or a different sha256 (a broken sync).
For each channel subdir compared: the Last-Modified of both repodata files and the newest package
timestamp on each side, so a lagging mirror shows how far behind it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.config import redact
from envkit.engine.channels import channel_url, mapped, split_package_url
from envkit.engine.repodata import Repodata, RepodataCache
from envkit.errors import InputError

if TYPE_CHECKING:
    from envkit.check.steps import EnvUnit
    from envkit.config import Config
    from envkit.engine.types import Record

OK, MISSING, DIFFERS, NO_UPSTREAM, UNREACHABLE = "present", "missing-on-mirror", "sha256-differs", "missing-upstream", (
    "unreachable"
)


@dataclass(frozen=True)
class Pinned:
    environment: str
    name: str
    version: str
    build: str | None
    subdir: str
    filename: str | None  # None: an environment.yml pin, resolved against upstream
    sha256: str | None
    channel: str  # upstream channel URL the package comes from

    @property
    def label(self) -> str:
        return self.filename or f"{self.name}={self.version}" + (f"={self.build}" if self.build else "")


@dataclass
class PackageReport:
    environment: str
    package: str
    subdir: str
    status: str
    upstream: str
    mirror: str
    reason: str = ""
    upstream_sha256: str | None = None
    mirror_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "package": self.package,
            "subdir": self.subdir,
            "status": self.status,
            "upstream": redact(self.upstream),
            "mirror": redact(self.mirror),
            "reason": self.reason,
            "upstream_sha256": self.upstream_sha256,
            "mirror_sha256": self.mirror_sha256,
        }


@dataclass
class ChannelAge:
    upstream: str
    mirror: str
    subdir: str
    upstream_last_modified: str | None
    mirror_last_modified: str | None
    upstream_newest: float | None
    mirror_newest: float | None
    errors: list[str] = field(default_factory=list)

    @property
    def lag_seconds(self) -> float | None:
        """How far the mirror's repodata is behind upstream's (Last-Modified, else newest package)."""
        from envkit.httpcache import Fetched

        up = Fetched("", None, False, "", None, self.upstream_last_modified).last_modified_ts
        mi = Fetched("", None, False, "", None, self.mirror_last_modified).last_modified_ts
        if up is not None and mi is not None:
            return max(0.0, up - mi)
        if self.upstream_newest is not None and self.mirror_newest is not None:
            return max(0.0, self.upstream_newest - self.mirror_newest)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "upstream": redact(self.upstream),
            "mirror": redact(self.mirror),
            "subdir": self.subdir,
            "upstream_last_modified": self.upstream_last_modified,
            "mirror_last_modified": self.mirror_last_modified,
            "upstream_newest_package": self.upstream_newest,
            "mirror_newest_package": self.mirror_newest,
            "lag_seconds": self.lag_seconds,
            "errors": self.errors,
        }


def pinned_packages(unit: EnvUnit, channels_override: list[str] | None = None) -> list[Pinned]:
    """The lock's packages, else the environment file's exact conda pins (for each platform)."""
    from envkit.envfile import read_env_file

    if unit.lock_path.is_file():
        from envkit.engine.lockfile import read_lock

        env_channels = read_env_file(unit.env_path).channels if unit.env_path.is_file() else None
        lock = read_lock(unit.lock_path, channels=env_channels)
        out = []
        for r in lock.records:
            base, subdir, filename = split_package_url(r.url)
            out.append(Pinned(unit.name, r.name, r.version, r.build, subdir, filename, r.sha256, base))
        return out
    if not unit.env_path.is_file():
        raise InputError(f"{unit.name}: no lock and no environment file at {unit.env_path}",
                         f"run `envkit generate {unit.name}` (and `envkit create` for a lock)")
    env = read_env_file(unit.env_path)
    channels = channels_override or env.channels
    platforms = list(getattr(unit.profile, "platforms", None) or ["linux-64"])
    out = []
    for dep in env.conda:
        version = dep.exact_or_prefix
        if not version:
            continue
        for subdir in [*platforms, "noarch"]:
            for ch in channels:
                out.append(Pinned(unit.name, dep.name.lower(), version, dep.build, subdir, None, None, channel_url(ch)))
    return out


def _matching(rd: Repodata, p: Pinned) -> list[Record]:
    """Records on ``rd`` for an environment.yml pin (name, version prefix, build)."""
    from envkit.versions import V

    want = V(p.version).release
    out = []
    for rec in rd.records(p.name):
        try:
            ok = V(rec.version).release[: len(want)] == want
        except ValueError:
            ok = rec.version == p.version
        if ok and (p.build is None or rec.build == p.build):
            out.append(rec)
    return out


def compare(
    pins: list[Pinned], cache: RepodataCache, mirror_for: Any
) -> tuple[list[PackageReport], list[ChannelAge]]:
    """``mirror_for(upstream_url) -> mirror_url | None``; pins without a mirror are not compared."""
    reports: list[PackageReport] = []
    pairs: dict[tuple[str, str, str], ChannelAge] = {}
    for p in pins:
        mirror = mirror_for(p.channel)
        if not mirror:
            continue
        mirror = channel_url(mirror)
        up, mi = cache.get(p.channel, p.subdir), cache.get(mirror, p.subdir)
        key = (p.channel, mirror, p.subdir)
        if key not in pairs:
            pairs[key] = ChannelAge(
                p.channel, mirror, p.subdir, up.fetched.last_modified, mi.fetched.last_modified,
                up.newest_timestamp(), mi.newest_timestamp(), [e for e in (up.error, mi.error) if e],
            )
        base = PackageReport(p.environment, p.label, p.subdir, OK, p.channel, mirror)
        broken = [f"{side}: {why}" for side, why in (("upstream", up.problem()), ("mirror", mi.problem())) if why]
        if not up.available or not mi.available or broken:
            base.status = UNREACHABLE
            base.reason = "; ".join([*(e for e in (up.error, mi.error) if e), *broken]) or "repodata unavailable"
            reports.append(base)
            continue
        if p.filename is not None:
            u_rec, m_rec = up.lookup(p.filename), mi.lookup(p.filename)
            reports.append(_verdict(base, u_rec, m_rec, p.sha256))
            continue
        u_recs = _matching(up, p)
        if not u_recs:
            continue  # this pin lives on another channel or platform
        for rec in u_recs:
            item = PackageReport(p.environment, rec.file_name, p.subdir, OK, p.channel, mirror)
            reports.append(_verdict(item, rec, mi.lookup(rec.file_name), None))
    return reports, list(pairs.values())


def _verdict(rep: PackageReport, u_rec: Record | None, m_rec: Record | None, locked_sha: str | None) -> PackageReport:
    rep.upstream_sha256 = u_rec.sha256 if u_rec is not None else None
    rep.mirror_sha256 = m_rec.sha256 if m_rec is not None else None
    if u_rec is None:
        rep.status, rep.reason = NO_UPSTREAM, f"not on upstream {redact(rep.upstream)}"
        if m_rec is None:
            rep.reason += " nor on the mirror"
    elif m_rec is None:
        rep.status, rep.reason = MISSING, f"missing on mirror {redact(rep.mirror)} ({rep.subdir})"
    elif rep.upstream_sha256 != rep.mirror_sha256:
        rep.status = DIFFERS
        rep.reason = (f"sha256 differs: upstream {str(rep.upstream_sha256)[:12]}…, "
                      f"mirror {str(rep.mirror_sha256)[:12]}… (broken sync)")
    elif locked_sha and rep.upstream_sha256 != locked_sha:
        rep.status = DIFFERS
        rep.reason = f"both channels carry {str(rep.upstream_sha256)[:12]}…, the lock has {locked_sha[:12]}…"
    return rep


def mirror_map(config: Config | None, mirror: str | None, upstream: str | None) -> Any:
    """The ``mirror_for`` function for ``compare`` from the flags or the config."""
    if upstream and not mirror:
        raise InputError("--upstream needs --mirror", "pass the mirror to compare with: --mirror URL")
    if mirror and upstream:
        up = channel_url(upstream)
        return lambda ch: mirror if channel_url(ch) == up else None
    if mirror:
        return lambda ch: mirror
    if config is None or not config.mirrors:
        raise InputError("no mirror to check", "pass --mirror URL, or configure [mirrors] in envkit.toml")

    def from_config(ch: str) -> str | None:
        found = mapped(ch, config)  # the one channel-and-mirror policy (create, check, bundle)
        if found.mirror:
            return found.url
        for name, url in config.mirrors.items():
            if channel_url(name) == channel_url(ch):
                return url
        return None

    return from_config
