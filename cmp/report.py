"""Problems as text, JSON or GitHub annotations: formatting only, no decisions."""

from __future__ import annotations

import json
import re

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
