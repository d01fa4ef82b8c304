"""resolve on a Jetson: JetPack (L4T) fixes TensorRT, CUDA and cuDNN together, so the answer is the JetPack
stack of the machine's L4T release (or the newest JetPack for its GPU), never a PyPI or conda route: their
aarch64 TensorRT builds are for SBSA servers, not for Jetson."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envkit.matrix.model import Matrix
from envkit.resolve_model import Resolution, Stack
from envkit.versions import in_any

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.profile import Profile


def resolve_jetson(prof: Profile, matrix: Matrix, host: HostInfo) -> Resolution:
    """A Jetson runs the TensorRT of its JetPack release (L4T): answer that stack, never a PyPI/conda route."""
    from envkit.versions import cc_key

    jp = matrix.jetpack_for_l4t(host.l4t) if host.l4t else None
    low = host.min_compute_capability()
    if jp is None and low:
        fits = matrix.jetpacks_for_cc(low)
        jp = fits[0] if fits else None
    res = Resolution(profile=prof.name, chosen=None, rejected=[], outside=[], host_summary=host.summary(),
                     verified=True, notes=[])
    if jp is None:
        res.notes.append(f"Jetson: no JetPack release in the matrix for {(host.l4t and 'L4T ' + host.l4t) or low}")
        return res
    trt = matrix.tensorrt_release(jp.tensorrt)
    res.chosen = Stack(jp.tensorrt, trt.version if trt else jp.tensorrt, jp.cuda, jp.cudnn, jp.python or "3",
                       "jetpack", "unconfirmed" if jp.meta.unconfirmed else "confirmed")
    how = f"L4T {host.l4t}" if host.l4t else f"the newest JetPack for compute capability {low}"
    res.notes.append(f"Jetson: JetPack {jp.version} (L4T {jp.l4t}) fixes TensorRT {jp.tensorrt}, CUDA {jp.cuda}, "
                     f"cuDNN {jp.cudnn or '?'} ({how}); install them with `apt install nvidia-jetpack`, not from "
                     "PyPI or conda (their aarch64 TensorRT wheels are SBSA builds, not for Jetson)")
    if prof.tensorrt and not in_any((prof.tensorrt,), jp.tensorrt):
        res.notes.append(f"the profile asks for TensorRT {prof.tensorrt}; JetPack {jp.version} has {jp.tensorrt}")
    if low and not any(cc_key(c) == cc_key(low) for c in jp.compute_capabilities):
        res.notes.append(f"JetPack {jp.version} does not list compute capability {low}")
    return res
