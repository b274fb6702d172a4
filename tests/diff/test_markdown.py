"""The PR comment: escaping, and the size budget that never breaks the Markdown."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cmp.diff.markdown import code, fence_for, render_markdown, render_markdown_parts, size
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
    """One comment (max_parts=1): within the budget, well formed, a notice exactly when cut."""
    [markdown] = render_markdown_parts(_report(apps, lines, text, unchanged), budget, max_parts=1)
    assert size(markdown) <= budget
    assert _well_formed(markdown)
    full = render_markdown(_report(apps, lines, text, unchanged), 10**9)
    sections = markdown.split("\nUnchanged: ")[0]  # the list of unchanged apps shrinks to a count
    assert ("[!WARNING]" in markdown) == (sections != full.split("\nUnchanged: ")[0])


def _object_titles(markdown: str) -> list[str]:
    return re.findall(r"^#### .*$", markdown, re.M)


@settings(max_examples=60, deadline=None)
@given(apps=st.integers(1, 12), lines=st.integers(1, 60), budget=st.integers(2000, 12000),
       text=st.text(alphabet="ab`<|😀\\*", min_size=1, max_size=12))
def test_parts_each_fit_hold_whole_objects_and_lose_nothing(apps, lines, budget, text) -> None:
    """Split in parts: each within the budget and well formed, numbered, each object diff whole in
    exactly one part (unless one object alone is larger than a part), nothing left out."""
    report = _report(apps, lines, text)
    parts = render_markdown_parts(report, budget, key="k", max_parts=100)
    whole = render_markdown(report, 10**9, key="k")
    assert parts[0].startswith("<!-- kserve-cmp-diff:k -->\n")
    for number, part in enumerate(parts, 1):
        assert size(part) <= budget and _well_formed(part), number
        if len(parts) > 1:
            assert f"part {number} of {len(parts)}" in part
        if number > 1:
            assert part.startswith(f"<!-- kserve-cmp-diff:k part {number} -->\n")
    assert "[!WARNING]" not in "".join(parts)
    titles = [t for part in parts for t in _object_titles(part)]
    assert titles == _object_titles(whole)
    cut = "more lines cut" in "".join(parts)
    if not cut:
        for title in titles:
            block = whole.split(title, 1)[1].split("\n#### ", 1)[0].split("</details>", 1)[0]
            assert sum(block in part for part in parts) == 1, title


def test_too_many_parts_end_with_a_notice() -> None:
    parts = render_markdown_parts(_report(12, 60, "x"), 2000, max_parts=2)
    assert len(parts) == 2 and all(size(p) <= 2000 for p in parts)
    assert "[!WARNING]" in parts[-1] and "did not fit in 2 comments" in parts[-1]


def test_the_marker_carries_the_key() -> None:
    assert render_markdown(DiffReport("a", "b"), key="prod").startswith("<!-- kserve-cmp-diff:prod -->\n")
