"""The directory tree Argo CD sent to the sidecar, recognised from its layout.

argocd-cmp-server unpacks every request into a fresh directory ``<work>/_cmp_server/<uuid>``
(``common.GetCMPWorkDir`` and ``files.CreateTempDir``, argo-cd v3.5.1: ``<work>`` is
``$ARGOCD_CMP_WORKDIR``, else the temp dir) and runs the plugin in ``<that dir>/<appRelPath>``.
What it sent is either the whole repository (the default) or, with the repo-server option
``reposerver.plugin.use.manifest.generate.paths``, only the common root of the Application's
path and its ``argocd.argoproj.io/manifest-generate-paths`` annotation
(``reposerver/repository/utils.go: getApplicationRootPath``), without ``.git``. Either way
that unpacked directory is everything the render may read: it is the root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

#: ``common.DefaultCMPWorkDirName`` (argo-cd common/common.go).
CMP_WORK_DIR_NAME = "_cmp_server"
#: The request directory: ``uuid.NewRandom().String()``, canonical lower-case form.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def sent_root(real_app: str) -> str | None:
    """The request directory that holds the real path ``real_app``, or None outside the sidecar.

    The outermost ``_cmp_server/<uuid>`` ancestor wins, so a repository that itself holds such
    directories cannot narrow or widen what counts as the tree Argo CD sent.
    """
    parts = real_app.split(os.sep)
    for i in range(1, len(parts) - 1):
        if parts[i] == CMP_WORK_DIR_NAME and _UUID.fullmatch(parts[i + 1]):
            return os.sep.join(parts[:i + 2]) or os.sep
    return None


def generate_paths_mode(real_app: str, root: str, environ: Mapping[str, str]) -> bool:
    """True when Argo CD sent a subtree (manifest-generate-paths), not the whole repository.

    In the default mode the app sits at ``ARGOCD_APP_SOURCE_PATH`` below what was sent; with
    manifest-generate-paths it sits at that path relative to the common root instead.
    """
    source_path = os.path.normpath(environ.get("ARGOCD_APP_SOURCE_PATH", "") or ".")
    return os.path.relpath(real_app, root) != source_path


def hint(real_app: str, root: str, environ: Mapping[str, str]) -> str | None:
    """What to tell a user whose reference left the subtree Argo CD sent, or None."""
    if not generate_paths_mode(real_app, root, environ):
        return None
    return ("Argo CD sent this render only the common root of the Application's path and its "
            "argocd.argoproj.io/manifest-generate-paths annotation (repo-server option "
            "reposerver.plugin.use.manifest.generate.paths); list every directory the app reads "
            "(bases, components, the cluster profile) in that annotation, separated by ';'")
