"""Generate: the pinned ``environment.yml`` for a resolved stack.

Deterministic (same inputs, same bytes), in the standard format conda, mamba, micromamba
and pixi read. A header comment names the profile, the matrix version, the host and the
command that regenerates the file, and ends with ``# envkit-sha256: <hash of the body>``,
so a file a person edited since is detected and never silently overwritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envkit import __version__
from envkit.errors import EditedFileError, InputError, ResolveError
from envkit.fsutil import write_atomic
from envkit.resolve_model import Resolution, Stack
from envkit.versions import V, major

if TYPE_CHECKING:
    from envkit.context import Settings
    from envkit.host.machines import Machine
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix, TensorRTRelease
    from envkit.profile import Profile

HASH_RE = re.compile(r"^# envkit-sha256: ([0-9a-f]{64})\s*$", re.M)


@dataclass
class Rendered:
    text: str
    body: str
    conda: list[str]
    pip: list[str]
    stack: Stack


def _fmt(template: str, stack: Stack, trt: TensorRTRelease | None) -> str:
    return template.format(
        version=stack.tensorrt_line,
        pypi_version=getattr(trt, "pypi_version", None) or stack.tensorrt,
        full_version=stack.tensorrt,
        cuda_major=major(stack.cuda),
        cuda_version=stack.cuda,
        cudnn_version=stack.cudnn or "",
        python=stack.python,
    )


def _short(version: str, parts: int) -> str:
    rel = V(version).release
    return ".".join(str(x) for x in rel[:parts])


def stack_packages(prof: Profile, res: Resolution, matrix: Matrix) -> tuple[list[str], list[str], list[str]]:
    """(channels, conda specs, pip specs) for the chosen stack plus the profile's extras."""
    stack = res.chosen
    if stack is None or res.route_use is None:
        raise ResolveError(f"profile {prof.name!r} has no stack to generate", "run `envkit resolve` to see why")
    use = res.route_use
    route = matrix.routes[use.route]
    conda: list[str] = [f"python={stack.python}"]
    cm = matrix.cuda_majors.get(major(stack.cuda))
    if cm:
        conda += [p.format(version=stack.cuda) for p in cm.conda_packages]
    pip: list[str] = []
    if stack.cudnn:
        rel = matrix.cudnn_release(stack.cudnn)
        pip_cudnn = rel.pip.get(f"cu{major(stack.cuda)}") if rel else None
        if pip_cudnn and use.pip and not use.conda:
            # TensorRT is a pip wheel that requires nvidia-cudnn-cuNN unpinned: pin it, or pip takes the newest
            pip.append(f"{pip_cudnn}=={_short(stack.cudnn, 2)}.*")
        elif rel and rel.conda:
            conda.append(f"{rel.conda.get('package', 'cudnn')}={_short(stack.cudnn, 2)}")
        elif pip_cudnn:
            pip.append(f"{pip_cudnn}=={_short(stack.cudnn, 2)}.*")
    trt = matrix.tensorrt_release(stack.tensorrt)
    conda += [_fmt(t, stack, trt) for t in use.conda]
    conda += list(prof.conda)
    pip += [_fmt(t, stack, trt) for t in use.pip]
    if use.pip and cm and cm.pip_packages and not use.conda:
        # TensorRT comes from PyPI: keep the pip-side CUDA runtime on the same CUDA release as conda's
        pip += [p.format(version=stack.cuda) for p in cm.pip_packages]
    pip += list(prof.pip)
    channels = list(prof.channels)
    for ch in route.conda_channels:
        if ch not in channels and not any(c.rstrip("/").endswith("/" + ch) for c in channels):
            channels.append(ch)
    options: list[str] = []
    for name in route.pip_indexes:
        url = matrix.pip_indexes.get(name)
        if url and name != "pypi":
            options.append(f"--extra-index-url {url}")
    if pip:
        conda.append("pip")
    return channels, conda, options + pip


def _label(stack: Stack, pip: list[str]) -> str:
    """The stack as the file pins it: a cuDNN pinned through pip as `X.Y.*` is named by its line (the matrix's
    full version, e.g. 8.9.7.29, need not exist as that CUDA major's wheel: nvidia-cudnn-cu11 ends at 8.9.6.50)."""
    if stack.cudnn and any(re.match(r"nvidia-cudnn-cu\d+==[0-9.]+\.\*$", p) for p in pip):
        return stack.label().replace(f"cuDNN {stack.cudnn}", f"cuDNN {_short(stack.cudnn, 2)}.x (pip)")
    return stack.label()


def render(prof: Profile, res: Resolution, matrix: Matrix, host: HostInfo | None, command: str) -> Rendered:
    stack = res.chosen
    channels, conda, pip = stack_packages(prof, res, matrix)
    assert stack is not None
    body_lines = [f"name: {prof.name}", "channels:"]
    body_lines += [f"  - {c}" for c in channels]
    body_lines.append("dependencies:")
    body_lines += [f"  - {d}" for d in conda]
    if pip:
        body_lines.append("  - pip:")
        body_lines += [f"      - {p}" for p in pip]
    body = "\n".join(body_lines) + "\n"
    digest = hashlib.sha256(body.encode()).hexdigest()
    host_line = host.summary() if host is not None else "none given (resolved for any driver, unverified)"
    header = [
        f"# Generated by envkit {__version__} from profile {prof.name}. Do not edit: change the profile and regenerate.",
        f"# matrix: {matrix.matrix_version}",
        f"# stack: {_label(stack, pip)} (route {stack.route}, {stack.confidence})",
        f"# host: {host_line}",
        f"# regenerate: {command}",
        f"# envkit-sha256: {digest}",
    ]
    return Rendered("\n".join(header) + "\n" + body, body, conda, pip, stack)


def split_generated(text: str) -> tuple[str | None, str]:
    """(recorded hash or None when not generated by envkit, body after the header)."""
    m = HASH_RE.search(text)
    if not m:
        return None, text
    return m.group(1), text[m.end() + 1 :]


def edited_by_hand(path: Path) -> bool:
    """True when the file exists and is not exactly what envkit wrote (or not envkit's at all)."""
    if not path.exists():
        return False
    recorded, body = split_generated(path.read_text(encoding="utf-8"))
    return recorded is None or hashlib.sha256(body.encode()).hexdigest() != recorded


def default_output(prof: Profile, settings: Settings) -> Path:
    return settings.environments_dir / prof.name / "environment.yml"


def regenerate_command(prof: Profile, host_file: str | None) -> str:
    cmd = f"envkit generate {prof.name}"
    if host_file:
        cmd += f" --host {host_file}"
    return cmd


@dataclass
class WriteOutcome:
    path: Path
    action: str  # "written", "unchanged", "header-updated", "overwritten-edited"


def _matrix_line(text: str) -> str | None:
    m = re.search(r"^# matrix: (\S+)$", text, re.M)
    return m.group(1) if m else None


def _header_key(text: str) -> tuple[str | None, str | None]:
    """What a header must keep current: the matrix version and the stack line (route and its confidence)."""
    m = re.search(r"^# stack: (.*)$", text, re.M)
    return _matrix_line(text), (m.group(1) if m else None)


def matrix_version_of(path: Path) -> str | None:
    """The matrix version a generated file's header names."""
    return _matrix_line(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_environment(rendered: Rendered, path: Path, *, force: bool) -> WriteOutcome:
    if path.is_dir():
        raise InputError(f"{path} is a directory", "give the file to write, e.g. -o DIR/environment.yml", key="-o")
    if not path.exists():
        write_atomic(path, rendered.text)
        return WriteOutcome(path, "written")
    recorded, body = split_generated(path.read_text(encoding="utf-8"))
    edited = edited_by_hand(path)
    if not edited and body == rendered.body:
        # same packages: a header that differs only in the host keeps the file stable; a new matrix version or
        # stack line is written, so the header always names the matrix and route the stack was checked against
        if _header_key(path.read_text(encoding="utf-8")) == _header_key(rendered.text):
            return WriteOutcome(path, "unchanged")
        write_atomic(path, rendered.text)
        return WriteOutcome(path, "header-updated")
    if edited and not force:
        what = "was edited by hand since envkit generated it" if recorded else "was not generated by envkit"
        raise EditedFileError(
            f"{path} {what}; refusing to overwrite it",
            "move your changes into the profile, or pass --force to overwrite",
        )
    write_atomic(path, rendered.text)
    return WriteOutcome(path, "overwritten-edited" if edited else "written")


def ensure_generated(name: str, settings: Settings, machine: Machine) -> Path:
    """environments/NAME/environment.yml for ``machine`` (chosen by ``envkit.host.policy``), regenerated only
    when its packages changed (create's step 1)."""
    from envkit.matrix.load import load_for
    from envkit.profile import check_precisions, load_profile
    from envkit.resolve import resolve_profile

    matrix = load_for(settings)
    prof = load_profile(name, settings)
    check_precisions(prof, list(matrix.precisions))
    host = machine.host_facts()
    res = resolve_profile(prof, matrix, host)
    if res.chosen is None:
        raise ResolveError(
            f"no stack for profile {prof.name!r}: " + ("; ".join(res.closest.reasons) if res.closest else "no candidates"),
            "; ".join(res.suggestions) or "run `envkit resolve` for every rejected candidate",
        )
    rendered = render(prof, res, matrix, host, regenerate_command(prof, machine.host_file))
    out = default_output(prof, settings)
    write_environment(rendered, out, force=False)
    return out


def is_current(name: str, settings: Settings, host: HostInfo | None) -> bool:
    """The generated file exists, was not edited, and regenerating it for ``host`` gives the same packages."""
    from envkit.matrix.load import load_for
    from envkit.profile import load_profile
    from envkit.resolve import resolve_profile

    matrix = load_for(settings)
    prof = load_profile(name, settings)
    path = default_output(prof, settings)
    if not path.exists() or edited_by_hand(path):
        return False
    res = resolve_profile(prof, matrix, host)
    if res.chosen is None:
        return False
    rendered = render(prof, res, matrix, host, regenerate_command(prof, None))
    return split_generated(path.read_text(encoding="utf-8"))[1] == rendered.body
