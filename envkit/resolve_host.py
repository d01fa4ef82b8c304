"""The host's causes for rejecting a resolve candidate: the driver (and CONDA_OVERRIDE_CUDA), the GPUs'
compute capabilities, the profile's precisions. Each adds a ``Cause`` to the candidate (envkit.resolve)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envkit.versions import V

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.matrix.model import CudaRelease, Matrix, TensorRTRelease
    from envkit.profile import Profile
    from envkit.resolve_model import Rejected


def driver_causes(host: HostInfo, cuda: CudaRelease, matrix: Matrix, rej: Rejected) -> None:
    need = (cuda.min_driver.get("windows") if host.windows_driver else None) or cuda.min_driver.get("linux")
    if host.driver_version and need:
        try:
            too_old = V(host.driver_version) < V(need)
        except ValueError:
            too_old = False
        if too_old:
            compat = matrix.minor_compat_driver(cuda.version)
            extra = ""
            if compat and V(host.driver_version) >= V(compat):
                extra = f" (minor-version compatibility from {compat} allows only limited use; envkit requires full support)"
            rej.add("driver", "driver", f"CUDA {cuda.version} needs driver >= {need}; this host has "
                    f"{host.driver_version}{extra}", f"driver >= {need}")
            return
    eff = host.effective_cuda()
    if eff:
        try:
            if V(eff).release[:2] < V(cuda.version).release[:2]:
                what = "CONDA_OVERRIDE_CUDA" if host.conda_override_cuda else "the driver"
                rej.add("driver", "driver", f"CUDA {cuda.version} is newer than the CUDA {eff} that {what} supports",
                        f"driver >= {need}" if need and not host.conda_override_cuda else None)
        except ValueError:
            pass


def gpu_causes(host: HostInfo, trt: TensorRTRelease, cuda: CudaRelease, matrix: Matrix, rej: Rejected) -> None:
    for gpu in host.gpus:
        cc = gpu.compute_capability
        if not cc:
            continue
        label = f"GPU {gpu.index} {gpu.name} (compute capability {cc})"
        key = f"gpu:{cc}"
        verdict = trt.arch_verdict(cc)
        if verdict == "too-old":
            rej.add("gpu", key, f"TensorRT {trt.version} needs compute capability >= {trt.min_compute_capability}; {label}")
        elif verdict in ("too-new", "not-listed"):
            rej.add("gpu", key, f"TensorRT {trt.version} does not support compute capability {cc} (its architectures: "
                    f"{', '.join(trt.architectures) or 'up to ' + str(trt.max_compute_capability)}); {label}")
        cverdict = matrix.cuda_arch_verdict(cuda, cc)
        if cverdict == "too-old":
            rej.add("gpu", key, f"CUDA {cuda.version} dropped compute capability < {matrix.cuda_min_cc(cuda)}; {label}")
        elif cverdict in ("too-new", "not-listed"):
            rej.add("gpu", key, f"CUDA {cuda.version} cannot build for compute capability {cc} (newest: "
                    f"{cuda.max_compute_capability}); {label}")


def precision_causes(prof: Profile, host: HostInfo, trt: TensorRTRelease, matrix: Matrix, rej: Rejected) -> None:
    low = host.min_compute_capability()
    if not low:
        return
    for name in prof.precisions:
        if matrix.precision_unsupported(name, trt):
            rej.add("precision", f"precision:{name}", f"TensorRT {trt.version} does not offer {name.upper()} on any GPU",
                    f"drop {name} from precisions, or allow a newer TensorRT")
            continue
        floor = matrix.precision_floor(name, trt)
        if floor and V(low) < V(floor):
            rej.add("precision", f"precision:{name}", f"{name.upper()} needs compute capability >= {floor}; this host "
                    f"has a GPU with {low}", f"drop {name} from precisions")
