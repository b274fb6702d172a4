"""Plugin parameters as Argo CD sends them: ``ARGOCD_APP_PARAMETERS`` (JSON) or ``PARAM_*`` variables.

Argo CD sends only the parameters an Application sets (announced defaults are never sent). It
sends each one twice: in the JSON list and as ``PARAM_<NAME>`` variables. The JSON keeps the
exact names, so it is the source when present; the variables serve runs without it (an older
Argo CD, or a hand-made environment). Every kserve-cmp parameter is a plain string; a name we
do not know, or an array or map value, is an error rather than something silently ignored.
"""

from __future__ import annotations

import json
import re
from typing import Mapping

from ..problems import Problem, UsageError
from ..settings import BY_NAME

APP_PARAMETERS = "ARGOCD_APP_PARAMETERS"
PARAM_PREFIX = "PARAM_"


def escape_name(name: str) -> str:
    """The ``PARAM_`` variable stem Argo CD derives from a parameter name (upper-case, ``[^A-Z0-9_]`` -> ``_``)."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def param_env(name: str) -> str:
    """``PARAM_<ESCAPED NAME>``: the variable carrying string parameter ``name``."""
    return PARAM_PREFIX + escape_name(name)


def decode(environ: Mapping[str, str]) -> dict[str, str]:
    """``{parameter name: value}`` of the kserve-cmp parameters the Application sets."""
    if APP_PARAMETERS in environ:
        return _from_json(environ[APP_PARAMETERS])
    return {name: environ[param_env(name)] for name in sorted(BY_NAME) if param_env(name) in environ}


def _from_json(text: str) -> dict[str, str]:
    try:
        entries = json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        raise UsageError(_problem(f"{APP_PARAMETERS} is not valid JSON: {exc.msg} (char {exc.pos})")) from None
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise UsageError(_problem(f"{APP_PARAMETERS} must be a JSON list, got {type(entries).__name__}"))
    values: dict[str, str] = {}
    problems = []
    for entry in entries:
        error = _entry_error(entry)
        if error:
            problems.append(_problem(error))
        else:
            values[entry["name"]] = entry["string"]
    if problems:
        raise UsageError(problems)
    return values


def _entry_error(entry: object) -> str | None:
    """Why one parameter entry is unusable, or None."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return f"{APP_PARAMETERS}: every entry needs a name, got {json.dumps(entry)}"
    name = entry["name"]
    if name not in BY_NAME:
        return f"unknown parameter {name!r}{_did_you_mean(name)}; known: {', '.join(sorted(BY_NAME))}"
    if "array" in entry or "map" in entry or not isinstance(entry.get("string"), str):
        return f"parameter {name!r} takes a string (`string: ...`), not an array or a map"
    return None


def _did_you_mean(name: str) -> str:
    import difflib  # a suggestion for a typo only

    close = difflib.get_close_matches(name, sorted(BY_NAME), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _problem(message: str) -> Problem:
    return Problem(message, rule="argocd-parameters")
