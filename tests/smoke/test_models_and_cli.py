"""--model with real ONNX files (custom operator, dynamic input, not ONNX) and the `envkit smoke` verb."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from smoke_helpers import layer, write_stack

from envkit.cli import main
from envkit.commands.smoke import parse_shapes
from envkit.errors import InputError
from envkit.smoke import smoke_prefix

onnx = pytest.importorskip("onnx")
from envelope import data_of, error_of  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402


def _save(model: object, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def custom_op_model(path: Path) -> Path:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu_0"),
        helper.make_node("Frobnicate", ["r"], ["y"], name="frob_1", domain="com.example"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    m.ir_version = 8
    return _save(m, path)


def dynamic_model(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["out"], name="relu")], "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3, "H", "W"])],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return _save(m, path)


def test_unsupported_operator_is_named(prefix: Path, env_python: Path, tmp_path: Path) -> None:
    model = custom_op_model(tmp_path / "custom.onnx")
    report = smoke_prefix(prefix, python=env_python, pins={}, model=model)
    ort = layer(report.layers, "onnxruntime")
    assert ort["status"] == "fail" and ort["needed"]
    assert ort["unsupported_nodes"] == ["frob_1 (com.example::Frobnicate)"]
    assert "frob_1 (com.example::Frobnicate)" in ort["diagnosis"]
    assert "Frobnicate" in ort["diagnosis"].split("rejected the model:")[1]  # onnxruntime's own words
    assert report.exit_code == 6


def test_not_an_onnx_file(prefix: Path, env_python: Path, tmp_path: Path) -> None:
    bad = tmp_path / "weights.onnx"
    bad.write_text("this is a PyTorch checkpoint, honest\n")
    report = smoke_prefix(prefix, python=env_python, pins={}, model=bad)
    ort = layer(report.layers, "onnxruntime")
    assert ort["status"] == "fail"
    assert f"{bad} is not a readable ONNX model" in ort["diagnosis"]
    assert "torch.onnx.export" in ort["fix"]


def test_dynamic_input_needs_a_shape(prefix: Path, env_python: Path, tmp_path: Path) -> None:
    model = dynamic_model(tmp_path / "dyn.onnx")
    report = smoke_prefix(prefix, python=env_python, pins={}, model=model)
    ort = layer(report.layers, "onnxruntime")
    assert ort["status"] == "fail"
    assert "input 'images' has dynamic dimensions ['N', 3, 'H', 'W'] and no --shape" in ort["diagnosis"]
    assert ort["fix"] == "pass --shape images:1x3x1x1"

    ok = smoke_prefix(prefix, python=env_python, pins={}, model=model, shapes={"images": (2, 3, 8, 8)})
    ort = layer(ok.layers, "onnxruntime")
    assert ort["status"] == "pass", ort
    assert ort["outputs"]["out"]["shape"] == [2, 3, 8, 8]
    assert ok.model is not None and ok.model["input_shapes"] == {"images": [2, 3, 8, 8]}
    assert ok.passed


def test_shape_that_contradicts_the_model(prefix: Path, env_python: Path, tmp_path: Path) -> None:
    model = dynamic_model(tmp_path / "dyn.onnx")
    report = smoke_prefix(prefix, python=env_python, pins={}, model=model, shapes={"images": (1, 4, 8, 8)})
    assert "does not fit the model's" in layer(report.layers, "onnxruntime")["diagnosis"]


def test_missing_model_file_is_usage_error(prefix: Path, env_python: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such model file"):
        smoke_prefix(prefix, python=env_python, model=tmp_path / "nope.onnx")


# ---------------------------------------------------------------- CLI


def test_parse_shapes() -> None:
    assert parse_shapes(["images:1x3x640x640", "mask:1x1"]) == {"images": (1, 3, 640, 640), "mask": (1, 1)}
    for bad in ["images", "images:1x3x", "images:axb", ":1x2", "images:0x3"]:
        with pytest.raises(InputError, match="--shape"):
            parse_shapes([bad])
    with pytest.raises(InputError, match="given twice"):
        parse_shapes(["a:1", "a:2"])


def test_cli_json_passes_here(prefix: Path, env_python: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["smoke", "--prefix", str(prefix), "--python", str(env_python), "--json"])
    out = data_of(capsys.readouterr().out, "smoke")
    assert rc == 0 and out["passed"] is True
    assert out["schema"] == "envkit.smoke/1" and out["prefix"] == str(prefix.resolve())
    assert {lay["name"]: lay["status"] for lay in out["layers"]}["onnxruntime"] == "pass"
    assert out["saved_to"] == str(prefix.resolve() / "conda-meta" / "envkit-smoke.json")


def test_cli_pinned_stack_exits_6(prefix: Path, env_python: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_stack(prefix, tensorrt="10.13.0.35", cuda="12.9", cudnn=None, python=None)
    rc = main(["smoke", "--prefix", str(prefix), "--python", str(env_python)])
    text = capsys.readouterr().out
    assert rc == 6
    assert "tensorrt: `import tensorrt` found" in text and "smoke failed (driver, cuda, tensorrt)" in text


def test_cli_user_model(prefix: Path, env_python: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = dynamic_model(tmp_path / "dyn.onnx")
    rc = main(["smoke", "--prefix", str(prefix), "--python", str(env_python), "--model", str(model),
               "--shape", "images:1x3x4x4", "--json"])
    out = data_of(capsys.readouterr().out, "smoke")
    assert rc == 0, out
    assert out["model"]["name"] == "dyn"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shape", "images"], "--shape expects NAME:1x3x224x224"),
        (["--shape", "images:1x3"], "--shape needs --model"),
        (["--model", "/nonexistent/m.onnx"], "no such model file"),
    ],
)
def test_cli_usage_errors(prefix: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["smoke", "--prefix", str(prefix), "--python", sys.executable, *argv, "--json"])
    assert rc == 2
    assert message in error_of(capsys.readouterr().out, "smoke")["text"]


def test_cli_prefix_or_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["smoke", "--prefix", str(tmp_path / "missing"), "--json"]) == 2
    assert "no such directory" in capsys.readouterr().out
    assert main(["smoke", "--json"]) == 2
    assert "name an environment or give --prefix" in capsys.readouterr().out
    monkeypatch.setenv("CONDA_ENVS_PATH", str(tmp_path / "envs"))
    assert main(["smoke", "ghost", "--json"]) == 2
    assert "no environment named 'ghost'" in capsys.readouterr().out
    (tmp_path / "envs" / "real" / "conda-meta").mkdir(parents=True)
    assert main(["smoke", "real", "--python", sys.executable, "--json"]) == 0
    assert data_of(capsys.readouterr().out, "smoke")["prefix"] == str(tmp_path / "envs" / "real")
