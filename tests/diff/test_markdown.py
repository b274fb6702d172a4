"""The PR comment: escaping, and the size budget that never breaks the Markdown."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cmp.diff.markdown import code, fence_for, render_markdown, size
from cmp.diff.match import ObjectId
from cmp.diff.result import AppDiff, DiffReport, ModelDiff, ObjectDiff, Row, SideError


def test_code_spans_hold_backticks() -> None:
    assert code("plain") == "`plain`"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("") == "*none*"


def test_fences_outlast_backtick_runs() -> None:
    assert fence_for(["no ticks"]) == "```"
    assert fence_for(["````inner"]) == "`````"


def test_size_counts_utf16_units() -> None:
    assert size("a→😀") == 4


def _report(apps: int, lines: int, text: str, unchanged: int = 0) -> DiffReport:
    report = DiffReport("main (1234567)", "working tree")
    report.apps += [AppDiff(f"apps/unchanged-{text}-{i}") for i in range(unchanged)]
    for i in range(apps):
        ident = ObjectId("", "ConfigMap", "ns", f"cfg-{i}")
        old = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cfg-{i}", "namespace": "ns"},
               "data": {f"k{j}": f"{text} {j}" for j in range(lines)}}
        new = {**old, "data": {f"k{j}": f"{text} {j + 1}" for j in range(lines)}}
        app = AppDiff(f"apps/{text}{i}", objects=[ObjectDiff("changed", ident, ident, old, new)])
        app.models.append(ModelDiff("changed", f"ns/m{i}", "", "rt", "img", (Row("--x", text, "2"),)))
        if i % 3 == 2:
            app.errors.append(SideError("base", (f"{text} failed",)))
        report.apps.append(app)
    return report


def _well_formed(markdown: str) -> bool:
    fence = None
    for line in markdown.splitlines():
        found = re.match(r"^(`{3,})", line)
        if found and fence is None:
            fence = found.group(1)
        elif found and line.strip() == fence:
            fence = None
    return fence is None and markdown.count("<details") == markdown.count("</details>")


@settings(max_examples=60, deadline=None)
@given(apps=st.integers(1, 8), lines=st.integers(1, 80), budget=st.integers(2000, 12000),
       text=st.text(alphabet="ab`<|😀\\*", min_size=1, max_size=12), unchanged=st.integers(0, 200))
def test_any_report_fits_its_budget_and_stays_well_formed(apps, lines, budget, text, unchanged) -> None:
    markdown = render_markdown(_report(apps, lines, text, unchanged), budget)
    assert size(markdown) <= budget
    assert _well_formed(markdown)
    full = render_markdown(_report(apps, lines, text, unchanged), 10**9)
    sections = markdown.split("\nUnchanged: ")[0]  # the list of unchanged apps shrinks to a count
    assert ("[!WARNING]" in markdown) == (sections != full.split("\nUnchanged: ")[0])


def test_the_marker_carries_the_key() -> None:
    assert render_markdown(DiffReport("a", "b"), key="prod").startswith("<!-- kserve-cmp-diff:prod -->\n")
