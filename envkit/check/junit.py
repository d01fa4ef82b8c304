"""JUnit XML for ``envkit check --junit FILE``: one test case per environment x target x step.

Test suites are environments; a case is named ``<target> :: <step>`` with classname
``envkit.check.<environment>``. Failures carry the reason as message and text; skips carry it too.
GitHub Actions (test-reporter actions), GitLab (``artifacts:reports:junit``) and Jenkins read this.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from envkit.check.steps import FAIL, SKIP, Row
from envkit.fsutil import write_atomic


def junit_xml(rows: Iterable[Row], seconds: float = 0.0) -> str:
    rows = list(rows)
    root = ET.Element("testsuites", name="envkit check")
    by_env: dict[str, list[Row]] = {}
    for r in rows:
        by_env.setdefault(r.environment, []).append(r)
    total_fail = total_skip = 0
    for env, env_rows in by_env.items():
        fails = sum(r.status == FAIL for r in env_rows)
        skips = sum(r.status == SKIP for r in env_rows)
        total_fail += fails
        total_skip += skips
        suite = ET.SubElement(
            root, "testsuite", name=env, tests=str(len(env_rows)), failures=str(fails), errors="0", skipped=str(skips)
        )
        for r in env_rows:
            case = ET.SubElement(suite, "testcase", classname=f"envkit.check.{env}", name=f"{r.target} :: {r.step}",
                                 time="0")
            if r.status == FAIL:
                first = r.reason.splitlines()[0] if r.reason else "failed"
                el = ET.SubElement(case, "failure", message=first, type=f"envkit.{r.step}")
                el.text = r.reason
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=r.reason)
            if r.from_cache:
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="from_cache", value="true")
    root.set("tests", str(len(rows)))
    root.set("failures", str(total_fail))
    root.set("skipped", str(total_skip))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, rows: Iterable[Row], seconds: float = 0.0) -> None:
    write_atomic(path, junit_xml(rows, seconds))
