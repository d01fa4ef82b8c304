"""``--live``: run the static model's probes in the environment's own Python and compare.

For each probe the payload (payload_libs.py) forks, imports the preloaders, calls ``ctypes.CDLL``
and reports the files the probe added to the process (/proc/self/maps) and the loader's error.
Prediction and reality agree when the same files were added (real paths; the interpreter's own
extension modules aside) and both failed or both succeeded, naming the same missing library.
The driver's libraries (libcuda, libnvidia-*) are set apart: cuBLAS, cuSOLVER, cuDNN's engines and
PyTorch open libcuda.so.1 with their own dlopen while they initialise (seen on the H200 machine,
docs/libs.md), which no ELF field states; they are listed as ``runtime_loaded``, not as differences.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from envkit.libs.families import family_of
from envkit.libs.scan import PAYLOAD, Env, Probe

_MISSING = re.compile(r"^(\S+?): cannot open shared object file")


@dataclass
class Difference:
    probe: str
    predicted: dict[str, Any]
    observed: dict[str, Any]
    what: str

    def to_json(self) -> dict[str, Any]:
        return {"probe": self.probe, "what": self.what, "predicted": self.predicted, "observed": self.observed}


@dataclass
class LiveResult:
    probes: int = 0
    agree: int = 0
    differences: list[Difference] = field(default_factory=list)
    observed: list[dict[str, Any]] = field(default_factory=list)
    runtime_loaded: dict[str, list[str]] = field(default_factory=dict)  # probe -> driver libraries it dlopen'ed

    def to_json(self) -> dict[str, Any]:
        return {"probes": self.probes, "agree": self.agree, "differences": [d.to_json() for d in self.differences],
                "runtime_loaded": self.runtime_loaded, "observed": self.observed}


def run_live(env: Env, environ: dict[str, str], timeout: float = 600.0) -> LiveResult:
    from envkit import proc
    from envkit.errors import HostError

    if env.python is None:
        raise HostError(f"{env.prefix}: no Python in the environment to run --live with",
                        "give one with --python PY, or run without --live (the static answer)")
    plan = json.dumps({"probes": [p.plan() for p in env.probes]})
    r = proc.run([str(env.python), str(PAYLOAD), "--probes", plan], timeout=timeout, env=environ)
    try:
        data = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else None
    except ValueError:
        data = None
    if not r.ok or not isinstance(data, dict):
        raise HostError(f"{env.python}: the --live payload failed ({r.describe()})",
                        (r.stderr.strip().splitlines() or ["run it by hand with " + str(PAYLOAD)])[-1])
    observed = {str(o.get("id")): o for o in data.get("probes") or [] if isinstance(o, dict)}
    return compare(env, observed)


def _python_own(env: Env) -> tuple[str, ...]:
    dirs = [env.info.get(k) for k in ("stdlib", "platstdlib")]
    return tuple(os.path.realpath(d).rstrip("/") + "/" for d in dirs if d)


def compare(env: Env, observed: dict[str, dict[str, Any]]) -> LiveResult:
    own = _python_own(env)
    out = LiveResult()
    for probe in env.probes:
        seen = observed.get(probe.id)
        out.probes += 1
        if seen is None:
            out.differences.append(Difference(probe.id, {}, {}, "the payload did not run this probe"))
            continue
        out.observed.append(seen)
        runtime = _runtime_loaded(seen)
        if runtime:
            out.runtime_loaded[probe.id] = runtime
        what = _differ(probe, seen, own)
        if what is None:
            out.agree += 1
        else:
            out.differences.append(Difference(probe.id, _predicted(probe), _observed(seen), what))
    return out


def _predicted(probe: Probe) -> dict[str, Any]:
    r = probe.result
    return {"added": sorted({o.real for o in probe.mapped()}), "error": r.error if r else None}


def _observed(seen: dict[str, Any]) -> dict[str, Any]:
    return {"added": sorted({os.path.realpath(p) for p in seen.get("added") or []}), "error": seen.get("error")}


def _runtime_loaded(seen: dict[str, Any]) -> list[str]:
    """Files a probe mapped that no loader rule predicts: the driver's libraries and device nodes."""
    return sorted({p for p in seen.get("added") or [] if p.startswith("/dev/") or family_of(p) == "driver"})


def _differ(probe: Probe, seen: dict[str, Any], own: tuple[str, ...]) -> str | None:
    """None when prediction and observation agree, else what differs."""
    runtime = set(_runtime_loaded(seen))
    every_obs = {os.path.realpath(p) for p in seen.get("added") or []}
    pred_all = {o.real for o in probe.mapped() if not o.real.startswith(own)}
    # a driver library the prediction names (a NEEDED libcuda.so.1) must have been mapped; one it does not name
    # may have been opened by a library's own dlopen (runtime_loaded)
    unseen_driver = sorted(p for p in pred_all if family_of(p) == "driver" and p not in every_obs)
    if unseen_driver:
        return f"predicted {', '.join(unseen_driver)}, not mapped"
    pred = {p for p in pred_all if family_of(p) != "driver"}
    obs = {p for p in every_obs if p not in {os.path.realpath(r) for r in runtime} and not p.startswith(own)}
    r = probe.result
    pred_err, obs_err = (r.error if r else None), seen.get("error")
    if bool(pred_err) != bool(obs_err):
        return f"predicted {'failure' if pred_err else 'success'}, observed {'failure' if obs_err else 'success'}"
    if pred_err and obs_err:
        m = _MISSING.match(str(obs_err))
        if r and r.missing and m and os.path.basename(m.group(1)) != os.path.basename(r.missing):
            return f"predicted {r.missing} missing, the loader said {m.group(1)}"
        return None  # both failed (nothing stays mapped after a failed dlopen)
    if pred != obs:
        only_p, only_o = sorted(pred - obs), sorted(obs - pred)
        return "files differ: " + "; ".join(
            ([f"predicted only {', '.join(only_p)}"] if only_p else []) +
            ([f"observed only {', '.join(only_o)}"] if only_o else []))
    return None
