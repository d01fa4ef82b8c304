"""envkit.toml / [tool.envkit] / user config, mirror map, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from envkit.config import load_config, redact, redact_text
from envkit.context import Settings
from envkit.errors import InputError


def test_redact() -> None:
    assert redact("https://conda.example.com/t/SECRET-123/conda-forge") == "https://conda.example.com/t/***/conda-forge"
    assert redact("https://user:pass@repo.example.com/ch") == "https://***@repo.example.com/ch"
    assert redact("file:///opt/ch") == "file:///opt/ch"
    assert "SECRET" not in redact_text("error fetching https://h/t/SECRET/ch/noarch/repodata.json: 404")


def test_defaults(envkit_settings: Settings) -> None:
    cfg = load_config(envkit_settings)
    assert cfg.channels == [] and cfg.mirrors == {} and cfg.offline is False


def test_sources_merge(envkit_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = Path(envkit_settings.env["XDG_CONFIG_HOME"]) / "envkit" / "envkit.toml"
    user.parent.mkdir(parents=True)
    user.write_text('channels = ["conda-forge"]\n[mirrors]\nnvidia = "http://m/nvidia"\n')
    (envkit_settings.project_dir / "pyproject.toml").write_text(
        '[project]\nname="x"\n[tool.envkit]\noffline = true\n[tool.envkit.mirrors]\nconda-forge = "http://m/cf/"\n'
    )
    cfg = load_config(envkit_settings)
    assert cfg.channels == ["conda-forge"] and cfg.offline is True
    assert cfg.mirrors == {"nvidia": "http://m/nvidia", "conda-forge": "http://m/cf"}
    assert cfg.map_channel("conda-forge") == "http://m/cf"
    assert cfg.map_channel("https://conda.anaconda.org/conda-forge") == "http://m/cf"
    assert cfg.map_channel("pytorch") == "pytorch"
    (envkit_settings.project_dir / "envkit.toml").write_text('offline = false\n')
    assert load_config(envkit_settings).offline is False
    envkit_settings.env["ENVKIT_OFFLINE"] = "1"
    assert load_config(envkit_settings).offline is True


def test_to_json_redacts(envkit_settings: Settings) -> None:
    (envkit_settings.project_dir / "envkit.toml").write_text('[mirrors]\nconda-forge = "https://h/t/SECRET/cf"\n')
    assert "SECRET" not in str(load_config(envkit_settings).to_json())


@pytest.mark.parametrize(
    "text",
    ["channels = 'conda-forge'\n", "offline = 'yes'\n", "[mirrors]\ncf = 1\n", "colour = 1\n", "not toml [\n"],
)
def test_bad_config(envkit_settings: Settings, text: str) -> None:
    (envkit_settings.project_dir / "envkit.toml").write_text(text)
    with pytest.raises(InputError) as ei:
        load_config(envkit_settings)
    assert "envkit.toml" in ei.value.message and ei.value.exit_code == 2
