"""``kserve-cmp render [PATH...]`` with no option, run without click.

The console script (``cmp.launch``) sends here a ``render`` whose arguments are all paths (``-``
is stdin), before click (about 15 ms of imports) is loaded; anything with an option
(``--format``, a setting's flag, ``--help``) goes through ``cmp.cli``. Settings then come from
the environment alone, as they do for ``cmp.cli``'s ``render`` without flags, and the bytes and
exit code are the same (``tests/test_plainrender.py`` runs every golden case both ways).
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from .argocd import run


def outcome(paths: list[str], environ: Mapping[str, str]) -> tuple[str, str, int]:
    """``(stdout, stderr, exit code)`` of ``kserve-cmp render PATHS`` with settings from ``environ``."""

    def action() -> tuple[str, str, int]:
        from .emit import as_text
        from .renders import render_paths
        from .settings import build_settings

        done = render_paths(paths or ["."], build_settings({}, environ), lambda: sys.stdin.buffer)
        text = as_text(done.objects, "yaml")
        return text, run.format_problems(done.warnings), 0

    return run.guarded(action, environ)


def main(paths: list[str]) -> None:
    """Render, write (checked), ``os._exit``: the interpreter's shutdown has nothing left to do."""
    run.end_tools_on_sigterm()
    out, err, code = outcome(paths, os.environ)
    os._exit(run.emit(out, err, code))
