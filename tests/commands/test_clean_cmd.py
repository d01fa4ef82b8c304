"""``envkit clean``: sizes, --dry-run removes nothing, held locks are skipped, nothing foreign is touched."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from envelope import data_of
from envkit_cli import envkit


def test_clean(make_env: Callable[..., Path], tmp_path: Path) -> None:
    make_env(name="demo")
    cache = Path(os.environ["ENVKIT_CACHE_DIR"])
    (cache / "engines").mkdir(parents=True, exist_ok=True)
    (cache / "engines" / "model.engine").write_bytes(b"x" * 5000)
    (cache / "scratch").mkdir(exist_ok=True)
    (cache / "scratch" / "m.json").write_bytes(b"y" * 3000)
    envs = Path(os.environ["CONDA_ENVS_PATH"])
    (envs / ".gone.envkit.lock").write_text("123")
    (envs / ".gone.envkit-staging" / "bin").mkdir(parents=True)
    (envs / ".busy.envkit.lock").write_text("456")
    rattler = Path(os.environ["RATTLER_CACHE_DIR"])  # shared with other tools: never cleaned
    before = sorted(p for p in rattler.rglob("*"))

    r = envkit("clean", "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    data = data_of(r.stdout, "clean")
    kinds = {(i["kind"], Path(i["path"]).name): i["bytes"] for i in data["would_remove"]}
    assert kinds[("engines", "engines")] == 5000 and kinds[("cache", "scratch")] == 3000
    assert ("lock", ".gone.envkit.lock") in kinds and ("staging", ".gone.envkit-staging") in kinds
    assert data["bytes"] == sum(kinds.values()) and data["removed"] == []
    assert (cache / "engines" / "model.engine").exists() and (envs / ".gone.envkit.lock").exists()

    fd = os.open(envs / ".busy.envkit.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another envkit at work
    try:
        r = envkit("clean", "--locks")
    finally:
        os.close(fd)
    assert r.returncode == 0
    assert "skipped:" in r.stdout and ".busy.envkit.lock" in r.stdout and "removed" in r.stdout
    assert not (envs / ".gone.envkit.lock").exists() and not (envs / ".gone.envkit-staging").exists()
    assert (envs / ".busy.envkit.lock").exists() and (cache / "engines").exists()

    r = envkit("clean", "--engines")
    assert "5000 B" in r.stdout or "4.9 KiB" in r.stdout
    assert not (cache / "engines").exists() and (cache / "scratch").exists()
    assert envkit("clean", "--cache").returncode == 0
    assert not (cache / "scratch").exists()
    assert sorted(p for p in rattler.rglob("*")) == before
    assert (envs / "demo" / "conda-meta").is_dir()  # environments are never cleaned
    assert envkit("clean").stdout.strip().startswith(("nothing to clean", "lock", "what"))
