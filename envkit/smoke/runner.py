"""Run the smoke payload with an environment's own Python and turn its JSON into a SmokeReport.

envkit never imports tensorrt, numpy or onnxruntime itself: ``payload.py`` does, in a subprocess
started with the environment's interpreter and activation variables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from envkit.errors import InputError
from envkit.fsutil import find_python
from envkit.proc import ProcResult, run
from envkit.smoke.report import SmokeReport, layer_needed, save_report

PAYLOAD = Path(__file__).resolve().parent / "payload" / "payload.py"
# stripped from the inherited environment: they would make the environment's Python import envkit's packages
_LEAKY_VARS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL")


def read_pins(prefix: Path) -> dict[str, str | None]:
    """The stack pinned at create time: the ``stack`` of the environment's record (``envkit.create.record``)."""
    from envkit.create.record import read_record

    rec = read_record(Path(prefix))
    return dict(rec.stack) if rec is not None else {}


def _rattler_activation(prefix: Path, env: dict[str, str]) -> dict[str, str] | None:
    """Run the prefix's activate.d scripts (``engine.activation``: the prefix is never shell code); None when
    there are none or they fail."""
    activate_d = prefix / "etc" / "conda" / "activate.d"
    if not activate_d.is_dir() or not any(activate_d.iterdir()):
        return None
    bash = shutil.which("bash", path=env.get("PATH"))
    if bash is None:
        return None
    from envkit.engine.activation import activation_script

    try:
        from envkit.engine.activation import activation_script

        script = activation_script(prefix, env.get("PATH", ""))  # every value quoted: never evaluated
        script += '\n"$0" -c \'import json, os; print(json.dumps(dict(os.environ)))\'\n'
        proc = subprocess.run([bash, "-c", script, sys.executable], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        if proc.returncode != 0:
            return None
        activated = json.loads(proc.stdout.strip().splitlines()[-1])
    except Exception:  # activation is best effort: the plain variables below still work
        return None
    return {str(k): str(v) for k, v in activated.items()} if isinstance(activated, dict) else None


def activation_env(prefix: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment variables of an activated prefix.

    CONDA_PREFIX and PATH (prefix/bin first) are set; LD_LIBRARY_PATH is left as it is so that
    stray libraries on it are found and diagnosed, as they would be for the user.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS} if base is None else dict(base)
    prefix = Path(prefix)
    activated = _rattler_activation(prefix, env)  # runs etc/conda/activate.d when there is one
    if activated:
        activated["CONDA_PREFIX"] = str(prefix)
        parts = [p for p in activated.get("PATH", "").split(os.pathsep) if p]
        activated["PATH"] = os.pathsep.join(dict.fromkeys(parts))  # rattler's script may repeat entries
        return activated
    env["CONDA_PREFIX"] = str(prefix)
    env["CONDA_DEFAULT_ENV"] = prefix.name
    env["PATH"] = os.pathsep.join([str(prefix / "bin"), *[p for p in env.get("PATH", "").split(os.pathsep) if p]])
    return env


def _payload_failure(reason: str, diagnosis: str, fix: str, stderr: str = "", seconds: float = 0.0) -> dict[str, Any]:
    tail = "\n".join(stderr.strip().splitlines()[-20:])
    return {
        "name": "payload", "status": "fail", "reason": reason, "seconds": round(seconds, 3),
        "versions": {}, "diagnosis": diagnosis, "fix": fix, "stderr_tail": tail,
    }


def _no_python(prefix: Path) -> dict[str, Any]:
    """The failed payload layer of a prefix without an interpreter: an environment without Python says so
    (and how to add one); a directory that is no environment says that."""
    if not (prefix / "conda-meta").is_dir():
        return _payload_failure(
            f"no Python interpreter in {prefix}",
            f"{prefix} is not a conda environment (no conda-meta/): it is missing or incomplete",
            "create it with `envkit create NAME` (or `--force` to rebuild), or pass --python EXE",
        )
    from envkit.create.record import read_record

    rec = read_record(prefix)
    env_file = rec.env_file if rec is not None else None
    where = f"add `- python` to the dependencies of {env_file}" if env_file else "add `python` to its dependencies"
    return _payload_failure(
        f"the environment {prefix} has no Python",
        "the smoke test runs inside the environment's own Python, and this environment installs none "
        "(no python package in conda-meta/)",
        f"{where} and run `envkit create` again with --force, or smoke it with --python EXE",
    )


def parse_payload_output(stdout: str) -> dict[str, Any] | None:
    """The payload's JSON report: the whole stdout, or else its last line that parses as a JSON object."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for c in candidates:
        c = c.strip()
        if not c.startswith("{"):
            continue
        try:
            data = json.loads(c)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("layers"), list):
            return data
    return None


def smoke_prefix(
    prefix: Path,
    *,
    python: Path | None = None,
    pins: dict[str, str | None] | None = None,
    model: Path | None = None,
    shapes: dict[str, tuple[int, ...]] | None = None,
    cache_dir: Path | None = None,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    save: bool = True,
) -> SmokeReport:
    """Smoke-test the environment at ``prefix`` and return the report (saved to its conda-meta).

    Never raises for a broken environment: a missing interpreter, a crash or a timeout of the payload
    is a failed ``payload`` layer. Raises InputError only for a bad ``model`` argument (no such file).
    """
    prefix = Path(prefix)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.monotonic()
    pins = dict(read_pins(prefix) if pins is None else pins)
    if model is not None and not Path(model).is_file():
        raise InputError(f"no such model file: {model}", "give an existing .onnx file to --model", key="--model")
    # absolute, but symlinks kept: a venv's bin/python must stay the venv's
    exe = Path(os.path.abspath(python)) if python is not None else find_python(prefix)
    report = SmokeReport(prefix=str(prefix), python=str(exe or ""), layers=[], pins=pins, started=started)
    if exe is None:
        report.layers.append(_no_python(prefix))
    else:
        cache = Path(cache_dir) if cache_dir is not None else prefix / "share" / "envkit" / "engines"
        config = {
            "prefix": str(prefix),
            "pins": pins,
            "model": str(Path(model).resolve()) if model is not None else None,
            "shapes": {k: list(v) for k, v in (shapes or {}).items()},
            "cache_dir": str(cache),
        }
        run_env = activation_env(prefix, env)
        argv = [str(exe), str(PAYLOAD), "--config", json.dumps(config)]
        proc = run(argv, timeout=timeout, env=run_env)
        report.layers.extend(_interpret(proc, exe, timeout, report))
    for lay in report.layers:
        lay["needed"] = layer_needed(str(lay.get("name")), lay, pins, model=model is not None)
    report.seconds = time.monotonic() - t0
    if save:
        save_report(report, prefix)
    return report


def _interpret(proc: ProcResult, exe: Path, timeout: float, report: SmokeReport) -> list[dict[str, Any]]:
    if proc.not_found or proc.error:
        return [_payload_failure(
            f"cannot run {exe}",
            f"{exe} could not be started: {proc.error or 'no such file or not executable'}",
            "check the interpreter path (--python) or rebuild the environment with `envkit create --force`",
        )]
    if proc.timed_out:
        return [_payload_failure(
            f"timed out after {timeout:g}s",
            f"the smoke payload did not finish within {timeout:g}s (a hung driver call or a very slow engine build)",
            "raise --timeout, or check the GPU with nvidia-smi", proc.stderr, proc.seconds,
        )]
    data = parse_payload_output(proc.stdout)
    if data is None:
        return [_payload_failure(
            f"payload exited with {proc.returncode} and no JSON report",
            f"the smoke payload crashed under {exe} (exit {proc.returncode}); see stderr_tail",
            "run the payload by hand to see the error: "
            f"{exe} {PAYLOAD} --config '{{}}'",
            proc.stderr, proc.seconds,
        )]
    report.driver = data.get("driver") or {}
    report.gpu = data.get("gpu") or {}
    report.model = data.get("model")
    report.platform = data.get("platform") or {}
    layers = [lay for lay in data["layers"] if isinstance(lay, dict)]
    if proc.returncode not in (0, None):
        layers.append(_payload_failure(
            f"payload exited with {proc.returncode}", "the smoke payload reported but then exited non-zero",
            "run the payload by hand and read its stderr", proc.stderr, proc.seconds,
        ))
    return layers
