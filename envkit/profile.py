"""Project profiles: ``environments/<name>.yaml`` says what a project needs, not the versions.

Schema (schema_version 1)::

    schema_version: 1
    description: "YOLO-style vision inference"
    python: ">=3.10"              # PEP 440 ranges over the stack's versions (optional)
    tensorrt: ">=10.0"
    cuda: ">=12.0"
    cudnn: "8.9"                  # or "required": put cuDNN in the stack even where TensorRT does not need it
    ngc: "24.05-py3"              # pin the stack of an NGC TensorRT container instead of ranges
    route: conda-forge            # deliver TensorRT by this matrix route only (default: the most confident one)
    precisions: [fp16, int8]      # each maps to a minimum compute capability (matrix.yaml precisions:)
    platforms: [linux-64, linux-aarch64]
    channels: [conda-forge]       # conda channels the environment may use (names or URLs)
    pip_indexes: [pypi]           # pip indexes the environment may use (names from matrix.yaml or URLs)
    conda: [numpy, onnx]          # extra conda packages
    pip: [onnxruntime-gpu]        # extra pip packages
    pip_options: forbid           # refuse pip options (--index-url, --trusted-host, -e ...) in pip: (default allow)
    targets: ["linux-64:driver=535.104.05"]   # machines `envkit check --all` checks
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envkit.errors import ProfileError
from envkit.host.platforms import PLATFORM_ALIASES, PLATFORMS
from envkit.versions import spec
from envkit.yamlio import Reader, did_you_mean, load

if TYPE_CHECKING:
    from envkit.context import Settings

KEYS = [
    "schema_version",
    "description",
    "python",
    "tensorrt",
    "cuda",
    "cudnn",
    "ngc",
    "route",
    "precisions",
    "platforms",
    "channels",
    "pip_indexes",
    "conda",
    "pip",
    "pip_options",
    "targets",
]


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    description: str = ""
    python: str | None = None
    tensorrt: str | None = None
    cuda: str | None = None
    cudnn: str | None = None
    ngc: str | None = None
    route: str | None = None
    precisions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ("linux-64",)
    channels: tuple[str, ...] = ("conda-forge",)
    pip_indexes: tuple[str, ...] = ("pypi",)
    conda: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def cudnn_required(self) -> bool:
        return self.cudnn is not None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": self.path,
            "description": self.description,
            "python": self.python,
            "tensorrt": self.tensorrt,
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "ngc": self.ngc,
            "route": self.route,
            "precisions": list(self.precisions),
            "platforms": list(self.platforms),
            "channels": list(self.channels),
            "pip_indexes": list(self.pip_indexes),
            "conda": list(self.conda),
            "pip": list(self.pip),
            "targets": list(self.targets),
        }


def _range(r: Reader, key: str) -> str | None:
    value = r.get(key, str)
    if value is None:
        return None
    if key == "cudnn" and value == "required":
        return value
    try:
        spec(value)
    except ValueError:
        raise r.fail(
            f"expected a version or a version range like '>=10.0,<11', got {value!r}", path=(*r.path, key)
        ) from None
    return value


def parse_profile(path: Path, name: str | None = None) -> Profile:
    doc = load(path)
    if not isinstance(doc.data, dict):
        raise ProfileError("expected a mapping of profile keys", file=str(path), line=1)
    r = Reader(doc, (), ProfileError)
    r.expect_mapping(KEYS)
    sv = r.get("schema_version", int, 1)
    if sv != 1:
        raise r.fail(f"schema_version {sv} is not supported (this envkit reads 1)", "upgrade envkit", ("schema_version",))
    platforms = tuple(r.str_list("platforms")) or ("linux-64",)
    for i, p in enumerate(platforms):
        if p not in PLATFORMS:  # the one platform table: envkit.host.machines
            raise r.fail(
                f"unknown platform {p!r}",
                (f"did you mean {PLATFORM_ALIASES[p]!r}?" if p in PLATFORM_ALIASES else did_you_mean(p, PLATFORMS))
                or f"known: {', '.join(PLATFORMS)}",
                ("platforms", i),
            )
    _pip_policy(r)
    ngc = r.get("ngc", str)
    if ngc is not None and r.has("tensorrt"):
        raise r.fail("'ngc' pins the whole stack; drop 'tensorrt' or 'ngc'", path=("ngc",))
    prof = Profile(
        name=name or path.stem,
        path=str(path),
        description=r.get("description", str, ""),
        python=_range(r, "python"),
        tensorrt=_range(r, "tensorrt"),
        cuda=_range(r, "cuda"),
        cudnn=_range(r, "cudnn"),
        ngc=ngc,
        route=r.get("route", str),
        precisions=tuple(r.str_list("precisions")),
        platforms=platforms,
        channels=tuple(r.str_list("channels")) or ("conda-forge",),
        pip_indexes=tuple(r.str_list("pip_indexes")) or ("pypi",),
        conda=tuple(r.str_list("conda")),
        pip=tuple(r.str_list("pip")),
        targets=tuple(r.str_list("targets")),
        lines={str(k[0]): v for k, v in doc.lines.items() if len(k) == 1},
    )
    return prof


def _pip_policy(r: Reader) -> None:
    """``pip_options: forbid``: no pip option (an entry starting with '-') in ``pip:``."""
    policy = r.get("pip_options", str, "allow")
    if policy not in ("allow", "forbid"):
        raise r.fail(f"pip_options must be 'allow' or 'forbid', got {policy!r}", path=("pip_options",))
    if policy == "forbid":
        for i, entry in enumerate(r.str_list("pip")):
            if entry.strip().startswith("-"):
                raise r.fail(f"pip option {entry.strip()[:80]!r} in a profile that forbids pip options",
                             "remove it, or set pip_options: allow", ("pip", i))


_LISTED: dict[tuple[Path, ...], tuple[tuple[int, ...], dict[str, Path]]] = {}


def profile_paths(settings: Settings, *, fresh: bool = False) -> dict[str, Path]:
    """name -> path, project profiles shadowing the built-in ones. Listed once while the folders are unchanged
    (their mtimes): loading N profiles by name is linear, not N folder listings. A folder's mtime can miss a
    change made within the file system's timestamp tick: ``fresh`` lists again (``load_profile`` does when a
    name is not in the listing or its file is gone)."""
    dirs = tuple(settings.profile_dirs())
    stamps = tuple(d.stat().st_mtime_ns for d in dirs)
    hit = _LISTED.get(dirs)
    if hit is not None and hit[0] == stamps and not fresh:
        return dict(hit[1])
    found: dict[str, Path] = {}
    for d in reversed(dirs):
        for p in sorted(d.glob("*.yaml")):
            found[p.stem] = p
    listed = dict(sorted(found.items()))
    _LISTED[dirs] = (stamps, listed)
    return dict(listed)


def load_profile(name_or_path: str, settings: Settings) -> Profile:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return parse_profile(p)
    paths = profile_paths(settings)
    if name_or_path not in paths or not paths[name_or_path].is_file():
        paths = profile_paths(settings, fresh=True)
    if name_or_path not in paths:
        known = list(paths)
        hint = did_you_mean(name_or_path, known) or (
            f"known profiles: {', '.join(known)}" if known else f"no profiles in {settings.environments_dir}"
        )
        raise ProfileError(f"no profile named {name_or_path!r}", hint)
    return parse_profile(paths[name_or_path], name_or_path)


def check_precisions(prof: Profile, known: list[str]) -> None:
    for i, name in enumerate(prof.precisions):
        if name not in known:
            raise ProfileError(
                f"unknown precision {name!r}",
                did_you_mean(name, known) or f"known: {', '.join(known)}",
                file=prof.path,
                line=prof.lines.get("precisions"),
                key=f"precisions[{i}]",
            )

