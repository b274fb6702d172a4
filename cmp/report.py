"""Problems as text, JSON or GitHub annotations: formatting only, no decisions."""

from __future__ import annotations

import json

from .problems import Problem


def text(problems: list[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


def as_json(problems: list[Problem]) -> str:
    return json.dumps([p.as_dict() for p in problems], indent=2, sort_keys=True) + "\n"


def github(problems: list[Problem]) -> str:
    """``::error file=…,line=…::message`` workflow commands."""
    lines = []
    for p in problems:
        level = "error" if p.level == "error" else "warning"
        loc = ",".join(f"{k}={v}" for k, v in (("file", p.file), ("line", p.line)) if v)
        msg = (f"{p.path}: " if p.path else "") + p.message
        lines.append(f"::{level} {loc}::{msg.replace(chr(10), '%0A')}".replace(f"::{level} ::", f"::{level}::"))
    return "".join(line + "\n" for line in lines)


REPORTERS = {"text": text, "json": as_json, "github": github}
