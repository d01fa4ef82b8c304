"""Pinning, packaging and hygiene rules of ``envkit validate`` (no compatibility facts needed).

Codes: unpinned-critical, pip-stub-needs-nvidia-index, deprecated-package, onnxruntime-gpu-cuda,
conda-pip-duplicate, channel-none, prefix-set. Each rule takes the checker
(``envkit.validate.evidence.RuleContext``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from envkit.envfile import EnvFile
from envkit.validate.evidence import CUDA, CUDNN, TRT, RuleContext, of
from envkit.versions import V

_DIRECT = {
    CUDA: ("conda", "conda-component", "pytorch-cuda", "pip-runtime"),
    CUDNN: ("conda", "pip"),
    TRT: ("conda", "pip"),
}
# PyPI names from before TensorRT moved to pypi.org (naming history, not compatibility facts)
_DEPRECATED_PIP = {
    "nvidia-tensorrt": "the old NGC-index name of the TensorRT wheel; from TensorRT 8.5 the wheels are on PyPI "
    "as `tensorrt` (`tensorrt-cu12`/`-cu13` from 10.0)",
    "nvidia-pyindex": "a helper that only points pip at NGC's old index (pypi.ngc.nvidia.com); current NVIDIA "
    "wheels are on PyPI and https://pypi.nvidia.com",
}
_DUPLICATES = (({"pytorch"}, {"torch"}), ({"tensorrt"}, {"tensorrt"}), ({"onnxruntime"}, {"onnxruntime", "onnxruntime-gpu"}),
               ({"tensorflow", "tensorflow-gpu"}, {"tensorflow", "tensorflow-gpu"}))


def pip_indexes(env: EnvFile) -> list[str]:
    """Index URLs the pip section (or the environment's variables) adds."""
    urls: list[str] = []
    for d in env.pip_options():
        parts = re.split(r"[\s=]+", (d.option or "").strip(), maxsplit=1)
        if parts and parts[0] in ("--extra-index-url", "--index-url", "-i", "--find-links", "-f") and len(parts) > 1:
            urls.append(parts[1].strip().strip("'\""))
    for key, value in env.variables.items():
        if key.upper() in ("PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL"):
            urls.extend(value.split())
    return urls


def unpinned(ctx: RuleContext) -> None:
    names = {CUDA: "CUDA", CUDNN: "cuDNN", TRT: "TensorRT"}
    for comp, origins in _DIRECT.items():
        evs = of(ctx.ev, comp)
        if any(e.version or e.pinned for e in evs if e.origin not in ("trt-suffix", "cudnn-suffix", "pip-suffix")):
            continue
        for e in of(ctx.ev, comp, origins):
            how = f"is open-ended ({e.spec})" if e.spec else "is not pinned"
            ctx.add("warning", e.line, "unpinned-critical",
                    f"{e.source} {how}: the {names[comp]} version is whatever the solver finds newest on the day "
                    "the environment is built",
                    f"pin a version, e.g. {e.package}{'==' if e.manager == 'pip' else '='}X.Y")


def packaging(ctx: RuleContext) -> None:
    env = ctx.env
    nv_url = ctx.m.pip_indexes.get("nvidia") or "https://pypi.nvidia.com"
    nv_host = urlparse(nv_url).netloc or nv_url
    has_nv = any(nv_host in u for u in pip_indexes(env))
    for e in of(ctx.ev, TRT):
        if e.manager != "pip" or has_nv:
            continue
        name = e.package
        stub = name.endswith("-libs") or (name.startswith("tensorrt") and not name.endswith("-bindings")
                                          and "-cu" in name)
        if name in ("tensorrt", "tensorrt-lean", "tensorrt-dispatch"):
            stub = e.version is None or V(e.version) >= V("8.6.1")
        if stub:
            ctx.add("warning", e.line, "pip-stub-needs-nvidia-index",
                    f"{e.source}: the TensorRT libraries are not on PyPI; what PyPI has is a stub that downloads "
                    f"them from {nv_url} while installing, which fails offline or behind a mirror of PyPI only",
                    f"add `--extra-index-url {nv_url}` to the pip: section (and mirror that index)")
    for d in env.pip:
        if d.name in _DEPRECATED_PIP:
            ctx.add("warning", d.line, "deprecated-package", f"{d.raw.strip()}: {_DEPRECATED_PIP[d.name]}",
                    "use the PyPI names: tensorrt==8.5.x/8.6.x, or tensorrt-cu12/-cu13 for TensorRT 10 and later"
                    if d.name == "nvidia-tensorrt" else "remove it")
    ort = env.find_pip("onnxruntime-gpu")
    if ort:
        has_cuda = bool(of(ctx.ev, CUDA))
        has_cudnn = bool(of(ctx.ev, CUDNN))
        if not has_cuda or not has_cudnn:
            missing = "CUDA and cuDNN" if not has_cuda else "cuDNN"
            ctx.add("info", ort[0].line, "onnxruntime-gpu-cuda",
                    f"{ort[0].raw.strip()} needs the {missing} libraries at run time and does not bring them; "
                    f"this environment provides no {missing}",
                    "add them (conda cuda-version/cudnn, or pip nvidia-*-cu12 wheels, e.g. "
                    "onnxruntime-gpu[cuda,cudnn] on recent versions) or rely on the system's")


def hygiene(ctx: RuleContext) -> None:
    env = ctx.env
    conda_names = {d.name.lower(): d for d in env.conda}
    for conda_set, pip_set in _DUPLICATES:
        c = next((conda_names[n] for n in sorted(conda_set) if n in conda_names), None)
        p = next((d for d in env.pip if d.name in pip_set), None)
        if c is not None and p is not None:
            ctx.add("info", p.line, "conda-pip-duplicate",
                    f"{p.raw.strip()} (pip) installs over {c.raw.strip()} (conda, line {c.line}): pip's copy wins, "
                    "with its own CUDA build", "keep one of the two")
    if not env.channels and any(d.name.lower() not in ("python", "pip") for d in env.conda):
        ctx.add("info", None, "channel-none",
                "no channels: the conda packages come from whatever channels each user's .condarc lists, so two "
                "machines can build different environments", "list the channels (e.g. conda-forge)")
    if env.prefix:
        line = env.doc.line(("prefix",)) if env.doc else None
        ctx.add("info", line, "prefix-set",
                f"prefix: {env.prefix} is a path on the machine that exported the file; `conda env create` "
                "tries to create the environment there", "delete the prefix: line")
