"""Matrix questions an explain entry may ask, and the normalisation of the facts it reads.

Every answer is read from the matrix (``envkit.matrix``) or from the facts themselves: nothing here knows a
driver or CUDA version. An answer is present only when it is meaningful, so a fix template that names it is
used only then (the catalogue's alternatives pick the first template whose facts are all known).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.versions import V, is_version, major, major_minor

if TYPE_CHECKING:
    from envkit.explain.catalogue import Catalogue, LibraryFamily
    from envkit.matrix.model import Matrix

Facts = dict[str, str]

# facts of the machine (live or --host) and of the environment (NAME or --prefix), see envkit.explain.context
CONTEXT_FACTS = (
    "machine_driver", "machine_cuda", "machine_gpu", "machine_cc", "machine_gpus",
    "env_ref", "env_prefix", "env_cuda", "env_tensorrt", "env_cudnn", "env_python", "env_smoke_failed",
)


@dataclass
class Context:
    """What a question may read besides the facts: the matrix (loaded on first use) and the catalogue."""

    catalogue: Catalogue
    matrix_loader: Callable[[], Matrix | None]
    _matrix: Any = field(default=None, init=False)
    _loaded: bool = field(default=False, init=False)

    @property
    def matrix(self) -> Matrix | None:
        if not self._loaded:
            self._matrix = self.matrix_loader()
            self._loaded = True
        return self._matrix


# -- fact normalisation ---------------------------------------------------------------------------------


def normalise(kind: str, value: str) -> str | None:
    """A raw capture -> the fact's canonical text; None drops it (the capture was not what the type says)."""
    v = value.strip().strip("'\"`")
    if kind == "text" or kind == "list":
        return " ".join(v.split())[:300] or None
    if kind == "int":
        return v if v.isdigit() else None
    if kind == "version":
        v = re.sub(r"^\((.*)\)$", r"\1", v).replace(", ", ".").replace(",", ".").lstrip("vV").rstrip(".")
        return v if is_version(v) else None
    if kind == "cc":
        return v if re.fullmatch(r"\d{1,2}\.\d", v) else None
    if kind == "sm":
        m = re.fullmatch(r"(?:sm_?|compute_)?(\d{1,2})(\d)[a-z]?", v)
        return f"{m.group(1)}.{m.group(2)}" if m else None
    if kind == "cuda_api":  # 11040 -> 11.4 (CUDA_VERSION encoding: 1000*major + 10*minor)
        if not v.isdigit() or len(v) < 4:
            return None
        n = int(v)
        return f"{n // 1000}.{(n % 1000) // 10}"
    if kind == "trt_code":  # 8600 -> 8.6.0, 100300 -> 10.3.0 (NV_TENSORRT_VERSION encodings)
        if not v.isdigit():
            return None
        n = int(v)
        if n >= 100000:
            return f"{n // 10000}.{(n % 10000) // 100}.{n % 100}"
        return f"{n // 1000}.{(n % 1000) // 100}.{n % 100}"
    if kind == "pyver":  # "3.13", "312" (C:\\Python312), "38" -> "3.13", "3.12", "3.8"
        m = re.fullmatch(r"3\.?(\d{1,2})", v)
        return f"3.{int(m.group(1))}" if m else None
    if kind == "cuda_tag":  # cu116, cuda112, 112, 12.1 -> 11.6, 11.2, 11.2, 12.1
        m = re.fullmatch(r"(?:cu|cuda)?(\d{2})(\d)", v) or re.fullmatch(r"(?:cu|cuda)?(\d{1,2})\.(\d)[\d.*]*", v)
        return f"{int(m.group(1))}.{m.group(2)}" if m else None
    if kind == "lib":
        return v.rstrip(".:,;)") or None
    return v or None


# -- shared libraries ----------------------------------------------------------------------------------

_SO = re.compile(r"^(?:lib)?(?P<stem>[A-Za-z_+]+?)(?:64)?(?:_(?P<dll>\d+))?\.(?:so(?:\.(?P<so>\d+)[\d.]*)?|dll|dylib)$")


def parse_library(name: str, families: list[LibraryFamily]) -> tuple[LibraryFamily | None, int | None]:
    """``libcudnn_ops_infer.so.8`` -> (cudnn family, 8); ``cudart64_110.dll`` -> (cudart, 11)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    m = _SO.match(base)
    if not m:
        return None, None
    stem = m.group("stem").lower()
    fam = None
    for f in families:
        if any(stem == s or stem.startswith(s + "_") for s in f.stems):
            fam = f
            break
    num: int | None = None
    if m.group("so"):
        num = int(m.group("so"))
    elif m.group("dll"):
        digits = m.group("dll")
        num = int(digits[:-1]) if fam is not None and fam.dll_digits == "cuda" and len(digits) >= 2 else int(digits)
    return fam, num


def _lib_answers(prefix: str, name: str | None, facts: Facts, ctx: Context) -> Facts:
    if not name:
        return {}
    fam, num = parse_library(name, ctx.catalogue.libraries)
    if fam is None:
        return {}
    out: Facts = {f"{prefix}_family": fam.family, f"{prefix}_component": fam.component}
    if num is not None:
        out[f"{prefix}_major"] = str(num)
    if fam.component == "driver":
        out[f"{prefix}_driver"] = name
        return out
    cuda_major = _env_cuda_major(facts)
    m = ctx.matrix
    pips: list[tuple[str, str]] = []  # (requirement, "CUDA 12" or "")
    conda: str | None = None
    if m is not None and num is not None:
        if fam.component == "cudnn":
            pips, conda = _cudnn_packages(m, num, cuda_major)
        elif fam.component == "tensorrt":
            pips, lines = _trt_packages(m, num, cuda_major)
            if lines:
                out[f"{prefix}_trt_lines"] = lines
        elif fam.component == "cuda":
            pips, conda = _cuda_packages(m, fam, num, name)
    unique = list(dict.fromkeys(pips))
    if unique:
        out[f"{prefix}_pip"] = " or ".join(
            f"`python -m pip install '{req}'`" + (f" ({label})" if label and len(unique) > 1 else "") for req, label in unique)
    if conda:
        out[f"{prefix}_conda"] = "`conda install -c conda-forge " + " ".join(f"'{c}'" for c in conda.split()) + "`"
    return out


def _cudnn_packages(m: Matrix, num: int, cuda_major: int | None) -> tuple[list[tuple[str, str]], str | None]:
    rels = sorted((r for r in m.cudnn if major(r.version) == num), key=lambda r: V(r.version))
    maps: dict[str, str] = {}
    for r in rels:
        maps.update(r.pip)
    keys = [f"cu{cuda_major}"] if cuda_major and f"cu{cuda_major}" in maps else sorted(maps, reverse=True)
    pips = [(f"{maps[k]}=={num}.*", f"CUDA {k[2:]}") for k in keys]
    conda = next((f"{r.conda['package']}={num}" for r in rels if r.conda and r.conda.get("package")), None)
    return pips, conda


def _trt_packages(m: Matrix, num: int, cuda_major: int | None) -> tuple[list[tuple[str, str]], str | None]:
    rels = sorted((r for r in m.tensorrt if r.major == num), key=lambda r: V(r.version), reverse=True)
    if not rels:
        return [], None
    lines = f"{rels[-1].version}-{rels[0].version}" if len(rels) > 1 else rels[0].version
    newest = rels[0]
    pips: list[tuple[str, str]] = []
    for route in newest.routes:
        if not route.pip:
            continue
        majors = [cuda_major] if cuda_major is not None and cuda_major in route.cuda_majors else list(route.cuda_majors)
        for cm in sorted(set(majors), reverse=True):
            vals = newest.template_values(f"{cm}.0")
            pips.extend((p.format(**vals), f"CUDA {cm}" if len(majors) > 1 else "") for p in route.pip)
        break
    return pips, lines


def _cuda_packages(m: Matrix, fam: LibraryFamily, num: int, name: str) -> tuple[list[tuple[str, str]], str | None]:
    """The CUDA runtime from the matrix's cuda_majors; the other CUDA libraries from envkit.libs.families."""
    if fam.family == "cudart":
        cm = m.cuda_majors.get(num)
        if cm is None:
            return [], None
        return ([(p.format(version=str(num)), "") for p in cm.pip_packages],
                " ".join(p.format(version=str(num)) for p in cm.conda_packages))
    from envkit.libs.families import providers

    found = providers(name if ".so" in name else f"lib{fam.family}.so.{num}", num if num in m.cuda_majors else None)
    pips = [(p.package, "") for p in found if p.ecosystem == "pypi"]
    conda = next((p.package for p in found if p.ecosystem == "conda-forge"), None)
    return pips, conda


def _env_cuda_major(facts: Facts) -> int | None:
    for key in ("env_cuda", "needs_cuda"):
        v = facts.get(key)
        if v and is_version(v):
            return major(v)
    return None


# -- the questions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    answers: tuple[str, ...]
    func: Callable[[Facts, Context], Facts]
    doc: str


def _first(facts: Facts, *names: str) -> str | None:
    for n in names:
        v = facts.get(n)
        if v:
            return v
    return None


def q_driver_limits(facts: Facts, ctx: Context) -> Facts:
    """The driver (message, nvidia-smi header in the log, or the machine) and the newest CUDA it runs."""
    out: Facts = {}
    m = ctx.matrix
    driver = _first(facts, "driver", "smi_driver", "machine_driver")
    supported = _first(facts, "driver_cuda", "have_cuda", "smi_cuda", "machine_cuda")
    if driver and is_version(driver):
        out["driver_version"] = driver
    if supported and is_version(supported):
        out["driver_supports_cuda"] = major_minor(supported)
    if m is None:
        return out
    runnable = []
    for rel in m.cuda:
        need = rel.min_driver.get("linux")
        by_driver = bool(driver and is_version(driver) and need and V(driver) >= V(need))
        by_cuda = bool(not driver and supported and is_version(supported)
                       and V(rel.version) <= V(major_minor(supported)))
        if by_driver or by_cuda:
            runnable.append(rel.version)
    if runnable:
        out["driver_newest_cuda"] = max(runnable, key=V)
    elif driver or supported:
        out["driver_below_matrix"] = f"CUDA {m.cuda[0].version}" if m.cuda else "any CUDA release envkit knows"
    return out


def q_needed_cuda(facts: Facts, ctx: Context) -> Facts:
    """The CUDA the failing program needs (message or environment) and the drivers the matrix gives for it."""
    need = _first(facts, "needs_cuda", "env_cuda")
    m = ctx.matrix
    if not need or not is_version(need) or m is None:
        return {}
    need = major_minor(need)
    out: Facts = {"cuda_needed": need}
    rel = m.cuda_release(need)
    driver = _first(facts, "driver", "smi_driver", "machine_driver")
    if rel is not None and rel.min_driver.get("linux"):
        ga = rel.min_driver["linux"]
        if not (driver and is_version(driver) and V(driver) >= V(ga)):  # never "upgrade" to what is there
            out["cuda_ga_driver"] = ga
    later = sorted((r for r in m.cuda if V(r.version) >= V(need) and r.min_driver.get("linux")), key=lambda r: V(r.version))
    if later and rel is None:
        out["cuda_next_release"] = later[0].version
        out["cuda_next_driver"] = later[0].min_driver["linux"]
    compat = m.minor_compat_driver(need)
    if compat:
        out["cuda_compat_driver"] = compat
    cm = m.cuda_majors.get(major(need))
    if cm is not None:
        specs = [p.format(version=need) for p in cm.conda_packages]
        if any(p.startswith("cudatoolkit") for p in specs):
            out["cuda_cudatoolkit_spec"] = " ".join(specs)
        else:
            out["cuda_conda_specs"] = " ".join(specs)
    return out


def q_cc_needs(facts: Facts, ctx: Context) -> Facts:
    """The GPU's compute capability (message, GPU name, machine) and the oldest CUDA that compiles for it."""
    m = ctx.matrix
    cc = _first(facts, "cc", "machine_cc")
    gpu = _first(facts, "gpu", "machine_gpu")
    out: Facts = {}
    if not cc and gpu and m is not None:
        cc = m.compute_capability_for(gpu)
    if not cc or not is_version(cc):
        return out
    out["gpu_cc"] = cc
    out["gpu_sm"] = "sm_" + cc.replace(".", "")
    if m is None:
        return out
    able = sorted((r for r in m.cuda if r.max_compute_capability and V(r.max_compute_capability) >= V(cc)
                   and V(m.cuda_min_cc(r) or "0") <= V(cc)), key=lambda r: V(r.version))
    if able:
        out["cc_min_cuda"] = able[0].version
        if able[0].min_driver.get("linux"):
            out["cc_min_driver"] = able[0].min_driver["linux"]
    trt = sorted((t for t in m.tensorrt if V(t.min_compute_capability) <= V(cc)
                  and (t.max_compute_capability is None or V(t.max_compute_capability) >= V(cc))), key=lambda t: V(t.version))
    if trt:
        out["cc_trt_lines"] = f"{trt[0].version}-{trt[-1].version}" if len(trt) > 1 else trt[0].version
    return out


def q_library(facts: Facts, ctx: Context) -> Facts:
    """What the library named in the message is (family, major) and the package that provides it (matrix)."""
    return _lib_answers("lib", facts.get("lib"), facts, ctx)


def q_missing_library(facts: Facts, ctx: Context) -> Facts:
    """The same for the dependency the loader could not find (``Error: libcuda.so: cannot open``)."""
    return _lib_answers("missing", facts.get("missing"), facts, ctx)


def q_trt_python(facts: Facts, ctx: Context) -> Facts:
    """Whether the matrix lists the Python for the TensorRT version, and the TensorRT lines that have it."""
    m = ctx.matrix
    py = _first(facts, "python", "env_python")
    trt = _first(facts, "trt_version", "env_tensorrt")
    if m is None or not py or not is_version(py):
        return {}
    py = major_minor(py)
    out: Facts = {}
    rel = m.tensorrt_release(trt) if trt and is_version(trt) else None
    if rel is not None and rel.python:
        out["trt_pythons"] = f"{rel.python[0]}-{rel.python[-1]}"
        if py not in rel.python:
            out["python_unsupported"] = py
    having = sorted((t.version for t in m.tensorrt if py in t.python), key=V)
    if having:
        out["python_trt_lines"] = f"{having[0]}-{having[-1]}" if len(having) > 1 else having[0]
    elif rel is not None or trt is None:
        out["python_no_trt"] = py
    return out


def q_platform(facts: Facts, ctx: Context) -> Facts:
    """Whether the platform the solver ran for has CUDA at all (the catalogue's no_cuda_platforms)."""
    plat = _first(facts, "platform", "channel_platform")
    if plat and plat in ctx.catalogue.no_cuda_platforms:
        return {"no_cuda_platform": plat}
    return {}


def q_environment(facts: Facts, ctx: Context) -> Facts:
    """The environment's TensorRT/CUDA as a phrase, when an environment was named."""
    out: Facts = {}
    if facts.get("env_ref"):
        parts = [f"{k} {facts[f'env_{k}']}" for k in ("tensorrt", "cuda", "cudnn", "python") if facts.get(f"env_{k}")]
        if parts:
            out["env_stack"] = ", ".join(parts)
    return out


QUESTIONS: dict[str, Question] = {
    "driver_limits": Question(("driver_version", "driver_supports_cuda", "driver_newest_cuda", "driver_below_matrix"),
                              q_driver_limits, q_driver_limits.__doc__ or ""),
    "needed_cuda": Question(("cuda_needed", "cuda_ga_driver", "cuda_next_release", "cuda_next_driver",
                             "cuda_compat_driver", "cuda_cudatoolkit_spec", "cuda_conda_specs"),
                            q_needed_cuda, q_needed_cuda.__doc__ or ""),
    "cc_needs": Question(("gpu_cc", "gpu_sm", "cc_min_cuda", "cc_min_driver", "cc_trt_lines"),
                         q_cc_needs, q_cc_needs.__doc__ or ""),
    "library": Question(("lib_family", "lib_component", "lib_major", "lib_driver", "lib_pip", "lib_conda",
                         "lib_trt_lines"), q_library, q_library.__doc__ or ""),
    "missing_library": Question(("missing_family", "missing_component", "missing_major", "missing_driver",
                                 "missing_pip", "missing_conda", "missing_trt_lines"),
                                q_missing_library, q_missing_library.__doc__ or ""),
    "trt_python": Question(("trt_pythons", "python_unsupported", "python_trt_lines", "python_no_trt"),
                           q_trt_python, q_trt_python.__doc__ or ""),
    "platform": Question(("no_cuda_platform",), q_platform, q_platform.__doc__ or ""),
    "environment": Question(("env_stack",), q_environment, q_environment.__doc__ or ""),
}
