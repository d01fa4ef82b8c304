"""The embedded engine against the local TensorRT-like channel (real solves and installs, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest
from channel_factory import PLACEHOLDER, PackageSpec, build_channel, file_url, trt_stack

from envkit.engine import rattler_engine as eng
from envkit.errors import ChannelError, InstallError, SolveError
from envkit.host.machines import Machine


def target(cuda: str | None) -> eng.Target:
    return Machine.from_spec(f"linux-64:cuda={cuda}" if cuda else "linux-64").solve_target()


def versions(records: list[eng.Record]) -> dict[str, str]:
    return {r.name: r.version for r in records}


@pytest.mark.parametrize(
    ("cuda", "trt", "cuda_version", "cudnn"),
    [
        ("11.4", "8.6.1.6", "11.8", "8.9.7.29"),
        ("12.4", "10.3.0.26", "12.6", "9.10.1.4"),
        ("13.0", "11.0.0.1", "13.0", None),
    ],
)
def test_solve_picks_stack_for_driver(trt_channel: Path, tmp_path: Path, cuda: str, trt: str, cuda_version: str,
                                      cudnn: str | None) -> None:
    recs = eng.solve(["tensorrt", "trt-tools"], [str(trt_channel)], target(cuda), cache_dir=tmp_path)
    v = versions(recs)
    assert v["tensorrt"] == trt
    assert v["cuda-version"] == cuda_version
    assert v.get("cudnn") == cudnn
    r = next(r for r in recs if r.name == "tensorrt")
    assert r.sha256 and len(r.sha256) == 64 and r.url.startswith("file://") and r.raw is not None


def test_solve_rejects_old_driver_with_host_fact(trt_channel: Path, tmp_path: Path) -> None:
    with pytest.raises(SolveError) as ei:
        eng.solve(["tensorrt=10"], [file_url(trt_channel)], target("11.4"), cache_dir=tmp_path)
    assert "__cuda=11.4: driver too old for CUDA 12" in ei.value.message
    assert ei.value.hint and "driver" in ei.value.hint
    assert ei.value.exit_code == 4


def test_solve_without_driver_names_missing_cuda(trt_channel: Path, tmp_path: Path) -> None:
    with pytest.raises(SolveError) as ei:
        eng.solve(["cuda-cudart"], [file_url(trt_channel)], target(None), cache_dir=tmp_path)
    assert "no __cuda" in ei.value.message


def test_solve_unknown_package(trt_channel: Path, tmp_path: Path) -> None:
    with pytest.raises(SolveError, match="no package named nothere"):
        eng.solve(["nothere"], [file_url(trt_channel)], target("12.4"), cache_dir=tmp_path)


def test_unreachable_channel_is_channel_error(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match="unreachable") as ei:
        eng.solve(["tensorrt"], ["http://127.0.0.1:9/t/SECRET/ch"], target("12.4"), cache_dir=tmp_path)
    assert "SECRET" not in ei.value.message
    assert ei.value.exit_code == 5


def test_http_channel_and_offline(trt_channel: Path, tmp_path: Path, channel_server) -> None:  # type: ignore[no-untyped-def]
    srv = channel_server(trt_channel)
    recs = eng.solve(["tensorrt"], [srv.url], target("12.4"), cache_dir=tmp_path)
    assert versions(recs)["tensorrt"] == "10.3.0.26"
    # warm again with a fresh gateway (304 path)
    assert versions(eng.solve(["tensorrt"], [srv.url], target("12.4"), cache_dir=tmp_path))["tensorrt"] == "10.3.0.26"
    srv.stop()
    with pytest.raises(ChannelError):
        eng.solve(["tensorrt"], [srv.url], target("12.4"), cache_dir=tmp_path)
    recs = eng.solve(["tensorrt"], [srv.url], target("12.4"), cache_dir=tmp_path, offline=True)
    assert versions(recs)["tensorrt"] == "10.3.0.26"


def test_install_staging_with_final_prefix_placeholder(trt_channel: Path, tmp_path: Path) -> None:
    recs = eng.solve(["tensorrt", "trt-tools"], [file_url(trt_channel)], target("12.4"), cache_dir=tmp_path)
    staging, final = tmp_path / ".env.staging", tmp_path / "env"
    stats = eng.install(recs, staging, cache_dir=tmp_path, target_prefix=final)
    assert stats.linked == len(recs) and not stats.post_link_failures
    staging.rename(final)
    text = (final / "share/trt/where.txt").read_text()
    assert text == f"prefix={final}\n" and PLACEHOLDER not in text
    assert (final / "share/trt-tools-linked").exists()  # post-link ran


def test_post_link_failure_raises(trt_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = eng.solve(["trt-tools"], [file_url(trt_channel)], target("12.4"), cache_dir=tmp_path)
    monkeypatch.setenv("ENVKIT_TEST_FAIL_POSTLINK", "1")
    with pytest.raises(InstallError, match="post-link script failed: trt-tools"):
        eng.install(recs, tmp_path / "p", cache_dir=tmp_path)


def test_corrupted_extracted_cache_is_detected_and_refetched(tmp_path: Path) -> None:
    ch = build_channel(tmp_path / "ch", [PackageSpec("blob", "1.0", files={"share/blob.txt": "good\n"})])
    t = target("12.4")
    recs = eng.solve(["blob"], [file_url(ch)], t, cache_dir=tmp_path / "c")
    eng.install(recs, tmp_path / "p1", cache_dir=tmp_path / "c")
    cached = tmp_path / "c/pkgs" / recs[0].dist / "share/blob.txt"
    cached.unlink()
    cached.write_text("evil\n")
    assert eng.verify_cache(recs, tmp_path / "c") == [recs[0].dist]
    eng.install(recs, tmp_path / "p2", cache_dir=tmp_path / "c")
    assert (tmp_path / "p2/share/blob.txt").read_text() == "good\n"
    assert eng.verify_cache(recs, tmp_path / "c") == []


def test_trt_stack_is_complete(trt_channel: Path) -> None:
    names = {s.name for s in trt_stack()}
    assert {"cuda-version", "cuda-cudart", "cudnn", "libnvinfer", "tensorrt", "trt-tools"} <= names
    assert (trt_channel / "noarch/repodata.json").is_file() and (trt_channel / "linux-64/repodata.json").is_file()
