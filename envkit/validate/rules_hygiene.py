"""Pinning, packaging and hygiene rules of ``envkit validate`` (no compatibility facts needed).

Codes: unpinned-critical, pip-stub-needs-nvidia-index, deprecated-package, onnxruntime-gpu-cuda,
conda-pip-duplicate, channel-none, prefix-set, pip-index-option, pip-option. Each rule takes the checker
(``envkit.validate.evidence.RuleContext``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from envkit.config import redact_text as redact
from envkit.envfile import EnvFile
from envkit.validate.evidence_model import CUDA, CUDNN, TRT, RuleContext, of
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


# pip packages whose release decides the CUDA (and cuDNN) they need: unpinned, the CUDA floats with releases
_CUDA_FRAMEWORKS = {
    "torch": "each torch release on PyPI is built for its own CUDA (2.8-2.10: 12.8, 2.11+: 13.0)",
    "onnxruntime-gpu": "onnxruntime-gpu 1.19+ on PyPI is a CUDA 12 / cuDNN 9 build, 1.27+ a CUDA 13 build",
    "tensorrt-llm": "each TensorRT-LLM release pins its own TensorRT, torch and CUDA",
    "tensorflow": "each TensorFlow release is built for its own CUDA",
    "jax": "jax[cuda] follows the newest jaxlib CUDA plugin",
}


def unpinned(ctx: RuleContext) -> None:
    _unpinned_frameworks(ctx)
    names = {CUDA: "CUDA", CUDNN: "cuDNN", TRT: "TensorRT"}
    for comp, origins in _DIRECT.items():
        evs = of(ctx.ev, comp)
        if any(e.version or e.pinned for e in evs if e.origin not in ("trt-suffix", "cudnn-suffix", "pip-suffix")):
            continue
        for e in of(ctx.ev, comp, origins):
            if any(f.line == e.line and f.code == "route-expected-to-fail" for f in ctx.findings):
                continue  # the route is the problem, not the missing pin
            how = f"is open-ended ({e.spec})" if e.spec else "is not pinned"
            ctx.add("warning", e.line, "unpinned-critical",
                    f"{e.source} {how}: the {names[comp]} version is whatever the solver finds newest on the day "
                    "the environment is built", _pin_hint(ctx, comp, e.package, e.manager))


def _pin_hint(ctx: RuleContext, comp: str, package: str, manager: str) -> str:
    op = "==" if manager == "pip" else "="
    if comp == CUDNN:
        return (f"pin the cuDNN your framework was built with (its build string says, e.g. *cudnn8.9*): "
                f"{package}{op}X.Y")
    return f"pin a version: {package}{op}X.Y"


def _unpinned_frameworks(ctx: RuleContext) -> None:
    gpu = bool(of(ctx.ev, CUDA)) or any("pytorch.org/whl/cu" in (d.option or "") or "pypi.nvidia.com" in
                                         (d.option or "") for d in ctx.env.pip)
    for d in ctx.env.pip:
        if d.name in _CUDA_FRAMEWORKS and not d.pinned_version and (gpu or d.name in ("onnxruntime-gpu", "tensorrt-llm")):
            how = f"is open-ended ({d.specifier})" if d.specifier else "is not pinned"
            ctx.add("warning", d.line, "unpinned-critical", f"{d.raw.strip()} {how}: {_CUDA_FRAMEWORKS[d.name]}, so "
                    "the CUDA of this environment changes with the next release", f"pin it: {d.name}==X.Y.Z")


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
        has_cuda = any(e.origin != "pypi-default" for e in of(ctx.ev, CUDA))
        has_cudnn = bool(of(ctx.ev, CUDNN))
        if not has_cuda or not has_cudnn:
            missing = "CUDA and cuDNN" if not has_cuda else "cuDNN"
            ctx.add("info", ort[0].line, "onnxruntime-gpu-cuda",
                    f"{ort[0].raw.strip()} needs the {missing} libraries at run time and does not bring them; "
                    f"this environment provides no {missing}", _ort_hint(ort[0].pinned_version))


_INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host", "--no-index")
_LOCAL_OPTIONS = ("-e", "--editable", "-r", "--requirement", "-c", "--constraint")


def pip_options(ctx: RuleContext) -> None:
    """Every option in the pip section is a finding: create passes it to pip as it is. Index and trust options
    decide where code comes from (a warning; the extra indexes the matrix names for NVIDIA and PyTorch are fine);
    -e, -r, -c and local paths are reported by pip-unseen."""
    known = {urlparse(u).netloc for u in ctx.m.pip_indexes.values() if u} | {"download.pytorch.org"}
    for d in ctx.env.pip:
        text = (d.option or "").strip()
        if not text:
            continue  # requirements and local paths (pip-unseen says what validate cannot see in those)
        flag, _, value = text.replace("=", " ", 1).partition(" ")
        value = value.strip().strip("'\"")
        if flag in _INDEX_OPTIONS:
            host = urlparse(value).hostname or redact(value)
            if flag in ("--extra-index-url", "--find-links", "-f") and host in known:
                continue  # the indexes the matrix names for NVIDIA's and PyTorch's wheels
            what = ("turns off TLS verification for" if flag == "--trusted-host"
                    else "replaces PyPI with" if flag in ("--index-url", "-i")
                    else "stops pip from using any index" if flag == "--no-index" else "lets pip install from")
            ctx.add("warning", d.line, "pip-index-option", f"{redact(text)}: {what} {host or 'the given place'}",
                    "keep it only if you trust that index; a profile can forbid pip options (pip_options: forbid)")
        elif flag not in _LOCAL_OPTIONS:  # -e, -r, -c: pip-unseen reports what validate cannot see in them
            ctx.add("info", d.line, "pip-option", f"{redact(text)}: passed to pip as it is", "")


def _ort_hint(version: str | None) -> str:
    from envkit.validate.facts import ort_pypi_cuda

    cuda = ort_pypi_cuda(version) if version else None
    if cuda is None:
        return "add the CUDA and cuDNN its release was built for (conda cuda-version/cudnn or pip nvidia-*-cuNN)"
    major = cuda.split(".")[0]
    line = V(version or "0").release[:2]
    dnn = "9" if line >= (1, 19) else ("8" if line >= (1, 5) else "7")  # ORT_SOURCE table
    return (f"onnxruntime-gpu {version} is a CUDA {cuda} build: add CUDA {major}.x and cuDNN {dnn}.x (conda "
            f"cudatoolkit/cuda-version and cudnn, or pip nvidia-*-cu{major} wheels) or rely on the system's")


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
