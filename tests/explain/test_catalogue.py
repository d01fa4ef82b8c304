"""The catalogue is data checked strictly (file:line:key errors), and teams add their own overlay files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from envkit.cli import main
from envkit.explain import explain_text
from envkit.explain.catalogue import CatalogueError, load_catalogue, loads_catalogue, packaged_catalogue

HEAD = """\
schema_version: 1
catalogue_version: "t.1"
classes: {demo: "a demo class"}
sources: {S: https://example.org/s}
entries:
"""

ENTRY = """\
  - id: demo-entry
    class: demo
    certainty: likely
    title: a demo failure
    match: ['demo failure with code (?P<code>\\d+)']
    facts: {code: int}
    cause: "code {code}"
    fix: ["do {code}"]
    source: [S]
"""


def test_shipped_catalogue_loads_and_every_entry_has_a_source() -> None:
    cat = load_catalogue(None, {})
    assert len(cat.entries) >= 40
    assert set(cat.classes) == {"nvidia-driver", "cuda", "cudnn", "tensorrt-install", "trt-engine", "trt-build",
                                "solve"}
    for e in cat.entries:
        assert e.source and all(cat.sources[k].startswith("https://") for k in e.source), e.id


def test_a_minimal_catalogue() -> None:
    cat = loads_catalogue(HEAD + ENTRY)
    assert cat.entries[0].id == "demo-entry"


@pytest.mark.parametrize(("change", "where", "message"), [
    (("certainty: likely", "certainty: sure"), "entries[0].certainty", "certainty is one of"),
    (("class: demo", "class: dmeo"), "demo-entry.class", "unknown class 'dmeo'"),
    (("source: [S]", "source: [T]"), "demo-entry.source", "unknown source 'T'"),
    (('fix: ["do {code}"]', 'fix: ["do {cdoe}"]'), "demo-entry", "placeholder {cdoe}"),
    (("(?P<code>\\d+)", "(?P<code>\\d+"), "entries[0].match.0", "not a valid regular expression"),
    (("demo failure with code ", "(?:a|b)"), "entries[0].match.0", "fixed phrase of 4+"),
    (("title: a demo failure", "titel: a demo failure"), "entries[0].titel", "unknown key 'titel'"),
    (("facts: {code: int}", "facts: {code: integer}"), "entries[0].facts.code", "unknown fact type"),
    (('fix: ["do {code}"]', 'fix: [["always", "do {code}"]]'), "entries[0].fix[0][0]", "always applies"),
])
def test_bad_catalogue_names_file_line_and_key(change: tuple[str, str], where: str, message: str) -> None:
    text = HEAD + ENTRY.replace(*change)
    assert text != HEAD + ENTRY
    with pytest.raises(CatalogueError) as err:
        loads_catalogue(text, "team.yaml")
    assert err.value.message.startswith("team.yaml:"), err.value.message
    assert where in err.value.message and message in err.value.message, err.value.message
    assert err.value.exit_code == 2


def test_duplicate_entry_id_in_one_file() -> None:
    with pytest.raises(CatalogueError, match="duplicate entry id 'demo-entry'"):
        loads_catalogue(HEAD + ENTRY + ENTRY)


def _project_with_overlay(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "proj" / "environments" / "explain.d"
    d.mkdir(parents=True)
    (d / "team.yaml").write_text(textwrap.dedent(text))
    return tmp_path / "proj"


OVERLAY = """\
schema_version: 1
sources: {TEAM-WIKI: https://wiki.example.org/gpu/quota}
entries:
  - id: team-gpu-quota
    class: nvidia-driver
    certainty: certain
    title: "the cluster's GPU quota is used up"
    match: ['GPU quota exceeded for project (?P<project>[\\w-]+)']
    cause: "project {project} has no GPU hours left"
    fix: ["ask #gpu-admins to raise the quota of {project}"]
    source: [TEAM-WIKI]
  - id: smi-no-devices
    class: nvidia-driver
    certainty: likely
    title: "no GPU in this pod"
    match: ['No devices were found']
    cause: "pods of this cluster get GPUs only with a gpu request"
    fix: ["add resources.limits nvidia.com/gpu: 1"]
    source: [TEAM-WIKI]
"""


def test_team_overlay_adds_and_replaces_entries(tmp_path: Path) -> None:
    project = _project_with_overlay(tmp_path, OVERLAY)
    cat = load_catalogue(project, {})
    assert cat.entry("team-gpu-quota") is not None
    assert cat.entry("smi-no-devices").title == "no GPU in this pod"  # type: ignore[union-attr]
    assert any("replaces the shipped one" in n for n in cat.notes)
    result = explain_text("job 17: GPU quota exceeded for project vision-team\n", catalogue=cat)
    assert result.diagnoses[0].fixes == ["ask #gpu-admins to raise the quota of vision-team"]


def test_check_catalogue_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project_with_overlay(tmp_path, OVERLAY)
    assert main(["--project", str(project), "explain", "--check-catalogue"]) == 0
    out = capsys.readouterr().out
    assert "team.yaml" in out and "replaces the shipped one" in out
    (project / "environments" / "explain.d" / "team.yaml").write_text(OVERLAY.replace("certainty: certain", "certainty: 5"))
    assert main(["--project", str(project), "explain", "--check-catalogue"]) == 2
    err = capsys.readouterr().err
    assert "team.yaml:" in err and "entries[0].certainty" in err


def test_catalogue_ships_inside_the_package() -> None:
    assert packaged_catalogue().parent.name == "explain"
    assert packaged_catalogue().is_file()
