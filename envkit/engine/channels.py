"""Channels: the one channel-URL rule and the one channel-and-mirror policy (create, check, bundle, mirror-check).

* ``channel_url(name_path_or_url)``: ``conda-forge`` -> ``https://conda.anaconda.org/conda-forge``, a local
  directory -> ``file://...``, a URL as it is (no trailing slash).
* ``channels_for(env_channels, override, config)``: the channels a solve or a check reads, in order:
  ``--channel`` overrides, else the environment file's ``channels:``, else envkit.toml's ``channels``, else
  conda-forge; each mapped through envkit.toml's ``[mirrors]``. A ``Channel`` keeps the name it stands for
  and the URL actually read, so a package missing on a mirror is reported as missing on that mirror.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envkit.config import DEFAULT_CHANNEL_ALIAS, redact
from envkit.errors import InputError

if TYPE_CHECKING:
    from envkit.config import Config

DEFAULT_CHANNELS = ("conda-forge",)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def channel_url(channel: str) -> str:
    """A channel name, path or URL as a URL without a trailing slash ('conda-forge' -> anaconda.org)."""
    c = channel.strip().rstrip("/")
    if "://" in c:
        parts = urllib.parse.urlsplit(c) if _SCHEME.match(c) else None
        try:
            port_ok = parts is not None and (parts.port is None or parts.port > 0)
        except ValueError:
            port_ok = False
        if parts is None or not port_ok or (parts.scheme != "file" and not parts.hostname):
            raise InputError(f"not a channel URL: {redact(c)[:200]!r}",
                             "give a channel name (conda-forge), a path, or a URL like https://host/channel")
        return c
    if c.startswith(("/", ".", "~")) or (os.sep in c and Path(c).expanduser().exists()):
        return Path(c).expanduser().resolve().as_uri()
    return f"{DEFAULT_CHANNEL_ALIAS}/{c}"


def local_path(url: str) -> Path | None:
    """The directory of a ``file://`` channel, None for remote ones."""
    if url.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    return None


def split_package_url(url: str) -> tuple[str, str, str]:
    """'http://h/ch/linux-64/x-1-0.conda' -> ('http://h/ch', 'linux-64', 'x-1-0.conda'); paths too."""
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    base, subdir, filename = url.rsplit("/", 2)
    return base, subdir, filename


@dataclass(frozen=True)
class Channel:
    """A channel as written (``name``) and the URL actually read (the mirror, when one is configured)."""

    name: str
    url: str
    mirror: bool

    def describe(self) -> str:
        return f"mirror {redact(self.url)} (of {redact(self.name)})" if self.mirror else redact(self.url)


def mapped(channel: str, config: Config | None) -> Channel:
    """One channel (a name or a URL, e.g. a locked package's channel) through the mirror map."""
    mirror = config.mirror_for(channel) if config is not None else None
    return Channel(channel, channel_url(mirror or channel), mirror is not None)


def channels_for(env_channels: list[str], override: list[str], config: Config | None) -> list[Channel]:
    """The channels to read, in order (see the module docstring)."""
    names = list(override) or list(env_channels) or list(config.channels if config else []) or list(DEFAULT_CHANNELS)
    return [mapped(n, config) for n in names]


def mirrored_names(channels: list[Channel]) -> dict[str, str]:
    """{mirror URL: the channel it stands for} of the channels read through a mirror."""
    return {c.url: c.name for c in channels if c.mirror}
