"""Settings for a diff as the Argo CD sidecar would resolve them for one Application.

``--param NAME=VALUE`` stands for a plugin parameter of the Application, ``--env NAME=VALUE``
for an entry of its ``plugin.env`` (Argo CD passes it as ``ARGOCD_ENV_NAME``); ``KSERVE_CMP_*``
variables of this process play the sidecar container's own env. They are resolved by
:func:`cmp.argocd.sources.resolve`, the code ``generate`` runs, so a mistake the sidecar would
refuse is refused here too. Options given on the command line (``--namespace`` ...) win over all.

A ``cluster-profile`` path the Application sets is, as in the sidecar, a repository path relative
to the app directory: it stays relative here, and each app reads it from its own directory on
each side (see :func:`cmp.diff.compare.app_settings`). One named by an option or by the sidecar
env is a file where ``cmp diff`` runs, the same for both sides: it is made absolute.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Mapping

from ..argocd import params, sources
from ..problems import UsageError
from ..settings import BY_NAME, SETTINGS, Settings, parse_value


def split_pair(item: str, option: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (NAME, VALUE); a UsageError naming the option otherwise."""
    name, eq, value = item.partition("=")
    if not eq or not name:
        raise UsageError(f"{option} {item!r}: expected NAME=VALUE")
    return name, value


def sidecar_environ(parameters: list[str], app_env: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """The variables the sidecar's ``generate`` would see for these parameters and plugin env."""
    out = {k: v for k, v in environ.items() if k.startswith("KSERVE_CMP_")}
    for item in app_env:
        name, value = split_pair(item, "--env")
        out[sources.APP_ENV_PREFIX + name] = value
    if parameters:
        entries = [dict(zip(("name", "string"), split_pair(p, "--param"))) for p in parameters]
        out[params.APP_PARAMETERS] = json.dumps(entries, separators=(",", ":"), sort_keys=True)
    return out


def diff_settings(options: dict[str, Any], parameters: list[str], app_env: list[str],
                  environ: Mapping[str, str]) -> Settings:
    """Sidecar resolution of parameters and env, then the explicit command-line options over it."""
    resolved = sources.resolve(sidecar_environ(parameters, app_env, environ), check_paths=False)
    explicit = {}
    for setting in SETTINGS:
        raw = options.get(setting.attr)
        if raw is not None:
            try:
                explicit[setting.attr] = parse_value(BY_NAME[setting.name], raw)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    settings = dataclasses.replace(resolved.settings, **explicit)
    app_relative = "cluster_profile" not in explicit and resolved.by_application("cluster-profile")
    if settings.cluster_profile and not app_relative:
        settings = dataclasses.replace(settings, cluster_profile=os.path.abspath(settings.cluster_profile))
    return settings
