"""envkit as a package: the wheel's metadata, and `pip install .` on the oldest Python envkit claims (3.10).

Both build envkit with its build backend (hatchling, fetched from PyPI by uv), so they carry ``network``.
The install test needs a Python 3.10 interpreter: ``ENVKIT_PYTHON310``, ``python3.10`` on PATH, a pyenv
version or one uv knows; without one it is skipped and the metadata test still pins Requires-Python
and the tomli marker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from envelope import data_of
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
UV = [sys.executable, "-m", "uv"]

pytestmark = [pytest.mark.network, pytest.mark.slow]


def _works(python: str) -> bool:
    try:
        r = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
                           capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return False
    return r.stdout.strip() == "True"


def python310() -> str | None:
    candidates = [os.environ.get("ENVKIT_PYTHON310"), shutil.which("python3.10")]
    import pwd  # POSIX; tests run with a private HOME (tests/conftest.py), pyenv lives in the real one

    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    pyenv = Path(os.environ.get("PYENV_ROOT") or home / ".pyenv")
    candidates += sorted(str(p) for p in pyenv.glob("versions/3.10*/bin/python3.10"))
    r = subprocess.run([*UV, "python", "find", "3.10"], capture_output=True, text=True, timeout=60, check=False)
    candidates.append(r.stdout.strip() if r.returncode == 0 else None)
    return next((c for c in candidates if c and _works(c)), None)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([*UV, "build", "--wheel", "--out-dir", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot build the wheel (hatchling from PyPI): {r.stderr.strip()[-300:]}")
    (whl,) = out.glob("envkit-*.whl")
    return whl


def test_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(meta_name).decode())
    assert meta["Requires-Python"] == ">=3.10"
    requires = {r.name: r for r in map(Requirement, meta.get_all("Requires-Dist") or [])}
    tomli = requires["tomli"]
    assert tomli.marker is not None and str(tomli.marker) == 'python_version < "3.11"'
    assert tomli.marker.evaluate({"python_version": "3.10"}) and not tomli.marker.evaluate({"python_version": "3.11"})
    runtime = {n for n, r in requires.items() if r.marker is None or "extra" not in str(r.marker)}
    assert {"pyyaml", "rich", "packaging", "psutil", "py-rattler", "tomli"} <= runtime
    assert "envkit/matrix.yaml" in names and any(n.startswith("envkit/_environments/") for n in names)
    assert "envkit/smoke/payload/payload.py" in names


def test_pip_install_on_python_310(tmp_path: Path) -> None:
    py = python310()
    if py is None:
        pytest.skip("no Python 3.10 here (set ENVKIT_PYTHON310); test_wheel_metadata pins the metadata")
    venv = tmp_path / "py310"
    subprocess.run([py, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    vpy = venv / "bin" / "python"
    r = subprocess.run([*UV, "pip", "install", "--python", str(vpy), str(ROOT)],
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    toml = tmp_path / "envkit.toml"
    toml.write_text('offline = true\n')
    code = ("import sys; from pathlib import Path; from envkit.config import _read_toml; "
            f"d = _read_toml(Path({str(toml)!r})); print(d.get('offline'), 'tomli' in sys.modules)")
    r = subprocess.run([str(vpy), "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0 and r.stdout.split() == ["True", "True"], r.stderr  # 3.10 reads TOML with tomli
    r = subprocess.run([str(venv / "bin" / "envkit"), "matrix", "--check", "--json"], capture_output=True, text=True,
                       timeout=300, check=False, cwd=tmp_path)
    assert data_of(r.stdout, "matrix", exit_code=0)["ok"] is True, r.stderr
    assert json.loads(r.stdout)["schema"] == "envkit/v1"
