"""The parameter announcements of ``plugin.yaml``, built from the settings table.

Argo CD shows announcements in the Application's Parameters tab but never sends their
defaults back, so each announced default must be exactly the default applied in code: both
come from :data:`cmp.settings.SETTINGS`. Settings only the admin may set (``policy``) are not
announced. A test compares ``plugin.yaml`` with :func:`announcements`.
"""

from __future__ import annotations

from ..settings import SETTINGS, Setting
from .policy import application_may_set

#: Argo CD's UI hint for non-string values (values always arrive as strings).
ITEM_TYPES = {"bool": "boolean", "int": "number"}


def default_text(setting: Setting) -> str:
    """A default as Argo CD carries it: a string (``true``/``false`` for booleans)."""
    if setting.kind == "bool":
        return "true" if setting.default else "false"
    return str(setting.default)


def title(setting: Setting) -> str:
    """``kustomize-timeout`` -> ``Kustomize timeout``."""
    words = setting.name.replace("-", " ")
    return words[:1].upper() + words[1:]


def announcement(setting: Setting) -> dict:
    """One static parameter announcement (string collection type, the default as ``string``)."""
    entry = {"name": setting.name, "title": title(setting), "tooltip": setting.meaning,
             "string": default_text(setting)}
    if setting.kind in ITEM_TYPES:
        entry["itemType"] = ITEM_TYPES[setting.kind]
    return entry


def announcements() -> list[dict]:
    """The announcement of every setting an Application may set, in table order."""
    return [announcement(s) for s in SETTINGS if application_may_set(s)]
