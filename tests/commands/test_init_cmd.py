"""``envkit init``: a commented profile from options or an environment file, read back before it stays."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from envelope import data_of
from envkit_cli import envkit

DATA = Path(__file__).resolve().parents[1] / "data" / "envfiles"
CORPUS = Path("/work/shared/corpus/envfiles")


def test_init_from_options_writes_a_commented_profile_that_resolves(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "environments").mkdir(parents=True)
    r = envkit("--project", str(proj), "init", "det", "--tensorrt", ">=10", "--precision", "fp16",
               "--conda", "numpy", "--pip", "onnxruntime-gpu", "--description", "a detector")
    assert r.returncode == 0, r.stderr
    text = (proj / "environments/det.yaml").read_text()
    assert text.count("# ") >= 10  # every key carries its comment
    doc = yaml.safe_load(text)
    assert doc == {"schema_version": 1, "description": "a detector", "tensorrt": ">=10", "precisions": ["fp16"],
                   "platforms": ["linux-64"], "channels": ["conda-forge"], "conda": ["numpy"],
                   "pip": ["onnxruntime-gpu"]}
    # the printed next command works as printed (from elsewhere, so it carries --project)
    nxt = next(ln for ln in r.stdout.splitlines() if ln.startswith("next: "))[6:].split("   then: ")[0]
    argv = shlex.split(nxt)
    assert argv[:2] == ["envkit", "--project"]
    res = subprocess.run([sys.executable, "-m", *argv, "--json"], capture_output=True, text=True, timeout=60)
    assert res.returncode in (0, 1), res.stderr  # resolved (1 only when no stack fits this machine)
    assert data_of(res.stdout, "resolve")["profile"] == "det"


def test_init_from_env_file_derives_ranges_and_keeps_extras(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    r = envkit("--project", str(proj), "init", "x", "--from", str(DATA / "cuda128-trt108.yml"), "--json")
    assert r.returncode == 0, r.stderr
    prof = data_of(r.stdout, "init")["profile"]
    assert (prof["tensorrt"], prof["cuda"], prof["python"]) == (">=10.8,<11", ">=12.8,<13", ">=3.11,<3.12")
    assert prof["pip"] == [] and prof["conda"] == []  # everything in that file is the stack
    assert prof["pip_indexes"] == ["pypi", "nvidia"]  # its --extra-index-url, by its matrix.yaml name


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")
def test_init_from_real_env_files(tmp_path: Path) -> None:
    """Real files: stack packages become ranges; other packages stay, without build strings."""
    proj = tmp_path / "proj"
    proj.mkdir()
    f = CORPUS / "ForzaETH__TinyCenterSpeed__environments_tensorrt_env.yml"
    r = envkit("--project", str(proj), "init", "forza", "--from", str(f), "--json")
    assert r.returncode == 0, r.stderr
    prof = data_of(r.stdout, "init")["profile"]
    assert prof["tensorrt"] == ">=10.0,<11" and prof["cuda"] == ">=12.4,<13" and prof["python"] == ">=3.9,<3.10"
    assert "numpy=1.26.4" in prof["conda"] and "cuda-nvtx" in prof["conda"]
    assert not {p.split("=")[0] for p in prof["conda"]} & {"python", "tensorrt", "cuda-cudart", "pip"}
    assert all(p.count("=") <= 1 for p in prof["conda"])


def test_init_bad_input_leaves_nothing(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "environments").mkdir(parents=True)
    r = envkit("--project", str(proj), "init", "x", "--precision", "fp17")
    assert r.returncode == 2 and "unknown precision 'fp17'" in r.stderr and "fp16" in r.stderr
    assert not (proj / "environments/x.yaml").exists()
    r = envkit("--project", str(proj), "init", "x", "--tensorrt", "ten")
    assert r.returncode == 2 and "x.yaml" in r.stderr and "tensorrt" in r.stderr
    assert not (proj / "environments/x.yaml").exists()
    (proj / "environments/y.yaml").write_text("# mine\n")
    r = envkit("--project", str(proj), "init", "y")
    assert r.returncode == 2 and "exists" in r.stderr
    assert (proj / "environments/y.yaml").read_text() == "# mine\n"
    r = envkit("--project", str(proj), "init", "z", "--from", str(tmp_path / "missing.yml"))
    assert r.returncode == 2 and "missing.yml" in r.stderr and "Traceback" not in r.stderr
