"""resolve: the newest stack the profile allows and the host can run, with reasons, on real captures."""

from __future__ import annotations

from pathlib import Path

import pytest
from envelope import data_of, notes_of, parsed

from envkit.cli import main
from envkit.context import Settings
from envkit.host.parse import read_capture
from envkit.matrix.load import load_matrix
from envkit.profile import Profile, load_profile
from envkit.resolve import resolve_profile
from envkit.versions import V

ROOT = Path(__file__).resolve().parents[1]
SMI = ROOT / "tests" / "data" / "nvidia-smi"
H200 = SMI / "h200-driver-580.159.04" / "q.xml"
H100_535 = SMI / "corpus" / "gpud-8x-h100-80gb-hbm3-535.161.08-q.txt"
P100_510 = SMI / "corpus" / "netdata-tesla-p100-pcie-16gb-510.47.03.xml"
A100_MIG = SMI / "corpus" / "telegraf-a100-sxm4-80gb-mig-535.54.03.xml"
GTX1080_390 = SMI / "corpus" / "nvidia-htop-8x-geforce-gtx-1080ti-390.25.txt"
BLACKWELL = SMI / "corpus" / "telegraf-rtx-pro-6000-blackwell-maxq-590.44.01.xml"


@pytest.fixture(scope="module")
def matrix():  # type: ignore[no-untyped-def]
    return load_matrix(ROOT / "matrix.yaml")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_env(project=str(ROOT), environ={})


def host(path: Path, matrix):  # type: ignore[no-untyped-def]
    return read_capture(path, cc_lookup=matrix.compute_capability_for)


def resolve_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["--project", str(ROOT), "resolve", *args, "--json"])
    return code, parsed(capsys.readouterr().out, "resolve")


def test_h200_gets_a_stack_the_driver_supports(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    h = host(H200, matrix)
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, h)
    assert res.chosen is not None and res.verified
    assert V(res.chosen.cuda) <= V("13.0")  # driver 580.159.04 supports CUDA 13.0 at most
    assert V(res.chosen.tensorrt) >= V("10.0")
    cuda = matrix.cuda_release(res.chosen.cuda)
    assert V(cuda.min_driver["linux"]) <= V("580.159.04")
    # a CUDA newer than the driver supports is rejected with the driver numbers in plain words
    newer = [r for r in res.rejected if V(r.candidate["cuda"]) > V("13.0")]
    assert newer, "the matrix has CUDA releases beyond 13.0; they must be rejected for this driver"
    assert any("needs driver >=" in x and "580.159.04" in x for x in newer[0].reasons)


def test_every_candidate_is_explained(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, host(H200, matrix))
    considered = {(r.candidate["tensorrt"], r.candidate["cuda"]) for r in res.rejected + res.outside}
    # legacy lines and legacy CUDA releases are not candidates unless the profile pins them
    total = sum(len([c for c in matrix.cuda_versions_for(t.cuda) if not c.legacy]) for t in matrix.tensorrt
                if not t.legacy)
    assert len(considered) + 1 == total
    assert all(r.reasons for r in res.rejected + res.outside)
    # TensorRT 8.x is outside the profile's `tensorrt: ">=10.0"`: counted apart, never listed as a rejection
    assert res.outside and all(r.candidate["tensorrt"].startswith("8.") for r in res.outside)
    assert not any("the profile allows" in x for r in res.rejected for x in r.reasons)


def test_driver_535_caps_cuda_at_12_2(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    h = host(H100_535, matrix)
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, h)
    if res.chosen is not None:
        assert V(res.chosen.cuda) <= V("12.2")
    reasons = [x for r in res.rejected for x in r.reasons]
    assert any("CUDA 12.8 needs driver >= 570.26; this host has 535.161.08" in x for x in reasons), reasons[:5]


def test_legacy_profile_gets_a_stack_that_installs(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    # TensorRT 8.5.3.1's self-contained wheels on pypi.org are the CUDA 11 stack that installs; 8.6 via the
    # nvidia conda channel is expected to fail and must never be chosen
    res = resolve_profile(load_profile("trt-legacy", settings), matrix, host(H100_535, matrix))
    assert res.chosen is not None, res.to_json()
    assert res.chosen.tensorrt == "8.5.3.1" and res.chosen.route == "pypi-wheel"
    assert res.chosen.confidence == "confirmed"
    assert res.chosen.cuda == "11.8"
    assert res.chosen.cudnn and res.chosen.cudnn.startswith("8.9")
    assert res.chosen.python == "3.10"


def test_old_driver_no_stack_with_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = resolve_json(capsys, "trt-yolo", "--host", str(GTX1080_390))
    assert code == 1
    assert data["chosen"] is None
    assert data["closest"] is not None
    # the table form truncates the name ("GeForce GTX 108..."); every entry it may stand for is 6.1, so the
    # GPU is known: no TensorRT >= 10 supports Pascal, and a driver upgrade alone would not help
    assert not any(s.startswith("upgrade the driver to >=") for s in data["suggestions"]), data["suggestions"]
    assert any("TensorRT 8.5, 8.6 support it" in s for s in data["suggestions"]), data["suggestions"]


def test_pascal_is_too_old_for_tensorrt_10(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, host(P100_510, matrix))
    assert res.chosen is None
    reasons = " ".join(x for r in res.rejected for x in r.reasons)
    assert "compute capability 6.0" in reasons
    assert "needs driver >=" in reasons


def test_fp8_needs_ada_or_hopper(matrix) -> None:  # type: ignore[no-untyped-def]
    prof = Profile(name="fp8", path="fp8.yaml", tensorrt=">=10.0", precisions=("fp8",))
    res = resolve_profile(prof, matrix, host(A100_MIG, matrix))
    assert res.chosen is None
    assert any("FP8 needs compute capability >= 8.9" in x for r in res.rejected for x in r.reasons)
    res_h200 = resolve_profile(prof, matrix, host(H200, matrix))
    assert res_h200.chosen is not None


def test_blackwell_needs_cuda_12_8(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    h = host(BLACKWELL, matrix)
    assert h.gpus[0].compute_capability == "12.0"
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, h)
    assert res.chosen is not None
    assert V(res.chosen.cuda) >= V("12.8")
    reasons = [x for r in res.rejected for x in r.reasons]
    assert any("cannot build for compute capability 12.0" in x or "supports compute capability <=" in x for x in reasons)


def test_no_host_is_unverified(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, None)
    assert res.chosen is not None and not res.verified
    assert any("unverified" in n for n in res.notes)


def test_route_needs_a_source_the_profile_has(matrix) -> None:  # type: ignore[no-untyped-def]
    # no conda-forge and no NVIDIA index: nothing can deliver TensorRT 10+
    prof = Profile(name="mirror", path="m.yaml", tensorrt=">=10.0", channels=("defaults",), pip_indexes=("pypi",))
    res = resolve_profile(prof, matrix, host(H200, matrix))
    assert res.chosen is None
    assert any("needs pip index 'nvidia'" in x for r in res.rejected for x in r.reasons)
    assert any("add `nvidia` to pip_indexes" in s for s in res.suggestions), res.suggestions


def test_resolve_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = resolve_json(capsys, "trt-yolo", "--host", str(H200))
    assert code == 0
    assert set(data) >= {"profile", "chosen", "rejected", "host"}
    assert set(data["chosen"]) >= {"tensorrt", "cuda", "cudnn", "python"}
    assert data["host"]["driver_version"] == "580.159.04"
    assert all(set(r) >= {"candidate", "reasons"} for r in data["rejected"])


def test_resolve_output_leads_with_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "resolve", "trt-yolo", "--host", str(H100_535)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    # verdict first: profile, stack, route, confidence, the machine
    assert lines[0].startswith("trt-yolo: TensorRT "), out
    verdict = " ".join(line.strip() for line in lines[: next(i for i, x in enumerate(lines) if x.startswith(("note", "rej")))])
    assert "via pypi-nvidia (confirmed" in verdict and "driver 535.161.08" in verdict, verdict
    assert all(len(line) <= 80 for line in lines), [x for x in lines if len(x) > 80]
    # grouped, not a per-candidate table: one line per cause with its count
    assert "rejected:" in out and "driver 535.161.08 is too old" in out
    assert "needs driver" not in out  # the per-candidate reasons only with --all
    code = main(["--project", str(ROOT), "resolve", "trt-yolo", "--host", str(H100_535), "--all"])
    assert "CUDA 12.8 needs driver >= 570.26" in capsys.readouterr().out


def test_groups_carry_the_one_change_that_unlocks_a_newer_stack(matrix) -> None:  # type: ignore[no-untyped-def]
    # without NVIDIA's index the pypi-nvidia route is blocked for every TensorRT 10+; the driver blocks CUDA 13
    prof = Profile(name="p", path="p.yaml", tensorrt=">=10.0", python=">=3.10", channels=("conda-forge",),
                   pip_indexes=("pypi",))
    res = resolve_profile(prof, matrix, host(H100_535, matrix))
    groups = {g.key: g for g in res.groups}
    nvidia = groups["route:pip index 'nvidia'"]
    assert nvidia.count > 100
    newest = max(matrix.tensorrt, key=lambda t: V(t.full_version)).full_version
    assert nvidia.unlock and nvidia.unlock.startswith("add `nvidia` to pip_indexes: TensorRT " + newest), nvidia.unlock
    assert nvidia.unlock in res.suggestions
    # the JSON carries the same groups
    data = res.to_json()
    assert any(g["cause"] == nvidia.key and g["count"] == nvidia.count for g in data["groups"])


def test_expected_to_fail_route_is_never_chosen(matrix) -> None:  # type: ignore[no-untyped-def]
    # TensorRT 8.6 for CUDA 11 has one route, the nvidia conda channel, which the matrix expects to fail
    prof = Profile(name="p", path="p.yaml", tensorrt="8.6", cuda="11.8", channels=("nvidia", "conda-forge"),
                   pip_indexes=("pypi", "nvidia"))
    res = resolve_profile(prof, matrix, host(H100_535, matrix))
    assert res.chosen is None
    assert [g.key for g in res.groups] == ["expected-to-fail:nvidia-conda"]
    assert "expected to fail" in res.rejected[0].reasons[0]


def test_confirmed_route_beats_unconfirmed_at_the_same_stack(matrix) -> None:  # type: ignore[no-untyped-def]
    # TensorRT 11.3 ships by pypi-nvidia (confirmed) and conda-forge (unconfirmed); both sources configured
    prof = Profile(name="p", path="p.yaml", tensorrt="11.3", channels=("conda-forge",), pip_indexes=("pypi", "nvidia"))
    res = resolve_profile(prof, matrix, host(H200, matrix))
    assert res.chosen is not None and res.chosen.route == "pypi-nvidia" and res.chosen.confidence == "confirmed"
    assert "preferred over conda-forge (unconfirmed)" in res.route_why
    # a profile may pin the route: then conda-forge it is, said plainly as unconfirmed
    pinned = Profile(name="p", path="p.yaml", tensorrt="11.3", route="conda-forge", channels=("conda-forge",),
                     pip_indexes=("pypi", "nvidia"))
    res = resolve_profile(pinned, matrix, host(H200, matrix))
    assert res.chosen is not None and res.chosen.route == "conda-forge" and res.chosen.confidence == "unconfirmed"
    assert any(n.startswith("route conda-forge is unconfirmed") for n in res.notes)


def test_unknown_route_pin_is_a_profile_error(matrix) -> None:  # type: ignore[no-untyped-def]
    from envkit.errors import ProfileError

    with pytest.raises(ProfileError, match="unknown route 'conda-forg'") as exc:
        resolve_profile(Profile(name="p", path="p.yaml", route="conda-forg"), matrix, None)
    assert "conda-forge" in (exc.value.hint or "")


def test_pinned_profile_lists_no_outside_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = resolve_json(capsys, "trt-legacy", "--host", str(H200))
    assert code == 0
    assert data["rejected"] == [] or all("the profile allows" not in " ".join(r["reasons"]) for r in data["rejected"])
    assert data["outside_profile"] > 200


@pytest.mark.parametrize("name", ["trt-yolo", "trt-bert", "trt-legacy", "ngc-like"])
def test_every_shipped_profile_resolves_to_a_confirmed_route(name: str, matrix, settings) -> None:  # type: ignore[no-untyped-def]
    """For its declared targets and for the H200 fixture."""
    from envkit.host.machines import Machine

    prof = load_profile(name, settings)
    fleet = Machine.from_targets(prof.targets, settings, matrix)
    for h in (fleet.host_facts() if fleet else None, host(H200_SHARED if H200_SHARED.is_file() else H200, matrix)):
        res = resolve_profile(prof, matrix, h)
        assert res.chosen is not None, (name, res.to_json()["groups"])
        assert res.chosen.confidence == "confirmed", (name, res.chosen)
        assert res.route_use is not None and res.route_use.confidence != "expected-to-fail"


H200_SHARED = Path("/work/shared/fixtures/nvidia-smi/h200-driver-580.159.04/q.xml")


def test_bad_capture_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "garbage.txt"
    bad.write_text("hello world\n")
    code = main(["--project", str(ROOT), "resolve", "trt-yolo", "--host", str(bad)])
    assert code == 2
    assert "garbage.txt" in capsys.readouterr().err


def test_pascal_suggests_an_older_tensorrt_and_a_driver(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, host(P100_510, matrix))
    assert res.chosen is None and res.closest is not None
    # the closest miss is a TensorRT 8.x stack (it supports compute capability 6.0), not an unfixable 10.x one
    assert res.closest.candidate["tensorrt"].startswith("8.")
    text = " | ".join(res.suggestions)
    assert "allow TensorRT 8." in text and "upgrade the driver to >=" in text, text
    assert "TensorRT 8.5" in text  # which releases support this GPU


T4_515 = SMI / "corpus" / "telegraf-tesla-t4-515.105.01.xml"


def test_driver_upgrade_names_the_cheapest_driver(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, host(T4_515, matrix))
    assert res.chosen is None
    first = res.suggestions[0]
    assert first.startswith("upgrade the driver to >= "), res.suggestions
    needed = first.split(">= ")[1].split(" ")[0]
    assert V(needed) > V("515.105.01")
    # that driver really unlocks a stack: resolve again with the driver raised to it
    h = host(T4_515, matrix)
    h.driver_version = needed
    h.cuda_version = None
    assert resolve_profile(load_profile("trt-yolo", settings), matrix, h).chosen is not None


def test_without_gpu_the_profile_targets_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ENVKIT_NVIDIA_SMI", str(tmp_path / "no-nvidia-smi"))
    env = tmp_path / "environments"
    env.mkdir()
    (env / "fleet.yaml").write_text(
        "schema_version: 1\ntensorrt: '>=10.0'\nchannels: [conda-forge]\n"
        "targets: ['linux-64:cuda=13.0', 'linux-64:driver=535.104.05']\n"
    )
    code = main(["--project", str(tmp_path), "resolve", "fleet", "--json"])
    out = capsys.readouterr().out
    data = data_of(out, "resolve")
    assert code == 0, data
    assert V(data["chosen"]["cuda"]) <= V("12.2")  # driver 535.104.05 is the oldest target
    assert data["verified"] is False
    assert any("targets" in n for n in notes_of(out, "resolve"))
    assert data["host"]["driver_version"] == "535.104.05"


def test_shipped_generated_files_are_current(settings) -> None:  # type: ignore[no-untyped-def]
    """environments/NAME/environment.yml are committed; a matrix or profile change must regenerate them."""
    from envkit.generate import edited_by_hand, is_current
    from envkit.host.machines import Machine
    from envkit.profile import load_profile, profile_paths

    for name in profile_paths(settings):
        path = ROOT / "environments" / name / "environment.yml"
        assert path.is_file(), f"run `envkit generate {name}` and commit {path}"
        assert not edited_by_hand(path), path
        # as `envkit generate` writes them without a GPU: for the profile's targets taken together
        fleet = Machine.from_targets(load_profile(name, settings).targets, settings)
        facts = fleet.host_facts() if fleet is not None else None
        assert is_current(name, settings, facts), f"{path} is stale: run `envkit generate {name}`"
        # the header names the matrix the stack was checked against (generate rewrites it on a new version)
        from envkit.generate import matrix_version_of
        from envkit.matrix.load import load_matrix

        current = load_matrix(ROOT / "matrix.yaml").matrix_version
        assert matrix_version_of(path) == current, f"{path}: header names an old matrix; run `envkit generate {name}`"


def test_driver_unlock_names_the_cheapest_driver_for_a_newer_stack(matrix, settings) -> None:  # type: ignore[no-untyped-def]
    res = resolve_profile(load_profile("trt-yolo", settings), matrix, host(H100_535, matrix))
    assert res.chosen is not None and res.chosen.cuda == "12.2"
    unlock = next(g.unlock for g in res.groups if g.key == "driver")
    assert unlock and unlock.startswith("driver >= 545.23.06: TensorRT "), unlock  # CUDA 12.3's driver
    h = host(H100_535, matrix)
    h.driver_version, h.cuda_version = "545.23.06", None
    better = resolve_profile(load_profile("trt-yolo", settings), matrix, h)
    assert better.chosen is not None and V(better.chosen.cuda) > V("12.2")


def test_readme_shows_a_real_resolve_run(capsys: pytest.CaptureFixture[str]) -> None:
    """README's "Resolve output" block is exactly what this command prints (docs stay true)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Resolve output")
    block = readme[readme.index("```\n", start) + 4: readme.index("```", readme.index("```\n", start) + 4)]
    main(["--project", str(ROOT), "resolve", "trt-yolo", "--host", str(H100_535)])
    assert capsys.readouterr().out == block
    code, data = resolve_json(capsys, "trt-yolo", "--host", str(H100_535))
    assert code == 0 and data["verdict"] == " ".join(line.strip() for line in block.splitlines()[:3])
