"""Problems as text, JSON, GitHub annotations or JUnit XML: formatting only, no decisions."""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape, quoteattr

from .problems import Problem
from .safetext import visible


def text(problems: list[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


def as_json(problems: list[Problem]) -> str:
    return json.dumps([p.as_dict() for p in problems], indent=2, sort_keys=True) + "\n"


def github(problems: list[Problem]) -> str:
    """``::error file=…,line=…::message`` workflow commands, one line each.

    Escaped as GitHub's workflow-command syntax specifies (the runner's ``toolkit/core`` command
    escaping): in the message ``%``, CR and LF become ``%25``, ``%0D``, ``%0A``; in a property
    value ``:`` and ``,`` too (``%3A``, ``%2C``). Every other control and bidi override is shown
    escaped (:func:`cmp.safetext.visible`): the runner's log renders ANSI sequences.
    """
    lines = []
    for p in problems:
        level = "error" if p.level == "error" else "warning"
        props = ",".join(f"{k}={github_property(str(v))}" for k, v in (("file", p.file), ("line", p.line), ("col", p.column)) if v)
        msg = github_data((f"{p.path}: " if p.path else "") + p.message)
        lines.append(f"::{level} {props}::{msg}" if props else f"::{level}::{msg}")
    return "".join(line + "\n" for line in lines)


_BREAKS = {"\r": "%0D", "\n": "%0A"}


def github_data(text: str) -> str:
    """The message of a workflow command (a line break stays one, encoded, in the annotation)."""
    parts = re.split(r"([\r\n])", text.replace("%", "%25"))
    return "".join(_BREAKS.get(part) or visible(part) for part in parts)


def github_property(text: str) -> str:
    """A property value (``file=…``) of a workflow command."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


REPORTERS = {"text": text, "json": as_json, "github": github}

#: What XML 1.0 cannot hold at all, even as a character reference, once :func:`visible` has run:
#: the noncharacters U+FFFE and U+FFFF (``Char`` production of the XML 1.0 specification).
_NOT_XML = re.compile(r"[\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))


def xml_text(text: str) -> str:
    """``text`` safe inside an XML element: shown as :func:`visible` shows it, then escaped."""
    return escape(_xml_safe(text))


def xml_attr(text: str) -> str:
    """``text`` as a quoted XML attribute value (line breaks are already escapes)."""
    return quoteattr(_xml_safe(text))


def junit(apps: list[tuple[str, list[Problem], bool]], suite: str = "kserve-cmp validate") -> str:
    """JUnit XML for CI (GitHub and GitLab test reports): one testsuite, one testcase per app.

    ``apps`` holds each app's path, its problems and whether it failed. A failed app's testcase
    has one ``failure`` whose message is its first error and whose text lists every problem
    (``file:line: message``, one a line); warnings of an app that rendered go to ``system-out``.
    """
    failures = sum(1 for _, _, failed in apps if failed)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f"<testsuites name={xml_attr(suite)} tests=\"{len(apps)}\" failures=\"{failures}\" errors=\"0\">",
             f"  <testsuite name={xml_attr(suite)} tests=\"{len(apps)}\" failures=\"{failures}\" errors=\"0\" "
             "skipped=\"0\">"]
    for path, problems, failed in apps:
        head = f"    <testcase classname={xml_attr(suite)} name={xml_attr(path)} file={xml_attr(path)}"
        body = "\n".join(xml_text(p.format()) for p in problems)
        if failed:
            first = next((p for p in problems if p.level == "error"), problems[0] if problems else None)
            message = first.format() if first else "the app did not render"
            lines += [head + ">", f"      <failure message={xml_attr(message)} type=\"error\">{body}</failure>",
                      "    </testcase>"]
        elif problems:
            lines += [head + ">", f"      <system-out>{body}</system-out>", "    </testcase>"]
        else:
            lines.append(head + "/>")
    lines += ["  </testsuite>", "</testsuites>"]
    return "\n".join(lines) + "\n"
