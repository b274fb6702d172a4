"""Where each setting comes from inside the sidecar, strongest first.

1. the Application's plugin parameter (``ARGOCD_APP_PARAMETERS`` / ``PARAM_*``, see ``params``);
2. the Application's plugin env ``KSERVE_CMP_<NAME>``, which arrives as ``ARGOCD_ENV_KSERVE_CMP_<NAME>``;
3. for ``namespace`` only: the Application's destination namespace (``ARGOCD_APP_NAMESPACE``);
4. the sidecar container's own env ``KSERVE_CMP_<NAME>`` (admin-wide defaults);
5. the default of the settings table.

An empty value counts as not set (Argo CD versions differ in whether they pass empty variables
at all), so the next source applies. Mistakes that would otherwise be silently ignored, such as
a doubled ``ARGOCD_ENV_`` prefix or a misspelt ``KSERVE_CMP_`` name, are errors, and so is an
Application that sets what only the admin may set (see ``policy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..problems import Problem, UsageError
from ..settings import SETTINGS, Setting, Settings, parse_value
from . import params, policy

APP_ENV_PREFIX = "ARGOCD_ENV_"
APP_NAMESPACE = "ARGOCD_APP_NAMESPACE"
DEFAULT = "default"
PARAMETER = "parameter "


def app_env(setting: Setting) -> str:
    """The variable a setting from the Application's ``plugin.env`` arrives as."""
    return APP_ENV_PREFIX + setting.env


@dataclass(frozen=True)
class Resolved:
    """Typed settings plus, per setting name, the source its value came from."""

    settings: Settings
    origins: dict[str, str]

    def by_application(self, name: str) -> bool:
        """True when setting ``name`` came from the Application (a parameter or its plugin env)."""
        return self.origins[name].startswith((PARAMETER, APP_ENV_PREFIX))

    def explicit(self) -> list[Setting]:
        """The settings whose value did not come from the defaults, in table order."""
        return [s for s in SETTINGS if self.origins[s.name] != DEFAULT]

    def summary(self) -> str:
        """``name=value (source)`` for every non-default setting, or ``all defaults``."""
        parts = [f"{s.name}={getattr(self.settings, s.attr)} ({self.origins[s.name]})" for s in self.explicit()]
        return ", ".join(parts) or "all defaults"

    def render_args(self) -> list[str]:
        """``kserve-cmp render`` options that reproduce these settings outside Argo CD."""
        args: list[str] = []
        for setting in self.explicit():
            value = getattr(self.settings, setting.attr)
            if setting.kind == "bool":
                args.extend([f"--{setting.name}"] if value else [])
            else:
                args.extend([f"--{setting.name}", str(value)])
        return args


def resolve(environ: Mapping[str, str], app_dir: str = ".", *, check_paths: bool = True) -> Resolved:
    """Settings for one ``generate`` run in ``app_dir``; UsageError lists every mistake.

    ``check_paths=False`` leaves the check that Application paths stay in the repository to a
    caller that knows the app directories only later (``cmp diff``).
    """
    problems = app_env_problems(environ)
    try:
        parameters = params.decode(environ)
    except UsageError as exc:
        problems.extend(exc.problems)
        parameters = {}
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    from_application: dict[str, str] = {}
    for setting in SETTINGS:
        origin, raw, by_application = _choose(setting, _candidates(setting, environ, parameters), problems)
        try:
            values[setting.attr] = parse_value(setting, raw)
        except ValueError as exc:
            problems.append(Problem(f"{exc} (from {origin})", rule="settings"))
        origins[setting.name] = origin
        if by_application:
            from_application[setting.name] = raw
    if check_paths:
        problems.extend(policy.path_problems(from_application, app_dir, environ))
    if problems:
        raise UsageError(problems)
    return Resolved(Settings(**values), origins)


def _choose(setting: Setting, candidates: list[tuple[str, str, bool]],
            problems: list[Problem]) -> tuple[str, str | None, bool]:
    """The strongest candidate the source may set; the refused ones become problems."""
    for origin, raw, by_application in candidates:
        if by_application and not policy.application_may_set(setting):
            problems.append(policy.refused(setting, origin))
        else:
            return origin, raw, by_application
    return DEFAULT, None, False


def _candidates(setting: Setting, environ: Mapping[str, str],
                parameters: dict[str, str]) -> list[tuple[str, str, bool]]:
    """``(source, raw value, set by the Application)`` of every source that sets ``setting``, strongest first."""
    candidates = [
        (f"{PARAMETER}{setting.name}", parameters.get(setting.name), True),
        (app_env(setting), environ.get(app_env(setting)), True),
    ]
    if setting.name == "namespace":
        # The Application's own destination beats an admin-wide default: one KSERVE_CMP_NAMESPACE
        # in the sidecar must not move every Application's objects.
        candidates.append((APP_NAMESPACE, environ.get(APP_NAMESPACE), False))
    candidates.append((setting.env, environ.get(setting.env), False))
    return [(origin, raw, by_app) for origin, raw, by_app in candidates if raw]


def app_env_problems(environ: Mapping[str, str]) -> list[Problem]:
    """Application env entries that look meant for kserve-cmp but would be ignored."""
    known = {s.env for s in SETTINGS}
    by_param = {params.escape_name(s.name): s for s in SETTINGS}
    problems = []
    for key in sorted(environ):
        if not key.startswith(APP_ENV_PREFIX):
            continue
        name = key[len(APP_ENV_PREFIX):]
        if name.startswith(APP_ENV_PREFIX):
            problems.append(f"{key}: the Application's plugin.env entry is named {name!r}; name it "
                            f"{name[len(APP_ENV_PREFIX):]!r} (Argo CD adds the {APP_ENV_PREFIX} prefix itself)")
        elif name.startswith("KSERVE_CMP_") and name not in known:
            import difflib  # a suggestion for a typo only

            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{key}: unknown setting {name!r}{hint}; known: {', '.join(sorted(known))}")
        elif name in by_param:
            setting = by_param[name]
            problems.append(f"{key}: kserve-cmp does not read {name!r}; name the plugin.env entry "
                            f"{setting.env!r}, or set parameter {setting.name!r}")
    return [Problem(message, rule="argocd-env") for message in problems]
