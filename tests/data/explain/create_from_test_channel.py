"""Helper of make_clean_logs.sh: build the real test channel (tests/channel_factory.py) and run a real
`envkit create` against it (rattler solve + install), printing envkit's own output."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))
from channel_factory import build_channel, env_yaml, file_url, trt_stack  # noqa: E402

work = Path(sys.argv[1])
mode = sys.argv[2]
channel = build_channel(work / "channel", trt_stack())
env_file = env_yaml(work / "environment.yml", [file_url(channel)], ["tensorrt=10.3", "trt-tools"], name="demo")
argv = [str(ROOT / ".venv-test/bin/envkit"), "create", "--file", str(env_file), "--prefix", str(work / "env"),
        "--no-smoke", "--offline"]
if mode == "dry-run":
    argv.append("--dry-run")
env = dict(os.environ, CONDA_OVERRIDE_CUDA="12.4", RATTLER_CACHE_DIR=str(work / "rc"), ENVKIT_CACHE_DIR=str(work / "ec"))
sys.exit(subprocess.run(argv, env=env, check=False).returncode)
