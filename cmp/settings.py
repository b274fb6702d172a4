"""Render settings: one table that the CLI, the Argo CD entry point and the docs all read.

Every setting has a name (``--name`` on the command line, parameter ``name`` in Argo CD), a
sidecar environment variable (``KSERVE_CMP_NAME``), a default applied here in code and a meaning.
Where the values come from (flags, Argo CD parameters, env) is decided by the callers; this
module only knows the table and how to turn strings into typed values.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from typing import Any

from .problems import UsageError

_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")   # used with fullmatch


@dataclass(frozen=True)
class Setting:
    name: str           # parameter name, kebab-case
    default: Any
    kind: str           # "string" | "bool" | "int" | "path"
    meaning: str
    bounds: tuple[int, int] = (1, 2**31 - 1)   # an "int" setting's smallest and largest value

    @property
    def env(self) -> str:
        return "KSERVE_CMP_" + self.name.upper().replace("-", "_")

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("namespace", "", "string",
            "Namespace for namespaced objects whose input has none, raw objects included (Argo CD: the "
            "Application's destination namespace)."),
    Setting("cluster-profile", "", "path",
            "ClusterProfile file describing the target cluster (Knative autoscaler config, KServe version)."),
    Setting("kustomize", "", "string",
            "kustomize binary to run; empty: `kustomize` on PATH, else `kubectl kustomize`."),
    Setting("kustomize-timeout", 30, "int",
            "Seconds one `kustomize build` may take before the render fails (1 to 3600).", (1, 3600)),
    Setting("allow-remote-bases", False, "bool",
            "Let kustomizations load remote bases (git/http URLs). Off: such a kustomization is an error."),
    Setting("allow-empty", False, "bool", "Succeed with no output when an app renders zero objects."),
    Setting("max-file-size", 4 * 1024 * 1024, "int", "Largest input file read, in bytes (1 to 1 GiB).",
            (1, 1 << 30)),
    Setting("repeatable-flags", "", "string",
            "Comma-separated flags never de-duplicated, on top of the built-in lists; `RUNTIME:--flag` "
            "limits one to a runtime."),
)

BY_NAME = {s.name: s for s in SETTINGS}


def parse_value(setting: Setting, raw: Any) -> Any:
    """A raw value (from a flag, env var or parameter) as the setting's type; ValueError if it is not one."""
    if raw is None:
        return setting.default
    if setting.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off", ""):
            return False
        raise ValueError(f"{setting.name}: expected true or false, got {raw!r}")
    if setting.kind == "int":
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"{setting.name}: expected an integer, got {raw!r}") from None
        low, high = setting.bounds
        if value <= 0:
            raise ValueError(f"{setting.name}: must be positive, got {value}")
        if not low <= value <= high:
            raise ValueError(f"{setting.name}: must be between {low} and {high}, got {value}")
        return value
    text = str(raw)
    if setting.name == "namespace" and text and not _NAMESPACE.fullmatch(text):
        raise ValueError(f"namespace: {text!r} is not a valid namespace name (RFC 1123 label: at most 63 "
                         f"lower-case letters, digits and '-', starting and ending with a letter or digit)")
    return text


@dataclass(frozen=True)
class Settings:
    namespace: str = ""
    cluster_profile: str = ""
    kustomize: str = ""
    kustomize_timeout: int = 30
    allow_remote_bases: bool = False
    allow_empty: bool = False
    max_file_size: int = 4 * 1024 * 1024
    repeatable_flags: str = ""

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> "Settings":
        """Typed settings from ``{setting-name: raw value}``; unknown names are a ValueError."""
        values = {}
        for name, value in raw.items():
            if name not in BY_NAME:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(BY_NAME))}")
            values[BY_NAME[name].attr] = parse_value(BY_NAME[name], value)
        return cls(**values)


assert {f.name for f in fields(Settings)} == {s.attr for s in SETTINGS}
assert all(getattr(Settings(), s.attr) == s.default for s in SETTINGS)


def build_settings(options: dict[str, Any], environ: dict[str, str] | None = None) -> Settings:
    """Flags > KSERVE_CMP_* env > defaults; the namespace falls back to ARGOCD_APP_NAMESPACE.

    That fallback makes a local render inside an Argo CD-like environment name objects the way
    the sidecar would (``kserve-cmp generate`` applies Argo CD's full precedence).
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for setting in BY_NAME.values():
        value = options.get(setting.attr)
        if value is None:
            value = environ.get(setting.env)
        if value is not None:
            raw[setting.name] = value
    if not raw.get("namespace") and environ.get("ARGOCD_APP_NAMESPACE"):
        raw["namespace"] = environ["ARGOCD_APP_NAMESPACE"]
    try:
        return Settings.from_raw(raw)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
