"""envkit configuration: channels, mirrors, offline; and redaction of secrets in channel URLs.

Sources, later ones override earlier ones key by key (``mirrors`` are merged):

1. the user config ``$XDG_CONFIG_HOME/envkit/envkit.toml`` (``~/.config/envkit/envkit.toml``),
2. ``[tool.envkit]`` in the project's ``pyproject.toml``,
3. the project's ``envkit.toml``,
4. ``ENVKIT_CONFIG=FILE`` (an envkit.toml anywhere) and ``ENVKIT_OFFLINE=1``.

Keys::

    channels = ["conda-forge"]          # default channels when an environment file names none
    offline = false
    matrix_overlays = ["facts/site.yaml"]  # matrix overlay files (relative to the project), after matrix.d/
    [mirrors]                            # channel name or URL -> mirror URL
    conda-forge = "http://mirror.local/conda-forge"

Tokens in channel URLs (``/t/<token>/``) and credentials (``user:pass@``) are never printed or
written: every URL that leaves envkit goes through ``redact()``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envkit.context import Settings, user_config_dir
from envkit.errors import InputError

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org"

_TOKEN = re.compile(r"""/t/[^/\s"']+(?=[/\s"')\]]|$)""")
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s]+@")


def redact(url: str) -> str:
    """``https://u:p@h/t/SECRET/c`` -> ``https://***@h/t/***/c``. Safe on any string."""
    text = _TOKEN.sub("/t/***", str(url))
    return _USERINFO.sub(r"\1***@", text)


def redact_text(text: str) -> str:
    """Redact every URL-looking token inside a free text (error messages, solver output)."""
    text = _TOKEN.sub("/t/***", text)
    return re.sub(r"([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s]+@", r"\1***@", text)


@dataclass
class Config:
    channels: list[str] = field(default_factory=list)
    mirrors: dict[str, str] = field(default_factory=dict)
    offline: bool = False
    matrix_overlays: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # files read, for `envkit doctor`

    def mirror_for(self, channel: str) -> str | None:
        """The mirror URL configured for ``channel`` (a name or a URL), or None."""
        key = channel.rstrip("/")
        if key in self.mirrors:
            return self.mirrors[key]
        for name, url in self.mirrors.items():
            if key == f"{DEFAULT_CHANNEL_ALIAS}/{name}" or key == f"{DEFAULT_CHANNEL_ALIAS}/{name}".replace(
                "https://", "http://"
            ):
                return url
        return None

    def map_channel(self, channel: str) -> str:
        return self.mirror_for(channel) or channel

    def to_json(self) -> dict[str, Any]:
        return {
            "channels": [redact(c) for c in self.channels],
            "mirrors": {k: redact(v) for k, v in self.mirrors.items()},
            "offline": self.offline,
            "sources": self.sources,
        }


def _apply(cfg: Config, data: dict[str, Any], source: str) -> None:
    if not isinstance(data, dict):
        raise InputError("expected a table", file=source)
    if "channels" in data:
        ch = data["channels"]
        if not isinstance(ch, list) or not all(isinstance(c, str) for c in ch):
            raise InputError("channels must be a list of strings", file=source, key="channels")
        cfg.channels = list(ch)
    if "mirrors" in data:
        m = data["mirrors"]
        if not isinstance(m, dict) or not all(isinstance(v, str) for v in m.values()):
            raise InputError("mirrors must map channel names to URLs", file=source, key="mirrors")
        cfg.mirrors.update({str(k).rstrip("/"): v.rstrip("/") for k, v in m.items()})
    if "offline" in data:
        if not isinstance(data["offline"], bool):
            raise InputError("offline must be true or false", file=source, key="offline")
        cfg.offline = data["offline"]
    if "matrix_overlays" in data:
        mo = data["matrix_overlays"]
        if not isinstance(mo, list) or not all(isinstance(x, str) for x in mo):
            raise InputError("matrix_overlays must be a list of file paths", file=source, key="matrix_overlays")
        cfg.matrix_overlays = list(mo)
    unknown = set(data) - {"channels", "mirrors", "offline", "matrix_overlays"}
    if unknown:
        keys = ", ".join(sorted(unknown))
        raise InputError(f"unknown key(s) {keys}", file=source,
                         hint="known: channels, mirrors, offline, matrix_overlays")
    cfg.sources.append(source)


def _read_toml(path: Path) -> dict[str, Any]:
    from envkit.fsutil import read_input

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    raw = read_input(path, "a TOML file", limit=1024 * 1024)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path))
    except RecursionError:
        raise InputError("not valid TOML: nested too deeply", file=str(path))


def load_config(settings: Settings) -> Config:
    """Read and merge every configuration source (see the module docstring)."""
    cfg = Config()
    env = settings.env or dict(os.environ)
    user_base = env.get("XDG_CONFIG_HOME")
    user = (Path(user_base) / "envkit" if user_base else user_config_dir()) / "envkit.toml"
    if user.is_file():
        _apply(cfg, _read_toml(user), str(user))
    pyproject = settings.project_dir / "pyproject.toml"
    if pyproject.is_file():
        tool_table = _read_toml(pyproject).get("tool", {})
        tool = tool_table.get("envkit") if isinstance(tool_table, dict) else None
        if tool is not None and not isinstance(tool, dict):
            raise InputError("[tool.envkit] must be a table", file=str(pyproject), key="tool.envkit")
        if tool is not None:
            _apply(cfg, tool, f"{pyproject} [tool.envkit]")
    project = settings.project_dir / "envkit.toml"
    if project.is_file():
        _apply(cfg, _read_toml(project), str(project))
    explicit = env.get("ENVKIT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise InputError("no such file", file=explicit, key="ENVKIT_CONFIG")
        _apply(cfg, _read_toml(path), str(path))
    if env.get("ENVKIT_OFFLINE", "").lower() in ("1", "true", "yes"):
        cfg.offline = True
    return cfg
