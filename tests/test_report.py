"""cmp.report: validate's JUnit XML (the other reporters' escaping: tests/test_safetext.py)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers import SKLEARN_MODEL, run_cli, write_app


def test_validate_junit_is_one_suite_with_a_testcase_perwrite_app(tmp_path: Path) -> None:
    good = write_app(tmp_path / "good")
    bad = write_app(tmp_path / "bad", SKLEARN_MODEL.replace("sklearn\n", "sklearn\n    bogus: 1\n"))
    done = run_cli(["validate", "--format", "junit", str(good), str(bad)])
    assert done.exit_code == 1
    root = ET.fromstring(done.stdout.encode())
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = list(root)
    assert suite.tag == "testsuite" and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {os.path.normpath(c.get("name")): c for c in suite}
    assert set(cases) == {str(good), str(bad)} and all(c.tag == "testcase" for c in suite)
    assert list(cases[str(good)]) == [] and cases[str(bad)].get("file") == cases[str(bad)].get("name")
    (failure,) = list(cases[str(bad)])
    assert failure.tag == "failure" and failure.get("type") == "error"
    assert failure.get("message").startswith(f"{bad}/app.yaml:9: spec.model.bogus:")
    assert failure.text.startswith(f"{bad}/app.yaml:9: spec.model.bogus:")


def test_validate_junit_escapes_hostile_text(tmp_path: Path) -> None:
    """Markup, controls (ESC), line breaks and XML's forbidden characters in a problem stay text."""
    name = "x<y>&\"'\x1b[31m\u202e\ufffe\n</failure>"
    app = write_app(tmp_path / "bad", SKLEARN_MODEL.replace("sklearn\n", f"sklearn\n    {json.dumps(name)}: 1\n"))
    done = run_cli(["validate", "--format", "junit", str(app)])
    assert done.exit_code == 1
    failure = ET.fromstring(done.stdout.encode()).find("testsuite/testcase/failure")
    assert failure is not None and len(list(failure)) == 0
    for text in (failure.text, failure.get("message")):
        assert 'x<y>&"' in text and "\\x1b[31m" in text and "\\u202e" in text and "\\ufffe" in text
        assert "\\n</failure>" in text and "\x1b" not in text and "\n" not in text.strip()
