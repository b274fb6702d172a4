"""``kserve-cmp generate``: the render Argo CD's sidecar runs, in the app directory it extracted.

The output is byte for byte what ``kserve-cmp render`` prints for the same app and settings;
only where the settings come from differs (see ``sources``). A failure message ends with a note
naming the plugin version and the ``kserve-cmp render`` command that reproduces the run outside
Argo CD, because the message is all a user sees in the Argo CD UI.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Mapping

from .. import __version__
from ..pipeline import render
from ..problems import NOTE, CmpError, Problem
from . import cluster
from .sources import Resolved, resolve

SOURCE_PATH = "ARGOCD_APP_SOURCE_PATH"


@dataclass(frozen=True)
class Generated:
    """Manifests for stdout; warnings and a one-line summary for stderr (the sidecar log)."""

    text: str
    warnings: list[Problem]
    summary: str


def generate(environ: Mapping[str, str], app_dir: str = ".") -> Generated:
    """Render ``app_dir`` with settings from ``environ``; CmpError (ending with a note) on failure."""
    resolved: Resolved | None = None
    try:
        resolved = resolve(environ, app_dir)
        cluster.check_kserve_installed(environ)
        result = render(app_dir, resolved.settings)
    except CmpError as exc:
        raise type(exc)(exc.problems + [failure_note(environ, resolved)], exc.warnings) from None
    count = len(result.objects)
    summary = (f"kserve-cmp {__version__} generate: {count} object{'' if count == 1 else 's'}; "
               f"settings: {resolved.summary()}")
    return Generated(result.text, result.warnings, summary)


def failure_note(environ: Mapping[str, str], resolved: Resolved | None) -> Problem:
    """Version, app path and, when the settings were valid, the equivalent local command."""
    path = environ.get(SOURCE_PATH) or "."
    message = f"kserve-cmp {__version__} generate, app path {path}"
    if resolved is not None:
        command = shlex.join(["kserve-cmp", "render", path, *resolved.render_args()])
        message += f"; same render locally: {command}"
    return Problem(message, level=NOTE)
