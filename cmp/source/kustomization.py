"""Which directories are kustomize apps: the file names ``kustomize build`` looks for.

Apart from ``cmp.source.kustomize`` (which runs the build) so that reading a plain directory
imports nothing of what running a build needs (``subprocess``, ``tempfile``, ``shutil``).
"""

from __future__ import annotations

import os

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None
