"""What an environment file pins: the TensorRT/CUDA stack, and pip file names against versions and platforms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.versions import V

if TYPE_CHECKING:
    from envkit.envfile import EnvFile

_STACK_RE = re.compile(r"^# stack: TensorRT (\S+), CUDA ([0-9.]+)", re.M)


def pinned_stack(env: EnvFile) -> tuple[str | None, str | None]:
    """(TensorRT version, CUDA version) pinned by an environment file."""
    trt = cuda = None
    try:
        text = Path(env.path).read_text(encoding="utf-8")
        m = _STACK_RE.search(text)
        if m:
            return m.group(1), m.group(2)
    except OSError:
        pass
    for d in env.find("tensorrt", "libnvinfer", "tensorrt-libs"):
        trt = trt or d.exact_or_prefix
    for p in env.pip:
        if p.name and re.fullmatch(r"tensorrt(-cu\d+)?(-bindings|-libs)?", p.name) and p.pinned_version:
            trt = trt or p.pinned_version
    for d in env.find("cuda-version", "cudatoolkit"):
        cuda = cuda or d.exact_or_prefix
    return trt, cuda


def same_stack(c_trt: str, c_cuda: str, trt: str, cuda: str | None) -> bool:
    try:
        want = V(trt).release
        if V(c_trt).release[: len(want)] != want:
            return False
        return cuda is None or V(c_cuda).release[:2] == V(cuda).release[:2]
    except ValueError:
        return False


def file_version(filename: str, name: str) -> Any:
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
    from packaging.version import Version

    try:
        if filename.endswith(".whl"):
            return Version(str(parse_wheel_filename(filename)[1]).split("+")[0])
        return Version(str(parse_sdist_filename(filename)[1]).split("+")[0])
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def pin_admits(specifier: str, version: Any) -> bool:
    """Does an ``==`` pin (``==1.2.3``, ``==12.4.*``, ``==2.4.0+cu124``) admit a file's version?"""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if version is None:
        return False
    try:
        spec = SpecifierSet(specifier.split("+")[0] if "*" not in specifier else specifier)
    except InvalidSpecifier:
        return False
    return spec.contains(version, prereleases=True)


def file_fits(filename: str, platform: str) -> bool:
    if not filename.endswith(".whl"):
        return True  # an sdist builds anywhere (in principle)
    from envkit.host.platforms import PLATFORMS

    plat = PLATFORMS.get(platform)
    tags = filename[:-4].split("-")[-1].split(".")
    if plat is None or plat.os != "linux":
        return any(t == "any" or (plat is not None and t in plat.wheel_tags) for t in tags)
    return any(t == "any" or (t.startswith(("manylinux", "linux", "musllinux")) and t.endswith(plat.archspec))
               for t in tags)
