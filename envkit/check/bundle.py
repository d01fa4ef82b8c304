"""``envkit bundle NAME --out DIR``: the locked packages of an environment as a self-contained offline folder.

Layout of DIR (an indexed local conda channel plus everything ``envkit create`` needs)::

    noarch/ linux-64/ ...      the locked conda packages, sha256-checked, indexed by rattler (no shards)
    wheels/                    the pinned pip requirements (pip download --no-deps, for the lock's platform)
    environment.yml            channels: [file://DIR], pip section with --no-index --find-links DIR/wheels
    envkit.lock                the lock with its URLs pointing into DIR (for ``envkit create --locked``)
    original/                  the environment file and lock as they were
    manifest.json              every file with its sha256 (``verify_bundle`` re-hashes them)

On the air-gapped machine: ``envkit create NAME --channel file://DIR --offline`` (the project's profile),
or ``envkit create --file DIR/environment.yml --name NAME --locked --offline`` (exactly the bundle).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envkit.config import redact, redact_text
from envkit.engine.channels import local_path, mapped, split_package_url
from envkit.errors import BundleVerifyError, ChannelError, InputError, InstallError
from envkit.fsutil import sha256_file

if TYPE_CHECKING:
    from envkit.check.steps import EnvUnit
    from envkit.config import Config
    from envkit.engine.rattler_engine import Record
    from envkit.envfile import EnvFile

MANIFEST = "manifest.json"
SCHEMA = "envkit.bundle/1"


@dataclass
class BundleReport:
    out: Path
    environment: str
    options: str = ""  # envkit's global options the re-resolving command needs (--project, --matrix)
    conda: list[dict[str, Any]] = field(default_factory=list)
    wheels: list[dict[str, Any]] = field(default_factory=list)
    verified: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "environment": self.environment,
            "conda": self.conda,
            "wheels": self.wheels,
            "verified_files": self.verified,
            "seconds": round(self.seconds, 3),
            "create": self.commands()[0],
            "create_from_project": self.commands()[1],
        }

    def commands(self) -> list[str]:
        """The commands for the offline machine, quoted for a POSIX shell, that work as printed: exactly the
        bundle (anywhere), and the project's profile re-resolved against the bundle (in the project)."""
        from envkit.engine.activation import quote

        out = self.out.resolve()
        name = quote("bash", self.environment, minimal=True)
        env_file = quote("bash", str(out / "environment.yml"), minimal=True)
        channel = quote("bash", out.as_uri(), minimal=True)
        return [
            f"envkit create --file {env_file} --name {name} --locked --offline",
            f"envkit {self.options}create {name} --channel {channel} --offline",
        ]


def _fetch(url: str, dest: Path) -> None:
    src = local_path(url) if url.startswith("file://") else (Path(url) if "://" not in url else None)
    tmp = dest.with_name(dest.name + ".part")
    try:
        if src is not None:
            shutil.copyfile(src, tmp)
        else:
            from envkit.httpcache import http_timeout, request

            req = request(url, {"User-Agent": "envkit-bundle"})
            with urllib.request.urlopen(req, timeout=http_timeout(60.0)) as resp, open(tmp, "wb") as fh:
                shutil.copyfileobj(resp, fh, 1 << 20)
        tmp.replace(dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ChannelError(f"cannot download {redact(url)}: {getattr(exc, 'reason', exc)}",
                           "is the channel (or mirror) reachable? `envkit check` tells which package is missing")


def download_conda(records: list[Record], out: Path, workers: int = 8, config: Config | None = None) -> list[dict[str, Any]]:
    """Download every record into ``out/<subdir>/`` (through the mirror map, the policy create and check
    use) and check its sha256 against the lock."""

    def one(r: Record) -> dict[str, Any]:
        dest = inside(out, f"{r.subdir}/{r.file_name}", f"the lock's record for {r.name}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not (dest.is_file() and r.sha256 and sha256_file(dest) == r.sha256):
            base, subdir, filename = split_package_url(r.url)
            _fetch(f"{mapped(base, config).url}/{subdir}/{filename}", dest)
        got = sha256_file(dest)
        if r.sha256 and got != r.sha256:
            dest.unlink(missing_ok=True)
            raise ChannelError(
                f"sha256 mismatch for {r.file_name} from {redact(r.url)}: the lock has {r.sha256}, the download {got}",
                "the channel or mirror serves a different build under the same name (a broken sync)",
            )
        return {"file": f"{r.subdir}/{r.file_name}", "sha256": got, "url": redact(r.url), "size": dest.stat().st_size}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, records))


def download_wheels(env: EnvFile, out: Path, index: str, platform: str, python: str | None,
                    env_vars: dict[str, str] | None = None, timeout: float = 600.0) -> list[dict[str, Any]]:
    """``pip download --no-deps`` of every pinned requirement of the pip section into ``out``."""
    reqs = [d for d in env.pip if d.name]
    if not reqs:
        return []
    unpinned = [d.raw for d in reqs if d.pinned_version is None]
    if unpinned:
        raise InputError(f"cannot bundle unpinned pip requirements: {', '.join(unpinned)}",
                         "pin them with == (a bundle is exactly what the environment installs)", file=env.path)
    out.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-input",
            "--dest", str(out), "--index-url", index]
    for opt in env.pip_options():
        parts = (opt.option or "").replace("=", " ").split()
        if len(parts) == 2 and parts[0] == "--extra-index-url":
            argv += parts
    from envkit.host.platforms import PLATFORMS

    if platform in PLATFORMS and python:
        argv += ["--only-binary=:all:", "--python-version", python]
        for tag in PLATFORMS[platform].wheel_tags:
            argv += ["--platform", tag]
    argv += [d.raw.strip() for d in reqs]
    from envkit.proc import clean_env, run

    before = set(out.iterdir())
    res = run(argv, timeout=timeout, env=clean_env(env_vars, PIP_NO_INPUT="1"))
    if not res.ok:
        raise InstallError(f"pip download failed ({res.describe()}):\n{res.output[-2000:]}",
                           f"does {redact(index)} have these versions for {platform}? `envkit check` step pip says")
    files = sorted(set(out.iterdir()) - before) or sorted(out.iterdir())
    return [{"file": f"wheels/{p.name}", "sha256": sha256_file(p), "size": p.stat().st_size} for p in files]


def _env_text(env: EnvFile, channel: str, wheels: Path | None) -> str:
    lines = [f"name: {env.name}" if env.name else None, "channels:", f"  - {channel}", "dependencies:"]
    lines += [f"  - {d.raw.split('::', 1)[1] if '::' in d.raw else d.raw}" for d in env.conda]
    pip = [d for d in env.pip if d.name]
    if pip:
        lines.append("  - pip:")
        lines.append("      - --no-index")
        if wheels is not None:
            lines.append(f"      - --find-links {wheels}")
        lines += [f"      - {d.raw}" for d in pip]
    return "\n".join(line for line in lines if line is not None) + "\n"


def inside(root: Path, rel: str, what: str) -> Path:
    """``root/rel``, refused (InputError) when ``rel`` is absolute or leaves ``root`` (``..``, a link out)."""
    base = Path(root).resolve()
    if not isinstance(rel, str) or not rel or "\0" in rel or Path(rel).is_absolute():
        raise InputError(f"{what}: the path {str(rel)[:200]!r} is not a relative path inside {base}")
    target = (base / rel).resolve()
    if target == base or base not in target.parents:
        raise InputError(f"{what}: the path {rel[:200]!r} leads outside {base}",
                         "the channel data or manifest is corrupt or hostile; nothing was written there")
    return target


def verify_bundle(out: Path) -> tuple[int, list[str]]:
    """Re-hash every file of ``out/manifest.json``: (files checked, problems)."""
    manifest = Path(out) / MANIFEST
    if Path(out).exists() and not Path(out).is_dir():
        raise InputError(f"--out {out} is a file, not a bundle directory", "give the bundle's directory",
                         key="--out")
    if not manifest.is_file():
        return 0, [f"{manifest} missing"]
    from envkit.fsutil import read_input
    from envkit.limits import load_json

    data = load_json(read_input(manifest, "a bundle manifest"), "the manifest", file=str(manifest))
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise InputError("the manifest has no \"files\" object of path -> sha256", file=str(manifest), key="files")
    problems = []
    for rel, sha in files.items():
        p = inside(Path(out), rel, f"{manifest}: files")
        if not p.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_file(p) != sha:
            problems.append(f"{rel}: sha256 differs from the manifest")
    return len(files), problems


def make_bundle(unit: EnvUnit, out: Path, *, pip_index: str, env_vars: dict[str, str] | None = None,
                options: str = "", config: Config | None = None) -> BundleReport:
    from envkit.engine.lockfile import read_lock, rebased, write_lock
    from envkit.engine.repodata import index_channel
    from envkit.envfile import read_env_file

    start = time.perf_counter()
    if not unit.env_path.is_file():
        raise InputError(f"{unit.name}: no environment file at {unit.env_path}", f"run `envkit generate {unit.name}`")
    if not unit.lock_path.is_file():
        raise InputError(f"{unit.name}: no lock at {unit.lock_path}", f"run `envkit create {unit.name}` first: "
                         "a bundle holds exactly the locked packages")
    env = read_env_file(unit.env_path)
    lock = read_lock(unit.lock_path, channels=env.channels)
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a directory", "pick a new or empty directory for --out",
                         key="--out")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise InputError(f"{out} exists and is not an envkit bundle", "pick an empty or new directory for --out")
    out.mkdir(parents=True, exist_ok=True)
    report = BundleReport(out, unit.name, options)
    report.conda = download_conda(lock.records, out, config=config)
    for sub in {"noarch", lock.target.platform}:
        (out / sub).mkdir(exist_ok=True)
    index_channel(out)
    python = next((r.version for r in lock.records if r.name == "python"), None)
    py_mm = ".".join(python.split(".")[:2]) if python else None
    wheels_dir = out / "wheels"
    report.wheels = download_wheels(env, wheels_dir, pip_index, lock.target.platform, py_mm, env_vars)
    # the originals, then the bundle's own environment file and lock (URLs into the bundle)
    (out / "original").mkdir(exist_ok=True)
    # a channel's (or pip index's) user:password@ or /t/TOKEN/ never reaches the bundle
    original = redact_text(Path(unit.env_path).read_text(encoding="utf-8"))
    (out / "original" / "environment.yml").write_text(original, encoding="utf-8")
    shutil.copyfile(unit.lock_path, out / "original" / "envkit.lock")
    channel = out.as_uri()
    (out / "environment.yml").write_text(_env_text(env, channel, wheels_dir if report.wheels else None))
    write_lock(rebased(lock.records, channel), lock.target, [channel], out / "envkit.lock")
    files = {item["file"]: item["sha256"] for item in report.conda + report.wheels}
    for rel in ("environment.yml", "envkit.lock", "original/environment.yml", "original/envkit.lock"):
        files[rel] = sha256_file(out / rel)
    manifest = {
        "schema": SCHEMA,
        "environment": unit.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "platform": lock.target.platform,
        "virtual_packages": lock.target.strings(),
        "conda": report.conda,
        "wheels": report.wheels,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    report.verified, problems = verify_bundle(out)
    if problems:
        raise BundleVerifyError("the bundle does not verify: " + "; ".join(problems),
                                "fetch the bundle again (envkit bundle NAME --out DIR)")
    report.seconds = time.perf_counter() - start
    return report
