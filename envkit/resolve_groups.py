"""The advice part of resolve: rejections grouped by cause, and for each cause that alone blocks a
newer stack, the one change that unlocks it; the closest miss and what to change when nothing fits.

Works on the ``Resolution`` that ``envkit.resolve.resolve_profile`` built; no I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.versions import V

if TYPE_CHECKING:
    from envkit.host.model import HostInfo
    from envkit.matrix.model import Matrix
    from envkit.profile import Profile
    from envkit.resolve_model import Rejected, Resolution


@dataclass
class Group:
    key: str
    kind: str
    title: str
    count: int
    newest: str  # label of the newest candidate with this cause
    unlock: str | None = None  # "add `nvidia` to pip_indexes: TensorRT 11.4.0.106 with CUDA 13.0"

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.key, "kind": self.kind, "title": self.title, "count": self.count,
                "newest": self.newest, "unlock": self.unlock}


def _order(r: Rejected) -> tuple[Any, Any]:
    return V(r.candidate["tensorrt"]), V(r.candidate["cuda"])


def _title(key: str, kind: str, sample: str, prof: Profile, host: HostInfo | None) -> str:
    if kind == "driver" and host is not None:
        if host.driver_version:
            return f"driver {host.driver_version} is too old for the candidate's CUDA"
        return f"the machine runs CUDA {host.effective_cuda() or '?'} at most"
    if key.startswith("gpu:"):
        return f"GPU compute capability {key[4:]} is outside what TensorRT/CUDA support"
    if key == "cudnn":
        return "no cuDNN in the matrix for the candidate's CUDA"
    if key == "python":
        return f"no TensorRT wheel for the profile's Python {prof.python}"
    if key.startswith("route:"):
        return f"needs {key[6:]}"
    if key.startswith("expected-to-fail:"):
        return f"only route {key[17:]} is expected to fail"
    if key.startswith("no-route:"):
        return f"no route ships it for CUDA {key[9:]}"
    if key.startswith("precision:"):
        return f"{key[10:].upper()} needs a newer GPU"
    return sample


def group_rejections(res: Resolution, prof: Profile, host: HostInfo | None) -> list[Group]:
    """One group per cause, largest first; ``unlock`` for a cause that alone blocks a stack newer than the chosen."""
    newer_than = _order_of_chosen(res)
    groups: dict[str, Group] = {}
    driver_only: list[Rejected] = []
    for rej in res.rejected:  # newest first
        keys = {c.key for c in rej.causes}
        for cause in rej.causes:
            if cause.kind == "older":
                continue
            g = groups.get(cause.key)
            if g is None:
                g = groups[cause.key] = Group(cause.key, cause.kind, _title(cause.key, cause.kind, cause.text, prof, host),
                                              0, rej.label())
            elif cause.key in {c.key for c in rej.causes[: rej.causes.index(cause)]}:
                continue  # the same cause twice in one candidate (two GPUs) counts once
            g.count += 1
            alone = keys == {cause.key}
            newer = newer_than is None or _order(rej) > newer_than
            if alone and newer and cause.key == "driver":
                driver_only.append(rej)
            elif alone and newer and g.unlock is None and cause.unlock:
                g.unlock = f"{cause.unlock}: {rej.label()}"
    if driver_only and "driver" in groups:
        groups["driver"].unlock = _driver_unlock(driver_only)
    return sorted(groups.values(), key=lambda g: (-g.count, g.key))


def _need(r: Rejected) -> str:
    """The driver a driver-only candidate needs, as the matrix writes it ("580.65.06")."""
    text = next((c.unlock for c in r.causes if c.key == "driver" and c.unlock), None) or ""
    return text.rsplit(">= ", 1)[-1] if ">= " in text else ""


def _drv(text: str) -> Any:
    try:
        return V(text)
    except ValueError:
        return V("0")


def _driver_unlock(cands: list[Rejected]) -> str | None:
    """The cheapest driver that unlocks a newer stack, and the one the newest stack needs."""
    usable = [r for r in cands if _need(r)]
    if not usable:
        return None
    newest, cheapest = usable[0], min(usable, key=lambda r: _drv(_need(r)))
    text = f"driver >= {_need(cheapest)}: {cheapest.label()}"
    if _need(newest) != _need(cheapest):
        text += f"; >= {_need(newest)}: {newest.label()}"
    return text


def _order_of_chosen(res: Resolution) -> tuple[Any, Any] | None:
    if res.chosen is None:
        return None
    return V(res.chosen.tensorrt), V(res.chosen.cuda)


_EFFORT = {"profile": 1, "python": 1, "precision": 1, "driver": 2, "route": 2, "gpu": 5, "matrix": 5}


def advise(res: Resolution, prof: Profile, matrix: Matrix, host: HostInfo | None) -> None:
    res.groups = group_rejections(res, prof, host)
    res.suggestions = [g.unlock for g in res.groups if g.unlock]
    if res.chosen is None:
        _explain_failure(res, prof, matrix, host)


def _driver_needed(matrix: Matrix, r: Rejected) -> str | None:
    rel = matrix.cuda_release(r.candidate["cuda"])
    return rel.min_driver.get("linux") if rel else None


def _or(res: Resolution) -> str:
    return "or " if res.suggestions else ""


def _explain_failure(res: Resolution, prof: Profile, matrix: Matrix, host: HostInfo | None) -> None:
    """Nothing fits: the cheapest driver that unlocks a stack, the closest stack outside the profile's pins,
    the TensorRT releases that support this GPU; the closest miss."""
    candidates = res.rejected + res.outside
    if not candidates:
        return
    res.suggestions = []
    by_kinds: dict[frozenset[str], list[Rejected]] = {}
    for r in sorted(candidates, key=_order, reverse=True):
        by_kinds.setdefault(frozenset(r.kinds), []).append(r)
    driver_only = by_kinds.get(frozenset({"driver"}), [])
    if driver_only and host is not None and host.driver_version:
        newest = driver_only[0]
        cheapest = min(driver_only, key=lambda r: V(_driver_needed(matrix, r) or "0"))
        text = f"upgrade the driver to >= {_driver_needed(matrix, cheapest)} (enables {cheapest.label()})"
        if newest is not cheapest:
            text += f"; >= {_driver_needed(matrix, newest)} for the newest, {newest.label()}"
        res.suggestions.append(text)
    profile_only = by_kinds.get(frozenset({"profile"}), [])
    if profile_only:
        unlocks = [c.unlock for c in profile_only[0].causes if c.unlock]
        res.suggestions.append(f"{_or(res)}{' and '.join(unlocks)} ({profile_only[0].label()} fits this machine)")
    profile_driver = by_kinds.get(frozenset({"profile", "driver"}), [])
    if profile_driver and not profile_only and host is not None:
        r = profile_driver[0]
        unlocks = [c.unlock for c in r.causes if c.unlock and c.kind == "profile"]
        res.suggestions.append(f"{_or(res)}{' and '.join(unlocks)} and upgrade the driver to >= "
                               f"{_driver_needed(matrix, r)} ({r.label()} supports this GPU)")
    for g in res.groups:
        if g.unlock and g.kind not in ("driver",):
            res.suggestions.append(f"{_or(res)}{g.unlock}")
    if not driver_only and not profile_only and any("gpu" in r.kinds for r in candidates) and host is not None:
        low = host.min_compute_capability()
        fits = [t.version for t in matrix.tensorrt
                if low and not t.legacy and t.arch_verdict(low) == "supported"]
        if fits:
            res.suggestions.append(
                f"this GPU (compute capability {low}) is outside what the profile's TensorRT supports; "
                f"TensorRT {', '.join(fits)} support it"
            )
    # the closest miss: the newest candidate that is cheapest to fix (a profile edit < a driver or channel
    # change < new hardware or a missing package)
    res.closest = min(sorted(candidates, key=_order, reverse=True),
                      key=lambda r: sum(_EFFORT.get(k, 3) for k in r.kinds))
    if not res.suggestions:
        res.suggestions.append(f"see why each candidate was rejected: envkit resolve {prof.name} --all")
