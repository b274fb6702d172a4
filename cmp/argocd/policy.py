"""What an Application may set, and what only the Argo CD admin may set (in the sidecar's env).

Whoever writes an Application is trusted less than the admin who installs the sidecar, and one
sidecar renders every Application. A setting that names a program to run, lets a render reach
the network or lifts a resource limit would let one Application run code in, reach out from or
exhaust that shared sidecar, so those settings come only from the sidecar env. A path that an
Application sets must stay inside the repository Argo CD checked out.
"""

from __future__ import annotations

import os
from typing import Mapping

from ..problems import Problem
from ..settings import SETTINGS, Setting
from ..source import workdir
from ..source.confine import find_repo_root, is_within

#: Settings an Application cannot set, and why.
SIDECAR_ONLY: dict[str, str] = {
    "kustomize": "it names a program the sidecar runs",
    "allow-remote-bases": "it lets a render fetch from the network",
    "max-file-size": "it bounds the memory one render may use",
}


def application_may_set(setting: Setting) -> bool:
    """True for settings an Application's parameters and plugin env may set."""
    return setting.name not in SIDECAR_ONLY


def refused(setting: Setting, origin: str) -> Problem:
    """The problem for an Application that sets a sidecar-only setting."""
    return Problem(f"{origin}: {setting.name} can only be set by the Argo CD admin, in the sidecar's env "
                   f"({setting.env}): {SIDECAR_ONLY[setting.name]}", rule="argocd-policy")


def path_problems(values: Mapping[str, str], app_dir: str, environ: Mapping[str, str]) -> list[Problem]:
    """Path settings set by the Application (``{setting name: value}``) that leave the repository."""
    problems = []
    root = find_repo_root(app_dir, environ)
    real_app = os.path.realpath(app_dir)
    hint = workdir.hint(real_app, root, environ) if root == workdir.sent_root(real_app) else None
    for setting in SETTINGS:
        value = values.get(setting.name)
        if setting.kind != "path" or not value:
            continue
        if os.path.isabs(value) or not is_within(os.path.realpath(os.path.join(app_dir, value)), root):
            problems.append(Problem(f"{setting.name}: {value!r} must be a path inside the repository, relative "
                                    "to the app directory (a file elsewhere in the sidecar can only be named by "
                                    f"the Argo CD admin, in the sidecar's env {setting.env})"
                                    + (f"; {hint}" if hint else ""), rule="argocd-policy"))
    return problems
