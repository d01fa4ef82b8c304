"""JUnit report: one test case per environment x target x step; failures and skips carry the reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from envkit.check.junit import junit_xml, write_junit
from envkit.check.steps import Row


def test_junit_structure(tmp_path: Path) -> None:
    rows = [
        Row("a", "linux-64", "solve", "pass", "6 packages"),
        Row("a", "linux-64", "lock", "fail", "missing on mirror http://m (of http://u): x-1-0.conda (linux-64)\nmore",
            True),
        Row("b", "linux-aarch64", "pip", "skip", "no pip dependencies"),
    ]
    root = ET.fromstring(junit_xml(rows, 1.5))
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("skipped") == "1"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["a", "b"]
    case = suites[0].findall("testcase")[1]
    assert case.get("classname") == "envkit.check.a" and case.get("name") == "linux-64 :: lock"
    fail = case.find("failure")
    assert fail is not None and fail.get("message", "").startswith("missing on mirror") and "\n" not in fail.get(
        "message", "")
    assert fail.text and fail.text.endswith("more")
    assert case.find("properties/property").get("name") == "from_cache"  # type: ignore[union-attr]
    skipped = suites[1].find("testcase/skipped")
    assert skipped is not None and skipped.get("message") == "no pip dependencies"
    out = tmp_path / "sub" / "report.xml"
    write_junit(out, rows)
    assert ET.parse(out).getroot().tag == "testsuites"
