"""The example apps in ``overlays/`` and the Applications that deploy them, for the Argo CD tests.

The app directories are found by kserve-cmp's own discovery (``cmp.spec.apps``): a pure base is
never deployed on its own. New examples are picked up without touching the tests.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from pathlib import Path
from typing import Iterable

import yaml

from argocd.cmpserver import Application, CmpServer, PluginConfig
from cmp.source.ignore import load
from cmp.spec.apps import closure, find_apps
from helpers import REPO

OVERLAYS = REPO / "overlays"
DEPLOY = REPO / "deploy"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _yaml_docs(path: Path) -> list:
    try:
        return [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) if d]
    except (yaml.YAMLError, UnicodeDecodeError):
        return []


def app_dirs(root: Path = OVERLAYS) -> list[Path]:
    """Every deployable app directory below ``root``, sorted: the product's own discovery
    (``cmp.spec.apps``), the notion ``cmp validate`` and ``cmp diff`` use."""
    return [(REPO / app).resolve() for app in find_apps(str(REPO), [relative(root)], load(str(REPO)))]


def relative(path: Path) -> str:
    """A path as an Application names it: relative to the repository root, with ``/``."""
    return path.resolve().relative_to(REPO).as_posix()


def applications() -> dict[str, Application]:
    """The example Applications of ``deploy/applications``, by source path."""
    apps = {}
    for path in sorted((DEPLOY / "applications").glob("*.yaml")):
        app = Application.from_manifest(_yaml_docs(path)[0])
        apps[app.path] = app
    return apps


def application_for(app_dir: Path) -> Application:
    """The checked-in Application for ``app_dir``, or the one the ApplicationSet would create.

    Without a ``manifest-generate-paths`` annotation the app gets the one its files call for
    (:func:`generate_paths`), so the harness can run it in both Argo CD modes.
    """
    rel = relative(app_dir)
    found = applications().get(rel)
    if found is None:
        name = rel.removeprefix("overlays/").replace("/", "-")
        found = Application(name=name, path=rel, plugin=plugin().reachable_as, dest_namespace="models")
    if not found.generate_paths:
        found = dataclasses.replace(found, generate_paths=generate_paths(app_dir))
    return found


def generate_paths(app_dir: Path, extra: Iterable[Path] = (), root: Path = REPO) -> str:
    """An annotation naming ``app_dir`` and every directory outside it that its kustomizations
    read (``cmp.spec.apps.closure``), plus ``extra`` paths, relative to ``app_dir``."""
    app_dir = app_dir.resolve()
    reads = closure(str(root), os.path.relpath(app_dir, root.resolve()))
    outside = {(root / d).resolve() for d in reads.directories} | {Path(e).resolve() for e in extra}
    return ";".join(["."] + sorted(os.path.relpath(t, app_dir) for t in outside if not t.is_relative_to(app_dir)))


def plugin() -> PluginConfig:
    return PluginConfig.load(REPO / "plugin.yaml")


def sidecar_env(home: Path, bin_dir: str | None = None) -> dict[str, str]:
    """A sidecar container's own env: the installed console scripts on PATH, HOME, HOSTNAME."""
    bin_dir = bin_dir if bin_dir is not None else str(Path(sys.executable).parent)
    return {"PATH": bin_dir + os.pathsep + SYSTEM_PATH, "HOME": str(home), "HOSTNAME": "argocd-repo-server-0"}


#: The two ways Argo CD sends files: the whole repository, or (``reposerver.plugin.use.manifest.
#: generate.paths``) the common root of the Application's manifest-generate-paths.
MODES = {"whole-repository": False, "manifest-generate-paths": True}


def server(tmp: Path, **overrides) -> CmpServer:
    """A CmpServer running this repository's plugin.yaml with a clean sidecar env below ``tmp``."""
    options = {"sidecar_env": sidecar_env(tmp)} | overrides
    return CmpServer(plugin(), temp_root=tmp, **options)


def repo_copy(tmp: Path) -> Path:
    """A model-deployments repository as Argo CD checks it out: the examples, plus a ``.git``."""
    root = tmp / "checkout"
    shutil.copytree(OVERLAYS, root / "overlays")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root
