"""Smoke payload (placeholder while the layers land): run with the environment's Python."""

from __future__ import annotations

import json
import platform
import sys


def main() -> int:
    report = {"layers": [{"name": "python", "status": "pass", "reason": platform.python_version(), "seconds": 0.0,
                          "versions": {"python": platform.python_version()}}]}
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
