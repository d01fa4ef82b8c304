"""The bounds on every input envkit reads: sizes, nesting, counts and time limits.

One place, so that docs/security.md can state them and the fuzz tests can check them.
Numbers a person gives (``--timeout``, ``ENVKIT_*_TIMEOUT``) are parsed here too: a value that is
not a finite positive number is an InputError (exit 2), never a traceback or a silent default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from envkit.errors import InputError

# files a person names (environment files, profiles, matrix.yaml, captures, manifests, envkit.toml)
MAX_INPUT_BYTES = 64 * 1024 * 1024
# YAML: nodes after alias expansion, nesting depth, aliases per document
MAX_CAPTURE_BYTES = 8 * 1024 * 1024  # nvidia-smi -q of 8 GPUs is ~100 KiB
MAX_GPUS = 1024  # GPU records in one capture (an 8-GPU node has 8; NVL72 hosts see 4)
MAX_YAML_BYTES = 16 * 1024 * 1024
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 100
# JSON captures, records and manifests
MAX_JSON_DEPTH = 200
# environment names: conda's characters, well under NAME_MAX (255) with room for envkit's ".NAME.envkit-old"
MAX_NAME_LENGTH = 200
# a timeout a person sets: finite, > 0, at most a week
MAX_TIMEOUT_S = 7 * 24 * 3600.0


def seconds(text: str | float, what: str, *, hint: str | None = None, zero_ok: bool = False) -> float:
    """A time limit in seconds: a finite number > 0 (>= 0 with ``zero_ok``) and <= a week, else InputError
    naming ``what``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a number of seconds, got {str(text)[:80]!r}", hint) from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok) or value > MAX_TIMEOUT_S:
        low = ">= 0" if zero_ok else "> 0"
        raise InputError(
            f"{what}: expected a number of seconds {low} and <= {MAX_TIMEOUT_S:g}, got {str(text)[:80]!r}",
            hint or "give a positive number of seconds, e.g. 30",
        )
    return value


def env_seconds(name: str, default: float, environ: Mapping[str, str] | None = None, *, zero_ok: bool = False) -> float:
    """The seconds in environment variable ``name`` (``default`` when unset or empty)."""
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip()
    if not raw:
        return default
    return seconds(raw, f"${name}", hint=f"set {name} to a number of seconds, or unset it", zero_ok=zero_ok)


def json_depth_ok(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the brackets in JSON ``text`` nest at most ``limit`` deep (brackets inside strings are skipped)."""
    import re

    # the strings out, then only the brackets: one pass of C per step, a Python step per bracket only
    brackets = re.sub(r"[^\[\]{}]+", "", re.sub(r'"[^"\\]*(?:\\.[^"\\]*)*"', "", text))
    if brackets.count("[") + brackets.count("{") <= limit:
        return True
    depth = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True


def load_json(text: str | bytes, what: str, *, file: str | None = None) -> object:
    """``json.loads`` with the depth bound: InputError for invalid or too deeply nested JSON."""
    import json

    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if not json_depth_ok(s):
        raise InputError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels", file=file)
    try:
        data = json.loads(s)
        if "\\u" in s:  # an escaped lone surrogate ("\ud800") is not text: nothing could print it later
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data
    except UnicodeEncodeError:
        raise InputError(f"{what} holds a lone UTF-16 surrogate (like \\ud800), which is not text", file=file) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc.msg}", file=file, line=exc.lineno) from None
    except RecursionError:
        raise InputError(f"{what} nests too deeply", file=file) from None
